/*
 * strlist.h - a growable list of owned strings.
 */
#ifndef SL_STRLIST_H
#define SL_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

struct sl_strlist {
    char **v;   /* n strings, each owned */
    size_t n;
    size_t cap;
};

/* Append a copy of s.  Returns 0, so it can serve as a catalog callback. */
int sl_strlist_add(void *list, const char *s);
bool sl_strlist_has(const struct sl_strlist *l, const char *s);
/* Free the strings and the array; the list is empty again. */
void sl_strlist_release(struct sl_strlist *l);

#endif
