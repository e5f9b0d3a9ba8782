/*
 * cmd_keys.c - sluice keys [list [--json]] | add NAME [--policy FILE] |
 * remove NAME|KEYID.
 *
 * The access keys of `sluice serve`, in the credentials file that
 * server.credentials names (server/keys.h).  `keys add` prints the new key
 * as `aws iam create-access-key` does - the only time the secret is printed
 * - and nothing else on stdout, so that a script can parse it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "server/keys.h"
#include "server/server.h"
#include "core/banned.h"

static void
json_member(struct sl_buf *b, const char *indent, const char *name, const char *value, bool last)
{
    sl_buf_addf(b, "%s\"%s\": ", indent, name);
    sl_buf_add_json_str(b, value, strlen(value));
    sl_buf_adds(b, last ? "\n" : ",\n");
}

/* "2026-12-02T05:00:00Z" as the AWS CLI prints times: "...+00:00". */
static void
aws_time(const char *created, char out[40])
{
    size_t n = strlen(created);

    if (n > 0 && created[n - 1] == 'Z')
        snprintf(out, 40, "%.*s+00:00", (int)(n - 1), created);
    else
        snprintf(out, 40, "%s", created);
}

static int
add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"policy", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *policy = NULL, *name;
    struct key_info k;
    struct sl_buf out;
    char when[40];
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
        if (opt == 'p')
            policy = optarg;
        else
            return cli_usage("keys", "unknown option");
    }
    if (optind >= argc)
        return cli_usage("keys", "add needs a NAME");
    if (optind + 1 < argc)
        return cli_usage("keys", "unexpected argument '%s'", argv[optind + 1]);
    name = argv[optind];
    rc = project_open(c->project_dir, &c->project, &c->diag);
    if (rc == 0)
        rc = keys_add(c->project->credentials, name, policy, server_actions(), &k, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    aws_time(k.created, when);
    sl_buf_init(&out);
    sl_buf_adds(&out, "{\n    \"AccessKey\": {\n");
    json_member(&out, "        ", "UserName", k.name, false);
    json_member(&out, "        ", "AccessKeyId", k.id, false);
    json_member(&out, "        ", "Status", "Active", false);
    json_member(&out, "        ", "SecretAccessKey", k.secret, false);
    json_member(&out, "        ", "CreateDate", when, true);
    sl_buf_adds(&out, "    }\n}\n");
    fputs(out.data, stdout);
    fflush(stdout);
    explicit_bzero(out.data, out.len);
    explicit_bzero(k.secret, sizeof(k.secret));
    sl_buf_release(&out);
    if (policy == NULL)
        fprintf(stderr,
                "sluice keys: warning: key '%s' has no policy: it may call every "
                "action of every API\n"
                "  hint: to limit it, remove it and add it again with --policy FILE\n",
                name);
    return EXIT_OK;
}

