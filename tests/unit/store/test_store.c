/*
 * test_store.c - the local store: staging, put-if-absent, listing, sweep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fs.h"
#include "store/store.h"
#include "test.h"

static char root[256];

static struct store *
open_store(void)
{
    struct store *s;
    struct sl_diag d;

    snprintf(root, sizeof(root), "/tmp/sluice-store-test-%d", getpid());
    sl_diag_init(&d);
    CHECK_INT(store_open(root, &s, &d), 0);
    return s;
}

static void
put(struct store *s, const char *name, const char *text, char **key)
{
    char *path;
    FILE *f;

    CHECK_INT(store_stage(s, name, key, &path, NULL), 0);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    free(path);
    CHECK_INT(store_seal(s, *key, NULL), 0);
}

static int
count(void *arg, const char *key, int64_t size)
{
    (*(int *)arg)++;
    return 0;
}

TEST(keys_are_checked)
{
    CHECK(store_key_valid("raw/a/b.csv"));
    CHECK(!store_key_valid("/etc/passwd"));
    CHECK(!store_key_valid("raw/../../x"));
    CHECK(!store_key_valid("raw//x"));
    CHECK(!store_key_valid("raw/x/"));
    CHECK(!store_key_valid(""));
}

TEST(local_dir_is_the_root)
{
    struct store *s = open_store();

    CHECK_STR(store_local_dir(s), root);
    store_close(s);
    sl_rmtree(root);
}

TEST(publish_if_absent)
{
    struct store *s = open_store();
    char *k1, *k2;
    int64_t size;
    int n = 0;

    put(s, "a.txt", "first", &k1);
    put(s, "b.txt", "second!", &k2);
    CHECK_INT(store_stat(s, "raw/x/1.txt", &size, NULL), SL_ERR_NOTFOUND);
    CHECK_INT(store_publish(s, k1, "raw/x/1.txt", STORE_IF_ABSENT, NULL), 0);
    CHECK_INT(store_publish(s, k2, "raw/x/1.txt", STORE_IF_ABSENT, NULL), SL_ERR_EXISTS);
    CHECK_INT(store_stat(s, "raw/x/1.txt", &size, NULL), 0);
    CHECK_INT(size, 5);
    CHECK_INT(store_list(s, "raw", count, &n, NULL), 0);
    CHECK_INT(n, 1);
    CHECK_INT(store_delete(s, "raw/x/1.txt", NULL), 0);
    CHECK_INT(store_delete(s, "raw/x/1.txt", NULL), 0);
    free(k1);
    free(k2);
    store_close(s);
    sl_rmtree(root);
}

TEST(sweep_spares_live_writers_and_kept_objects)
{
    struct store *s = open_store(), *other;
    struct sl_diag d;
    char *k, *kept;
    pid_t pid;
    int status, n = 0;

    /* A child stages two objects and dies without publishing. */
    pid = fork();
    if (pid == 0) {
        struct store *c;

        if (store_open(root, &c, NULL) < 0)
            _exit(1);
        put(c, "lost.txt", "x", &k);
        put(c, "needed.txt", "y", &kept);
        printf("%s\n", kept);
        _exit(0);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    /* We stage one, alive. */
    put(s, "mine.txt", "z", &k);
    CHECK_INT(store_list(s, "_staging", count, &n, NULL), 0);
    CHECK_INT(n, 5); /* three objects and two owner locks */
    sl_diag_init(&d);
    CHECK_INT(store_open(root, &other, &d), 0);
    n = 0;
    CHECK_INT(store_sweep(other, NULL, NULL, &d), 2);
    CHECK_INT(store_list(s, "_staging", count, &n, NULL), 0);
    CHECK_INT(n, 2);
    CHECK_INT(store_stat(s, k, NULL, NULL), 0);
    store_close(other);
    free(k);
    store_close(s);
    sl_rmtree(root);
}
