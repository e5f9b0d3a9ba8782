/*
 * test_keys.c - the credentials file, the environment key, the keyring and
 * the writers behind `sluice keys`.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/fs.h"
#include "core/mem.h"
#include "server/keys.h"

#include "test.h"

static const char *const known[] = {
    "kinesis:PutRecord",       "kinesis:PutRecords", "kinesis:GetRecords",
    "firehose:PutRecordBatch", "sluice:GetMetrics",  NULL,
};

#define CLICKS "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"
#define ID1 "AKIAAAAAAAAAAAAAAAA1"
#define ID2 "AKIAAAAAAAAAAAAAAAA2"
#define SECRET1 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE1"
#define SECRET2 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE2"
#define PUT_ONLY                                                                                   \
    "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"kinesis:Put*\", \"Resource\": "         \
    "\"arn:aws:kinesis:*:*:stream/clicks\"}}\n"

static char dir[64];
static char cred[128];
static struct sl_diag diag;

/* A fresh folder per case, with cred = DIR/.sluice/credentials. */
static void
fresh(void)
{
    unsetenv("SLUICE_ACCESS_KEY_ID");
    unsetenv("SLUICE_SECRET_ACCESS_KEY");
    unsetenv("SLUICE_KEY_POLICY");
    snprintf(dir, sizeof(dir), "/tmp/sluice-keys-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(cred, sizeof(cred), "%s/.sluice/credentials", dir);
    sl_diag_init(&diag);
}

static void
done(void)
{
    sl_rmtree(dir);
}

static void
write_mode(const char *path, const char *text, int mode)
{
    char *parent = sl_dirname(path);
    int fd;

    sl_mkdirs(parent, 0700, NULL);
    free(parent);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    fchmod(fd, (mode_t)mode);
    close(fd);
}

static void
write_cred(const char *text)
{
    write_mode(cred, text, 0600);
}

static char *
slurp(const char *path)
{
    struct sl_buf b;

    sl_buf_init(&b);
    if (sl_read_file(path, 1 << 20, &b, NULL) < 0)
        return NULL;
    return sl_buf_detach(&b, NULL);
}

static const char *
rendered(void)
{
    static char msg[4096];

    sl_diag_format(&diag, msg, sizeof(msg));
    return msg;
}

/* Expect the credentials text to be refused at line with words want. */
static void
refused(const char *text, int line, const char *want, int at)
{
    struct keyring *k = NULL;
    int rc;

    write_cred(text);
    sl_diag_init(&diag);
    rc = keyring_open(cred, known, &k, &diag);
    if (rc == 0) {
        keyring_close(k);
        snprintf(test_why, sizeof(test_why), "test_keys.c:%d: accepted", at);
        longjmp(test_jmp, 1);
    }
    if (rc != SL_ERR_INPUT || diag.line != line || strstr(rendered(), want) == NULL ||
        strcmp(diag.where, cred) != 0 || strstr(rendered(), "EXAMPLE") != NULL) {
        snprintf(test_why, sizeof(test_why),
                 "test_keys.c:%d: got \"%s\" (line %lld), want "
                 "line %d and \"%s\"",
                 at, rendered(), (long long)diag.line, line, want);
        longjmp(test_jmp, 1);
    }
}
#define REFUSED(text, line, want) refused(text, line, want, __LINE__)

#define GOOD1 "[producer]\naws_access_key_id = " ID1 "\naws_secret_access_key = " SECRET1 "\n"
#define GOOD2 "[reader]\naws_access_key_id = " ID2 "\naws_secret_access_key = " SECRET2 "\n"

TEST(reads_the_aws_shape)
{
    struct keyring *k;
    char secret[64], name[80];

    fresh();
    write_cred("# sluice access keys\n"
               "; another comment\n"
               "\n"
               "[producer]   ; the clicks producer\n"
               "aws_access_key_id=" ID1 "\r\n"
               "  aws_secret_access_key   =   " SECRET1 "  \n"
               "created = 2026-12-02T05:00:00Z\n"
               "\n"
               "[ reader ]\n"
               "aws_access_key_id = " ID2 " # inline\n"
               "aws_secret_access_key = " SECRET2 "\n");
    CHECK(keyring_open(cred, known, &k, &diag) == 0);
    CHECK_INT(keyring_count(k), 2);
    CHECK(!keyring_empty(k));
    CHECK(keyring_secret(k, ID1, secret, sizeof(secret)));
    CHECK_STR(secret, SECRET1);
    CHECK(keyring_secret(k, ID2, secret, sizeof(secret)));
    CHECK_STR(secret, SECRET2);
    CHECK(!keyring_secret(k, ID2, secret, 40)); /* no room for the NUL */
    CHECK(!keyring_secret(k, "AKIAAAAAAAAAAAAAAAA3", secret, sizeof(secret)));
    /* No policy: every action. */
    CHECK_INT(keyring_authorize(k, ID2, "kinesis:GetRecords", CLICKS, name, sizeof(name)),
              POLICY_ALLOW);
    CHECK_STR(name, "reader");
    CHECK_INT(keyring_authorize(k, "AKIAAAAAAAAAAAAAAAA3", "kinesis:GetRecords", CLICKS, name,
                                sizeof(name)),
              POLICY_IMPLICIT_DENY);
    CHECK_STR(name, "");
    keyring_close(k);
    done();
}

TEST(no_file_and_no_path)
{
    struct keyring *k;

    fresh();
    CHECK(keyring_open(cred, known, &k, &diag) == 0);
    CHECK(keyring_empty(k));
    keyring_close(k);
    CHECK(keyring_open(NULL, known, &k, &diag) == 0);
    CHECK(keyring_empty(k));
    keyring_close(k);
    done();
}

TEST(parse_errors_name_their_line)
{
    fresh();
    REFUSED("aws_access_key_id = " ID1 "\n", 1, "a 'key = value' line before the first [NAME]");
    REFUSED(GOOD1 "[producer]\n", 4, "key 'producer' is defined twice (first at line 1)");
    REFUSED(GOOD1 "aws_access_key_id = " ID2 "\n", 4,
            "'aws_access_key_id' appears twice in key 'producer' (first at line 2)");
    REFUSED(GOOD1 "region = us-east-1\n", 4,
            "unknown key 'region' in key 'producer' (accepted: aws_access_key_id, "
            "aws_secret_access_key, policy, created)");
    REFUSED("[a]\naws_access_key_id = " ID1 "\n\n[b]\n", 1, "key 'a' has no aws_secret_access_key");
    REFUSED("[a]\naws_secret_access_key = " SECRET1 "\n", 1, "key 'a' has no aws_access_key_id");
    REFUSED(GOOD1 "\n[reader]\naws_access_key_id = " ID1 "\naws_secret_access_key = " SECRET2 "\n",
            6,
            "key 'reader' has the access key id of key 'producer' (line 2); ids must be "
            "unique");
    REFUSED("[bad name]\n", 1, "the key name on line 1 is not of the accepted form: 1 to 64");
    REFUSED("[]\n", 1, "the key name on line 1 is not of the accepted form");
    REFUSED(GOOD1 "[wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY]\n", 4,
            "the key name on line 4 is not of the accepted form");
    REFUSED(GOOD1 "wJalrXUtnFEMI_K7MDENG_bPxRfiCYEXAMPLEKEY = 1\n", 4,
            "unknown key in key 'producer'");
    REFUSED("[producer\n", 1, "a section header must be [NAME]");
    REFUSED("[profile producer]\n", 1, "without 'profile'");
    REFUSED("[a]\naws_access_key_id = AKIA-SHORT\n", 2,
            "aws_access_key_id of key 'a' is not of the accepted form: 16 to 128");
    REFUSED("[a]\naws_access_key_id = " ID1 "\naws_secret_access_key = EXAMPLE\n", 3,
            "aws_secret_access_key of key 'a' is not of the accepted form");
    REFUSED("[a]\naws_access_key_id = " ID1 "\naws_secret_access_key =\n", 3,
            "'aws_secret_access_key' of key 'a' has no value");
    REFUSED(GOOD1 "created = yesterday\n", 4, "created of key 'producer' is not a time");
    /* A line that may be a pasted secret is named by its number only. */
    REFUSED(GOOD1 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", 4,
            "line 4 is not a [NAME] header, a 'key = value' line or a comment");
    REFUSED(GOOD1 "\x01\n", 4, "line 4 holds a control character");
    REFUSED(GOOD1 "EXAMPLE:x = 1\n", 4, "unknown key in key 'producer'");
    done();
}

TEST(refuses_a_file_others_may_read)
{
    struct keyring *k;
    char want[512];

    fresh();
    write_mode(cred, GOOD1, 0644);
    CHECK(keyring_open(cred, known, &k, &diag) == SL_ERR_INPUT);
    snprintf(want, sizeof(want),
             "%s is readable by others (mode 0644); it holds secrets: "
             "chmod 600 %s",
             cred, cred);
    CHECK_STR(rendered(), want);
    write_mode(cred, GOOD1, 0640);
    sl_diag_init(&diag);
    CHECK(keyring_open(cred, known, &k, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "is readable by others (mode 0640)");
    write_mode(cred, GOOD1, 0620);
    sl_diag_init(&diag);
    CHECK(keyring_open(cred, known, &k, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "is writable by others (mode 0620)");
    /* keys list and keys add refuse it too, and change nothing. */
    struct key_info *list, info;
    size_t n;

    sl_diag_init(&diag);
    CHECK(keys_list(cred, &list, &n, &diag) == SL_ERR_INPUT);
    sl_diag_init(&diag);
    CHECK(keys_add(cred, "x", NULL, known, &info, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "chmod 600");
    char *after = slurp(cred);

    CHECK_STR(after, GOOD1);
    free(after);
    done();
}

TEST(environment_key)
{
    struct keyring *k;
    char secret[64], name[16], path[256];

    fresh();
    write_cred(GOOD1);
    setenv("SLUICE_ACCESS_KEY_ID", ID2, 1);
    CHECK(keyring_open(cred, known, &k, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "SLUICE_ACCESS_KEY_ID is set but SLUICE_SECRET_ACCESS_KEY is not: "
                          "set both or neither");
    setenv("SLUICE_SECRET_ACCESS_KEY", SECRET2, 1);
    sl_diag_init(&diag);
    CHECK(keyring_open(cred, known, &k, &diag) == 0);
    CHECK_INT(keyring_count(k), 2);
    CHECK(keyring_secret(k, ID2, secret, sizeof(secret)));
    CHECK_STR(secret, SECRET2);
    CHECK_INT(keyring_authorize(k, ID2, "kinesis:GetRecords", CLICKS, name, sizeof(name)),
              POLICY_ALLOW);
    CHECK_STR(name, "env");
    keyring_close(k);

    /* With a policy. */
    snprintf(path, sizeof(path), "%s/env.json", dir);
    write_mode(path, PUT_ONLY, 0644);
    setenv("SLUICE_KEY_POLICY", path, 1);
    CHECK(keyring_open(NULL, known, &k, &diag) == 0);
    CHECK_INT(keyring_count(k), 1);
    CHECK_INT(keyring_authorize(k, ID2, "kinesis:PutRecord", CLICKS, NULL, 0), POLICY_ALLOW);
    CHECK_INT(keyring_authorize(k, ID2, "kinesis:GetRecords", CLICKS, NULL, 0),
              POLICY_IMPLICIT_DENY);
    keyring_close(k);
    write_mode(path,
               "{\"Statement\": {\"Effect\": \"Allow\",\n\"Action\": \"kinesis:Nope\", "
               "\"Resource\": \"*\"}}",
               0644);
    sl_diag_init(&diag);
    CHECK(keyring_open(NULL, known, &k, &diag) == SL_ERR_INPUT);
    CHECK_STR(diag.where, path);
    CHECK_INT(diag.line, 2);

    /* Malformed values are named without being quoted. */
    setenv("SLUICE_SECRET_ACCESS_KEY", "short EXAMPLE", 1);
    unsetenv("SLUICE_KEY_POLICY");
    sl_diag_init(&diag);
    CHECK(keyring_open(NULL, known, &k, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "SLUICE_SECRET_ACCESS_KEY is not of the accepted form");
    CHECK(strstr(rendered(), "EXAMPLE") == NULL);

    /* The same id as a file key, or a file key named env. */
    setenv("SLUICE_SECRET_ACCESS_KEY", SECRET2, 1);
    setenv("SLUICE_ACCESS_KEY_ID", ID1, 1);
    sl_diag_init(&diag);
    CHECK(keyring_open(cred, known, &k, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "SLUICE_ACCESS_KEY_ID is the access key id of key 'producer'");
    setenv("SLUICE_ACCESS_KEY_ID", ID2, 1);
    write_cred("[env]\naws_access_key_id = " ID1 "\naws_secret_access_key = " SECRET1 "\n");
    sl_diag_init(&diag);
    CHECK(keyring_open(cred, known, &k, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "a key named 'env'");
    unsetenv("SLUICE_SECRET_ACCESS_KEY");
    unsetenv("SLUICE_ACCESS_KEY_ID");
    setenv("SLUICE_KEY_POLICY", path, 1);
    sl_diag_init(&diag);
    CHECK(keyring_open(NULL, known, &k, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "SLUICE_KEY_POLICY is set but");
    unsetenv("SLUICE_KEY_POLICY");
    done();
}

TEST(policies_of_file_keys)
{
    struct keyring *k;
    char path[256];

    fresh();
    snprintf(path, sizeof(path), "%s/.sluice/policies/producer.json", dir);
    write_mode(path, PUT_ONLY, 0644);
    write_cred(GOOD1 "policy = policies/producer.json\n" GOOD2);
    CHECK(keyring_open(cred, known, &k, &diag) == 0);
    CHECK_INT(keyring_authorize(k, ID1, "kinesis:PutRecords", CLICKS, NULL, 0), POLICY_ALLOW);
    CHECK_INT(keyring_authorize(k, ID1, "kinesis:GetRecords", CLICKS, NULL, 0),
              POLICY_IMPLICIT_DENY);
    CHECK_INT(keyring_authorize(k, ID2, "kinesis:GetRecords", CLICKS, NULL, 0), POLICY_ALLOW);
    keyring_close(k);

    /* A broken policy names its own file and line, and the key. */
    write_mode(path,
               "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"kinesis:Put*\",\n"
               "\"Resource\": \"clicks\"}}",
               0644);
    sl_diag_init(&diag);
    CHECK(keyring_open(cred, known, &k, &diag) == SL_ERR_INPUT);
    CHECK_STR(diag.where, path);
    CHECK_INT(diag.line, 2);
    CHECK_HAS(diag.detail, "policy of key 'producer'");
    unlink(path);
    sl_diag_init(&diag);
    CHECK(keyring_open(cred, known, &k, &diag) == -ENOENT);
    CHECK_HAS(rendered(), path);
    done();
}

TEST(add_list_remove)
{
    struct key_info a, b, *list;
    struct stat st;
    size_t n;
    char path[256], policies[256];
    char *text;

    fresh();
    CHECK(keys_list(cred, &list, &n, &diag) == 0);
    CHECK_INT(n, 0);
    free(list);
    CHECK(keys_add(cred, "producer", NULL, known, &a, &diag) == 0);
    /* AKIA + 16 of base32; 40 of base64. */
    CHECK_INT(strlen(a.id), 20);
    CHECK(strncmp(a.id, "AKIA", 4) == 0);
    CHECK(strspn(a.id + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == 16);
    CHECK_INT(strlen(a.secret), 40);
    CHECK(strspn(a.secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ==
          40);
    CHECK_STR(a.name, "producer");
    CHECK_STR(a.policy, "");
    CHECK_INT(strlen(a.created), 20);
    CHECK(stat(cred, &st) == 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/.sluice", dir);
    CHECK(stat(path, &st) == 0);
    CHECK_INT(st.st_mode & 0777, 0700);

    /* With a policy: checked, then copied beside the file. */
    snprintf(path, sizeof(path), "%s/mine.json", dir);
    write_mode(path, PUT_ONLY, 0644);
    CHECK(keys_add(cred, "clicks-producer", path, known, &b, &diag) == 0);
    CHECK_STR(b.policy, "policies/clicks-producer.json");
    snprintf(policies, sizeof(policies), "%s/.sluice/policies/clicks-producer.json", dir);
    CHECK(stat(policies, &st) == 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    text = slurp(policies);
    CHECK_STR(text, PUT_ONLY);
    free(text);
    text = slurp(cred);
    CHECK_HAS(text, "# sluice access keys (sluice keys add/list/remove). Keep private.\n\n"
                    "[producer]\naws_access_key_id = ");
    CHECK_HAS(text, a.secret);
    CHECK_HAS(text, "\n[clicks-producer]\naws_access_key_id = ");
    CHECK_HAS(text, "policy = policies/clicks-producer.json\ncreated = ");
    free(text);

    /* The keyring reads what add wrote. */
    struct keyring *k;
    char secret[64];

    CHECK(keyring_open(cred, known, &k, &diag) == 0);
    CHECK(keyring_secret(k, b.id, secret, sizeof(secret)));
    CHECK_STR(secret, b.secret);
    CHECK_INT(keyring_authorize(k, b.id, "kinesis:GetRecords", CLICKS, NULL, 0),
              POLICY_IMPLICIT_DENY);
    keyring_close(k);

    CHECK(keys_list(cred, &list, &n, &diag) == 0);
    CHECK_INT(n, 2);
    CHECK_STR(list[0].name, "producer");
    CHECK_STR(list[0].id, a.id);
    CHECK_STR(list[0].secret, "");
    CHECK_STR(list[1].policy, "policies/clicks-producer.json");
    CHECK_STR(list[1].secret, "");
    free(list);

    /* Remove by id, then by name; the managed policy goes with its key. */
    struct key_info gone;

    CHECK(keys_remove(cred, b.id, &gone, &diag) == 0);
    CHECK_STR(gone.name, "clicks-producer");
    CHECK_STR(gone.secret, "");
    CHECK(!sl_exists(policies));
    CHECK(keys_remove(cred, "producer", NULL, &diag) == 0);
    text = slurp(cred);
    CHECK_STR(text, "# sluice access keys (sluice keys add/list/remove). Keep private.\n\n");
    free(text);
    CHECK(sl_exists(path)); /* the user's own file stays */
    done();
}

TEST(add_and_remove_refuse_bad_input_and_change_nothing)
{
    struct key_info a, info;
    char path[256], *before, *after;

    fresh();
    CHECK(keys_add(cred, "producer", NULL, known, &a, &diag) == 0);
    before = slurp(cred);
    CHECK(keys_add(cred, "producer", NULL, known, &info, &diag) == SL_ERR_EXISTS);
    CHECK_HAS(rendered(), "key 'producer' exists already");
    sl_diag_init(&diag);
    CHECK(keys_add(cred, "bad/name", NULL, known, &info, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "names are 1 to 64 of A-Z a-z 0-9 _ . -");
    sl_diag_init(&diag);
    CHECK(keys_add(cred, "env", NULL, known, &info, &diag) == SL_ERR_INPUT);
    sl_diag_init(&diag);
    CHECK(keys_add(cred, "", NULL, known, &info, &diag) == SL_ERR_INPUT);
    snprintf(path, sizeof(path), "%s/bad.json", dir);
    write_mode(path,
               "{\"Statement\": {\"Effect\": \"Allow\",\n\"Action\": \"kinesis:Get*\",\n"
               "\"Resource\": \"*\", \"Condition\": {}}}",
               0644);
    sl_diag_init(&diag);
    CHECK(keys_add(cred, "reader", path, known, &info, &diag) == SL_ERR_INPUT);
    CHECK_STR(diag.where, path);
    CHECK_INT(diag.line, 3);
    CHECK_HAS(rendered(), "\"Condition\" is not supported");
    snprintf(path, sizeof(path), "%s/none.json", dir);
    sl_diag_init(&diag);
    CHECK(keys_add(cred, "reader", path, known, &info, &diag) == -ENOENT);
    sl_diag_init(&diag);
    CHECK(keys_remove(cred, "nobody", &info, &diag) == SL_ERR_NOTFOUND);
    CHECK_HAS(rendered(), "unknown key 'nobody': no key in ");
    CHECK_HAS(diag.detail, "The keys are: producer (");
    CHECK(strstr(rendered(), a.secret) == NULL && strstr(diag.detail, a.secret) == NULL);
    after = slurp(cred);
    CHECK_STR(after, before);
    free(after);
    snprintf(path, sizeof(path), "%s/.sluice/policies", dir);
    CHECK(!sl_exists(path));
    free(before);

    /* A broken file is not rewritten. */
    write_cred(GOOD1 "junk\n");
    sl_diag_init(&diag);
    CHECK(keys_add(cred, "x", NULL, known, &info, &diag) == SL_ERR_INPUT);
    CHECK_INT(diag.line, 4);
    CHECK_HAS(diag.hint, "nothing was changed");
    sl_diag_init(&diag);
    CHECK(keys_remove(cred, "producer", &info, &diag) == SL_ERR_INPUT);
    after = slurp(cred);
    CHECK_STR(after, GOOD1 "junk\n");
    free(after);
    done();
    fresh();
    CHECK(keys_remove(cred, "x", &info, &diag) == SL_ERR_NOTFOUND);
    CHECK_HAS(rendered(), "there is no credentials file");
    done();
}

TEST(remove_keeps_the_rest_of_the_file)
{
    fresh();
    write_cred("# my keys\n"
               "\n"
               "# the producer\n"
               "[producer]\n"
               "aws_access_key_id = " ID1 "\n"
               "aws_secret_access_key = " SECRET1 "\n"
               "\n"
               "# the reader\n"
               "[reader]\n"
               "aws_access_key_id = " ID2 "\n"
               "aws_secret_access_key = " SECRET2 "\n");
    CHECK(keys_remove(cred, "producer", NULL, &diag) == 0);
    char *text = slurp(cred);

    CHECK_STR(text, "# my keys\n\n# the reader\n[reader]\naws_access_key_id = " ID2
                    "\naws_secret_access_key = " SECRET2 "\n");
    free(text);
    CHECK(keys_remove(cred, "reader", NULL, &diag) == 0);
    text = slurp(cred);
    CHECK_STR(text, "# my keys\n\n");
    free(text);
    done();
}

/* Make sure a rewrite is seen even within one timestamp tick. */
static void
tick(void)
{
    usleep(20000);
}

TEST(refresh_picks_up_changes_and_keeps_old_keys_on_a_broken_file)
{
    struct keyring *k;
    struct key_info a, b;
    bool changed;
    char secret[64], path[256];

    fresh();
    CHECK(keyring_open(cred, known, &k, &diag) == 0);
    CHECK(keyring_empty(k));
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(!changed);

    /* The file appears. */
    CHECK(keys_add(cred, "producer", NULL, known, &a, &diag) == 0);
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(changed);
    CHECK_INT(keyring_count(k), 1);
    CHECK(keyring_secret(k, a.id, secret, sizeof(secret)));
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(!changed);

    tick();
    snprintf(path, sizeof(path), "%s/p.json", dir);
    write_mode(path, PUT_ONLY, 0644);
    CHECK(keys_add(cred, "limited", path, known, &b, &diag) == 0);
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(changed);
    CHECK_INT(keyring_count(k), 2);
    CHECK_INT(keyring_authorize(k, b.id, "kinesis:GetRecords", CLICKS, NULL, 0),
              POLICY_IMPLICIT_DENY);

    /* A policy edited in place. */
    tick();
    snprintf(path, sizeof(path), "%s/.sluice/policies/limited.json", dir);
    write_mode(path,
               "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"kinesis:Get*\", "
               "\"Resource\": \"*\"}}",
               0600);
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(changed);
    CHECK_INT(keyring_authorize(k, b.id, "kinesis:GetRecords", CLICKS, NULL, 0), POLICY_ALLOW);

    /* A broken policy: the old keys stay, the error is reported once. */
    tick();
    write_mode(path,
               "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"kinesis:Get*\",\n"
               "\"Resource\": \"*\",}}",
               0600);
    sl_diag_init(&diag);
    CHECK(keyring_refresh(k, &changed, &diag) == SL_ERR_INPUT);
    CHECK(!changed);
    CHECK_STR(diag.where, path);
    CHECK_INT(diag.line, 2);
    CHECK_INT(keyring_authorize(k, b.id, "kinesis:GetRecords", CLICKS, NULL, 0), POLICY_ALLOW);
    sl_diag_init(&diag);
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(!changed);
    /* Fixed: taken up. */
    tick();
    write_mode(path, PUT_ONLY, 0600);
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(changed);
    CHECK_INT(keyring_authorize(k, b.id, "kinesis:GetRecords", CLICKS, NULL, 0),
              POLICY_IMPLICIT_DENY);

    /* A broken credentials file, then one others may read. */
    char *good = slurp(cred);

    tick();
    write_cred("[producer]\naws_access_key_id = " ID1 "\n");
    sl_diag_init(&diag);
    CHECK(keyring_refresh(k, &changed, &diag) == SL_ERR_INPUT);
    CHECK_INT(diag.line, 1);
    CHECK_INT(keyring_count(k), 2);
    CHECK(keyring_secret(k, a.id, secret, sizeof(secret)));
    CHECK_STR(secret, a.secret);
    tick();
    write_mode(cred, good, 0644);
    sl_diag_init(&diag);
    CHECK(keyring_refresh(k, &changed, &diag) == SL_ERR_INPUT);
    CHECK_HAS(rendered(), "chmod 600");
    CHECK(keyring_secret(k, a.id, secret, sizeof(secret)));
    CHECK(chmod(cred, 0600) == 0);
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(changed);
    free(good);

    /* Removal. */
    CHECK(keys_remove(cred, "producer", NULL, &diag) == 0);
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(changed);
    CHECK_INT(keyring_count(k), 1);
    CHECK(!keyring_secret(k, a.id, secret, sizeof(secret)));
    CHECK_INT(keyring_authorize(k, a.id, "kinesis:PutRecord", CLICKS, NULL, 0),
              POLICY_IMPLICIT_DENY);
    /* The file vanishes. */
    CHECK(unlink(cred) == 0);
    CHECK(keyring_refresh(k, &changed, &diag) == 0);
    CHECK(changed);
    CHECK(keyring_empty(k));
    keyring_close(k);
    done();
}

/* Readers on other threads while the keys are replaced again and again. */
struct reader_arg {
    struct keyring *k;
    const char *id;
    atomic_bool stop;
    atomic_long lookups;
    atomic_long wrong;
};

static void *
reader(void *arg)
{
    struct reader_arg *r = arg;
    char secret[64];

    while (!atomic_load(&r->stop)) {
        /* The key is in every generation, with the same secret. */
        if (!keyring_secret(r->k, r->id, secret, sizeof(secret)) || strcmp(secret, SECRET1) != 0 ||
            keyring_authorize(r->k, r->id, "kinesis:PutRecord", CLICKS, NULL, 0) != POLICY_ALLOW)
            atomic_fetch_add(&r->wrong, 1);
        atomic_fetch_add(&r->lookups, 1);
    }
    return NULL;
}

TEST(readers_while_refreshing)
{
    struct reader_arg r = {0};
    pthread_t t[2];
    bool changed;
    int swaps = 0;

    fresh();
    write_cred(GOOD1);
    CHECK(keyring_open(cred, known, &r.k, &diag) == 0);
    r.id = ID1;
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, reader, &r) == 0);
    /* At least 40 swaps, and until the readers have been at it a while
     * (on a busy machine they may start late). */
    for (int i = 0; i < 40 || (atomic_load(&r.lookups) < 2000 && i < 20000); i++) {
        write_cred(i % 2 ? GOOD1 : GOOD1 GOOD2);
        CHECK(keyring_refresh(r.k, &changed, &diag) == 0);
        swaps += changed;
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(atomic_load(&r.wrong), 0);
    CHECK(atomic_load(&r.lookups) > 0);
    CHECK(swaps >= 39);
    keyring_close(r.k);
    done();
}

TEST(writers_sweep_leftovers_and_respect_shared_policies)
{
    struct key_info a, info;
    char tmp[256], path[256], policy[256];

    fresh();
    /* A temp file an interrupted writer left (it may hold secrets). */
    snprintf(tmp, sizeof(tmp), "%s/.sluice/.tmp-99999-credentials", dir);
    write_mode(tmp, GOOD1, 0600);
    CHECK(keys_add(cred, "producer", NULL, known, &a, &diag) == 0);
    CHECK(!sl_exists(tmp));

    /* A hand-written key using the file keys_add would copy to. */
    snprintf(policy, sizeof(policy), "%s/.sluice/policies/b.json", dir);
    write_mode(policy, PUT_ONLY, 0600);
    char *text = slurp(cred),
         *more = sl_printf("%s\n[a]\naws_access_key_id = " ID1 "\naws_secret_access_key = " SECRET1
                           "\npolicy = policies/b.json\n",
                           text);

    write_cred(more);
    snprintf(path, sizeof(path), "%s/mine.json", dir);
    write_mode(path,
               "{\"Statement\": {\"Effect\": \"Deny\", \"Action\": \"*\", "
               "\"Resource\": \"*\"}}",
               0644);
    CHECK(keys_add(cred, "b", path, known, &info, &diag) == SL_ERR_EXISTS);
    CHECK_HAS(rendered(), "it is the policy of key 'a'");
    char *kept = slurp(policy);

    CHECK_STR(kept, PUT_ONLY);
    free(kept);
    /* b without a policy, then removed: a's policy file stays. */
    CHECK(keys_add(cred, "b", NULL, known, &info, &diag) == 0);
    CHECK(keys_remove(cred, "b", NULL, &diag) == 0);
    CHECK(sl_exists(policy));
    /* a named policies/b.json by hand: it is not a copy keys_add made for a. */
    CHECK(keys_remove(cred, "a", NULL, &diag) == 0);
    CHECK(sl_exists(policy));
    free(text);
    free(more);
    done();
}
