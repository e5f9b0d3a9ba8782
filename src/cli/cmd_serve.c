/*
 * cmd_serve.c - sluice serve [--listen ADDRESS:PORT].
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "server/server.h"
#include "core/banned.h"

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"insecure", no_argument, NULL, 'I'},
        {NULL, 0, NULL, 0},
    };
    struct server_options o = {0};
    struct server *srv;
    sigset_t set;
    int opt, rc, sig = 0;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "l:", opts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            o.listen = optarg;
            break;
        case 'I':
            o.insecure = true;
            break;
        default:
            return cli_usage("serve", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage("serve", "unexpected argument '%s'", argv[optind]);
    /* Signals are taken by this thread alone, with sigwait(): block them
     * before any server thread starts, so every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = cli_open(c);
    if (rc == 0)
        rc = server_start(c->project, &o, &srv, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    printf("sluice serve: listening on %s://%s (lake %s)\n",
           c->project->config.server.tls_cert ? "https" : "http", server_address(srv),
           c->project->lake);
    printf("sluice serve: %s\n", server_security(srv));
    fflush(stdout);
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
        server_reload(srv);
    SL_INFO("serve", "%s: stopping: finishing requests, delivering buffers",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    server_stop(srv);
    printf("sluice serve: stopped\n");
    return EXIT_OK;
}

const struct cli_command cli_serve_cmd = {
    "serve", run, "the Kinesis and Firehose APIs, delivery into raw, transforms on arrival",
    "usage: sluice serve [--listen ADDRESS:PORT] [--insecure]\n"
    "\n"
    "Serve the project's streams over HTTP (HTTPS with server.tls_cert and\n"
    "server.tls_key) until SIGTERM or SIGINT:\n"
    "\n"
    "  POST /        the Kinesis Data Streams API (X-Amz-Target: Kinesis_20131202.*)\n"
    "                and the Firehose API (Firehose_20150804.*), in JSON or CBOR, for\n"
    "                the AWS CLI, the SDKs and agents, pointed here with --endpoint-url\n"
    "  GET /health   {\"status\":\"ok\",\"node\":...,\"served\":[...]} while serving\n"
    "  GET /metrics  Prometheus text: requests, records and bytes in, throttled\n"
    "                records, delivery lag, commit latency, streams served\n"
    "\n"
    "A record is acknowledged once it is durable in its shard's log under\n"
    "lake/_streams/ (group commit; server.fsync).  Streams declared in a source\n"
    "file (stream:) exist from start-up and deliver into the source's raw zone by\n"
    "buffer size or interval, exactly once; with on_arrival: transform each\n"
    "delivered object starts the curated transform.  On SIGTERM or SIGINT the\n"
    "server stops accepting, finishes requests in flight, delivers what it holds\n"
    "and waits for running transforms.  On SIGHUP it reads the TLS certificate\n"
    "and key again for new connections (open ones keep theirs).\n"
    "\n"
    "Several servers may share the project's lake and catalog: each stream is\n"
    "served by one of them at a time, the one holding its lease in the catalog\n"
    "(server.lease_ttl); the others send its producers and readers there\n"
    "(ResourceInUseException names the node) and take the stream over when\n"
    "that server dies.  A server that stops hands its streams over at once.\n"
    "\n"
    "Security: with access keys (sluice keys add; server.credentials, or\n"
    "SLUICE_ACCESS_KEY_ID and SLUICE_SECRET_ACCESS_KEY) every API request must\n"
    "be signed (AWS Signature Version 4) by a key whose policy allows its action\n"
    "on its resource; refusals go to server.audit_log.  Without keys the server\n"
    "answers on loopback only.  /health is open; /metrics is served on loopback\n"
    "or to a key allowed sluice:GetMetrics.  SIGHUP reloads the TLS certificate\n"
    "and the keys (keys are also picked up within a second of changing).\n"
    "\n"
    "  --listen ADDRESS:PORT  overrides server.listen (port 0: any free port)\n"
    "  --insecure             listen on a non-loopback address without keys\n",
};
