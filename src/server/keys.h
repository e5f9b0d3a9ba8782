/*
 * keys.h - access keys of `sluice serve`: the credentials file, the key from
 * the environment, and each key's policy.
 *
 * The credentials file has the shape of the AWS CLI's own, so that a client
 * can use it as AWS_SHARED_CREDENTIALS_FILE with --profile NAME:
 *
 *     # sluice access keys (sluice keys add/list/remove). Keep private.
 *     [producer]                                   name: [A-Za-z0-9_.-]{1,64}
 *     aws_access_key_id = AKIAJ2XQ4ZK7TB5MWA3N     [A-Za-z0-9_]{16,128}
 *     aws_secret_access_key = ...                  16-128 printable, no spaces
 *     policy = policies/producer.json              optional; relative to the file's folder
 *     created = 2026-12-02T05:00:00Z               optional
 *
 * Lines starting with # or ; are comments, and so is the rest of a line
 * from a whitespace followed by # or ; (the AWS CLI would read that as part
 * of the value, so `sluice keys` never writes one).  Unknown keys,
 * duplicate sections, keys or key ids, a key outside a section and a
 * section without id or secret are errors naming the file and line.  The
 * file must be the owner's alone: mode & 077 == 0.  Messages never quote a
 * secret, nor a line that might be one.
 *
 * SLUICE_ACCESS_KEY_ID and SLUICE_SECRET_ACCESS_KEY (both or neither) add
 * one more key named "env", with SLUICE_KEY_POLICY as its optional policy
 * file (relative to the current folder).
 *
 * A key without a policy may call every action; a key with one follows it
 * (server/policy.h).
 *
 * Writers (keys_add, keys_remove) hold an exclusive flock on "<file>.lock"
 * and replace the file atomically (temp file 0600, fsync, rename, fsync of
 * the folder), so a reader never sees half a file; readers take no lock.
 */
#ifndef SL_KEYS_H
#define SL_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "server/policy.h"

#define KEYS_NAME_MAX 64        /* bytes of a key name */
#define KEYS_ID_MAX 128         /* bytes of an access key id */
#define KEYS_SECRET_MAX 128     /* bytes of a secret access key */
#define KEYS_FILE_MAX (1 << 20) /* a larger credentials file is refused */

/* The name of the key from the environment; refused for file keys. */
#define KEYS_ENV_NAME "env"

/* ---- the server's view -------------------------------------------------- */

/*
 * All keys with their policies.  Readers (keyring_secret,
 * keyring_authorize, keyring_count, keyring_empty) may run on any number of
 * threads while one thread calls keyring_refresh(); they see the old set or
 * the new one, never a mix.
 */
struct keyring;

/*
 * Load the credentials file at path (NULL: no file; a missing file: no keys
 * from it yet, keyring_refresh() picks it up when it appears) and the key
 * from the environment, parsing every policy against known_actions (see
 * policy_parse()).  Errors: SL_ERR_INPUT naming file:line (of the
 * credentials file or of a policy), or the permission refusal for a file
 * others may read; *out untouched.  Free with keyring_close().
 */
int keyring_open(const char *path, const char *const *known_actions, struct keyring **out,
                 struct sl_diag *d);

/* Whether no key is configured at all (no file keys, no environment key). */
bool keyring_empty(const struct keyring *k);
/* The number of keys now. */
size_t keyring_count(const struct keyring *k);

/*
 * Re-read the file and every policy if any of them changed (inode, size,
 * modification or change time; appearing or vanishing).  *changed says
 * whether a new set of keys took over.  On error the old keys stay in
 * force, *changed is false and the error (with file:line) is returned; the
 * same broken state is reported again at each call until it is fixed.
 * Call from one thread at a time.
 */
int keyring_refresh(struct keyring *k, bool *changed, struct sl_diag *d);

/*
 * Copy the secret of key_id into buf (NUL-terminated) for the signature
 * verifier.  false if the key is unknown or buf is too small.  k is a
 * struct keyring *, typed void * to serve as a lookup callback.
 */
bool keyring_secret(void *k, const char *key_id, char *buf, size_t size);

/*
 * What key_id's policy says to action on resource (NULL or "*": the action
 * names no resource).  A key without a policy is allowed everything; an
 * unknown key is denied implicitly.  The key's name goes to name_out
 * (empty if unknown; may be NULL), for audit lines.
 */
enum policy_effect keyring_authorize(struct keyring *k, const char *key_id, const char *action,
                                     const char *resource, char *name_out, size_t name_size);

void keyring_close(struct keyring *k);

/* ---- the CLI's verbs ---------------------------------------------------- */

/* One key as `sluice keys` shows it. */
struct key_info {
    char name[KEYS_NAME_MAX + 1];
    char id[KEYS_ID_MAX + 1];
    char secret[KEYS_SECRET_MAX + 1]; /* keys_add only; wipe after use */
    char policy[1024];                /* as written in the file; "" for none */
    char created[32];                 /* "2026-12-02T05:00:00Z", or "" */
    int line;                         /* of the section header */
};

/* Whether name is a valid key name: [A-Za-z0-9_.-]{1,64}. */
bool keys_name_valid(const char *name);

/*
 * Create key NAME in the credentials file at path (creating the file and
 * its folder, 0700, if needed): a new id ("AKIA" + 16 of [A-Z2-7]) and
 * secret (40 of the base64 alphabet) from getrandom().  With policy_file,
 * the policy is checked against known_actions and copied to
 * policies/NAME.json beside the credentials file, which names it.  *out
 * gets the new key with its secret (the only time it is shown).  Errors: a
 * bad name or a name in use (SL_ERR_EXISTS), a bad policy (its file:line),
 * a broken credentials file; nothing is changed then.
 */
int keys_add(const char *path, const char *name, const char *policy_file,
             const char *const *known_actions, struct key_info *out, struct sl_diag *d);

/*
 * Remove the key named name_or_id (a name or an access key id), and its
 * policies/NAME.json if keys_add made it.  *out (may be NULL) gets what was
 * removed, without the secret.  SL_ERR_NOTFOUND naming the known keys if
 * there is no such key.
 */
int keys_remove(const char *path, const char *name_or_id, struct key_info *out, struct sl_diag *d);

/*
 * Parse credentials text[0..len) of the file named by path (in messages)
 * without reading anything else: no permission check, no policies.  *out
 * is a new array of *n keys in file order, secrets included; the caller
 * wipes and frees it with keys_info_free().  SL_ERR_INPUT naming path:line.
 */
int keys_parse(const char *path, const char *text, size_t len, struct key_info **out, size_t *n,
               struct sl_diag *d);
/* Wipe the n entries of keys (secrets included) and free the array. */
void keys_info_free(struct key_info *keys, size_t n);

/*
 * The keys of the file, in file order, without secrets: *out is a new
 * array of *n entries the caller frees with free().  A missing file has no
 * keys.  Only the file's shape is checked, not the policies.  Free with
 * keys_info_free() (or free()).
 */
int keys_list(const char *path, struct key_info **out, size_t *n, struct sl_diag *d);

#endif
