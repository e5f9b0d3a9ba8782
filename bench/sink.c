/*
 * sink.c - an HTTP server that accepts every PutRecords and does nothing.
 *
 *   loadgen-sink [--port P] [--seconds S]
 *
 * Listens on 127.0.0.1 (port P, default any free one), prints
 * "listening on 127.0.0.1:PORT", and answers every request with
 * {"FailedRecordCount":0,"Records":[]} without looking at the body.  It
 * exists to measure what the load generator itself can send: bench/stream.sh
 * runs loadgen against it on one core before the real comparison, so a
 * result near loadgen's own ceiling is recognised as such.
 *
 * One thread per connection, blocking reads into a fixed buffer; bodies are
 * skipped by Content-Length (chunked requests are not supported: loadgen
 * never sends them).  Exits on SIGTERM or SIGINT, or after S seconds
 * (default 600) so a forgotten sink does not outlive its benchmark.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/banned.h"

#define SINK_BUF (256 * 1024)

static const char reply[] = "HTTP/1.1 200 OK\r\n"
                            "Content-Type: application/x-amz-json-1.1\r\n"
                            "Content-Length: 36\r\n"
                            "\r\n"
                            "{\"FailedRecordCount\":0,\"Records\":[]}";

/* Content-Length of the request head [p, end), 0 when absent. */
static unsigned long long
content_length(const char *p, const char *end)
{
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));

        if (eol == NULL)
            break;
        if (eol - p > 15 && strncasecmp(p, "content-length:", 15) == 0)
            return strtoull(p + 15, NULL, 10);
        p = eol + 1;
    }
    return 0;
}

static void *
serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char *buf = malloc(SINK_BUF);
    size_t len = 0;
    unsigned long long skip = 0;

    if (buf == NULL)
        goto out;
    for (;;) {
        ssize_t r = recv(fd, buf + len, SINK_BUF - len - 1, 0);
        size_t pos = 0;

        if (r <= 0)
            break;
        len += (size_t)r;
        for (;;) {
            char *e;

            if (skip > 0) {
                size_t take = len - pos < skip ? len - pos : (size_t)skip;

                pos += take;
                skip -= take;
                if (skip > 0)
                    break;
                if (send(fd, reply, sizeof(reply) - 1, MSG_NOSIGNAL) < 0)
                    goto out;
                continue;
            }
            buf[len] = '\0';
            e = memmem(buf + pos, len - pos, "\r\n\r\n", 4);
            if (e == NULL)
                break;
            skip = content_length(buf + pos, e + 2);
            pos = (size_t)(e + 4 - buf);
            if (skip == 0 && send(fd, reply, sizeof(reply) - 1, MSG_NOSIGNAL) < 0)
                goto out;
        }
        memmove(buf, buf + pos, len - pos);
        len -= pos;
        if (len >= SINK_BUF - 1)
            break; /* a head that does not fit: not a client of ours */
    }
out:
    free(buf);
    close(fd);
    return NULL;
}

static void
on_alarm(int sig)
{
    (void)sig;
    _exit(0);
}

int
main(int argc, char **argv)
{
    struct sockaddr_in addr = {0};
    socklen_t alen = sizeof(addr);
    unsigned seconds = 600;
    int lfd, one = 1, port = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = (unsigned)strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: loadgen-sink [--port P] [--seconds S]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    signal(SIGTERM, on_alarm);
    signal(SIGINT, on_alarm);
    alarm(seconds);

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        perror("loadgen-sink: socket");
        return 1;
    }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)port);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 128) < 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
        fprintf(stderr, "loadgen-sink: cannot listen on 127.0.0.1:%d: %s\n", port,
                strerror(errno));
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    for (;;) {
        pthread_t t;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("loadgen-sink: accept");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) != 0) {
            close(fd);
            continue;
        }
        pthread_detach(t);
    }
}
