/*
 * store_int.h - what a store back end provides.  Only store/ includes this.
 */
#ifndef SL_STORE_INT_H
#define SL_STORE_INT_H

#include "store/store.h"

struct store_ops {
    const char *name;
    int (*stage)(struct store *s, const char *name, char **key, char **path,
                 struct sl_diag *d);
    int (*seal)(struct store *s, const char *staged_key, struct sl_diag *d);
    /* optional: NULL seals one by one */
    void (*seal_start)(struct store *s, const char *staged_key);
    int (*publish)(struct store *s, const char *staged_key, const char *key,
                   unsigned flags, struct sl_diag *d);
    int (*local_path)(struct store *s, const char *key, char **path, struct sl_diag *d);
    const char *(*local_dir)(const struct store *s);
    int (*stat)(struct store *s, const char *key, int64_t *size, struct sl_diag *d);
    int (*remove)(struct store *s, const char *key, struct sl_diag *d);
    int (*list)(struct store *s, const char *prefix, store_list_cb cb, void *arg,
                struct sl_diag *d);
    int (*sweep)(struct store *s, store_keep_cb keep, void *arg, struct sl_diag *d);
    void (*close)(struct store *s);
};

struct store {
    const struct store_ops *ops;
    char *uri;   /* as given, for messages */
    void *impl;  /* the back end's state */
};

/* Back ends. */
int store_local_open(struct store *s, const char *path, struct sl_diag *d);

#endif