static int
list(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct key_info *keys = NULL;
    bool json = false;
    size_t n = 0;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'j')
            json = true;
        else
            return cli_usage("keys", "unknown option");
    }
    if (optind < argc)
        return cli_usage("keys", "unexpected argument '%s'", argv[optind]);
    rc = project_open(c->project_dir, &c->project, &c->diag);
    if (rc == 0)
        rc = keys_list(c->project->credentials, &keys, &n, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    if (json) {
        struct sl_buf b;

        sl_buf_init(&b);
        sl_buf_adds(&b, "[");
        for (size_t i = 0; i < n; i++) {
            sl_buf_adds(&b, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
            sl_buf_add_json_str(&b, keys[i].name, strlen(keys[i].name));
            sl_buf_adds(&b, ", \"access_key_id\": ");
            sl_buf_add_json_str(&b, keys[i].id, strlen(keys[i].id));
            sl_buf_adds(&b, ", \"policy\": ");
            if (keys[i].policy[0] != '\0')
                sl_buf_add_json_str(&b, keys[i].policy, strlen(keys[i].policy));
            else
                sl_buf_adds(&b, "null");
            sl_buf_adds(&b, ", \"created\": ");
            if (keys[i].created[0] != '\0')
                sl_buf_add_json_str(&b, keys[i].created, strlen(keys[i].created));
            else
                sl_buf_adds(&b, "null");
            sl_buf_adds(&b, "}");
        }
        sl_buf_adds(&b, n ? "\n]\n" : "]\n");
        fputs(b.data, stdout);
        sl_buf_release(&b);
    } else if (n == 0) {
        printf("no keys in %s\n"
               "add one with 'sluice keys add NAME --policy FILE'\n",
               c->project->credentials);
    } else {
        printf("%-20s  %-24s  %-32s  %s\n", "name", "access key id", "policy", "created");
        for (size_t i = 0; i < n; i++)
            printf("%-20s  %-24s  %-32s  %s\n", keys[i].name, keys[i].id,
                   keys[i].policy[0] ? keys[i].policy : "all actions",
                   keys[i].created[0] ? keys[i].created : "-");
    }
    free(keys);
    return EXIT_OK;
}

static int
remove_key(struct cli *c, int argc, char **argv)
{
    struct key_info k;
    int rc;

    if (argc != 2)
        return cli_usage("keys", argc < 2 ? "remove needs a NAME or KEYID"
                                          : "remove takes one NAME or KEYID");
    rc = project_open(c->project_dir, &c->project, &c->diag);
    if (rc == 0)
        rc = keys_remove(c->project->credentials, argv[1], &k, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    printf("removed key '%s' (%s)\n", k.name, k.id);
    return EXIT_OK;
}

static int
run(struct cli *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "list";

    if (strcmp(sub, "list") == 0)
        return list(c, argc > 1 ? argc - 1 : 1, argc > 1 ? argv + 1 : argv);
    if (strcmp(sub, "add") == 0)
        return add(c, argc - 1, argv + 1);
    if (strcmp(sub, "remove") == 0 || strcmp(sub, "rm") == 0)
        return remove_key(c, argc - 1, argv + 1);
    return cli_usage("keys", "unknown subcommand '%s'", sub);
}

const struct cli_command cli_keys_cmd = {
    "keys",
    run,
    "access keys of sluice serve: add, list, remove",
    "usage: sluice keys [list [--json]]\n"
    "       sluice keys add NAME [--policy FILE]\n"
    "       sluice keys remove NAME|KEYID\n"
    "\n"
    "Access keys sign requests to sluice serve as AWS access keys do.  They live\n"
    "in the credentials file that server.credentials names (.sluice/credentials),\n"
    "which only its owner may read; it has the AWS CLI's shape, so a client can\n"
    "use it with AWS_SHARED_CREDENTIALS_FILE=FILE and --profile NAME.  A running\n"
    "server picks up changes without a restart.\n"
    "\n"
    "  list      name, access key id, policy and creation time of each key;\n"
    "            never a secret\n"
    "  add NAME  create a key (NAME: 1 to 64 of A-Z a-z 0-9 _ . -) and print it\n"
    "            as 'aws iam create-access-key' does: this is the only time its\n"
    "            secret is printed\n"
    "  --policy FILE\n"
    "            what the key may do: an IAM identity policy (JSON: Effect,\n"
    "            Action/NotAction, Resource/NotResource, * and ? wildcards), checked\n"
    "            and copied to policies/NAME.json beside the credentials file.\n"
    "            Without it the key may call every action\n"
    "  remove NAME|KEYID\n"
    "            delete a key, and the policy copy that add made\n"
    "\n"
    "Environment: SLUICE_ACCESS_KEY_ID and SLUICE_SECRET_ACCESS_KEY (both or\n"
    "neither) give sluice serve one more key, named 'env', with SLUICE_KEY_POLICY\n"
    "as its optional policy file.\n",
};
