/* heapswitch export: an HTTP endpoint serving the counters of every
 * process on the host at /metrics, in Prometheus' text exposition format
 * (version 0.0.4), read afresh from the segments at each scrape.
 *
 * One thread, one poll loop: the listening socket and up to MAX_CLIENTS
 * connections, each with a deadline (CLIENT_TIMEOUT) and a request size
 * limit (REQUEST_MAX). A client that disconnects early, stalls or sends
 * garbage costs its own connection only. Every answer closes the
 * connection (no keep-alive: a scrape every few seconds does not need it).
 * SIGINT and SIGTERM end the loop with status 0; SIGPIPE is ignored (and
 * sends use MSG_NOSIGNAL anyway).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dashboard/command.h"
#include "dashboard/format.h"
#include "dashboard/model.h"

#define USAGE "[--listen ADDRESS:PORT] [--once]"
#define DEFAULT_LISTEN "127.0.0.1:9464"
#define MAX_CLIENTS 64
#define REQUEST_MAX 8192     /* bytes of request line and headers */
#define CLIENT_TIMEOUT 5.0   /* seconds a connection may take in all */
#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

static int help(void)
{
    printf("usage: heapswitch export " USAGE "\n\n"
           "Serves the counters of every process running under libheapswitch at\n"
           "http://ADDRESS:PORT/metrics in Prometheus' text format (0.0.4), read\n"
           "afresh at each scrape. Exits 0 on SIGINT or SIGTERM, 1 if it cannot\n"
           "listen, 2 on bad usage.\n\n"
           "  --listen ADDRESS:PORT  where to listen (default " DEFAULT_LISTEN ", loopback):\n"
           "                         an IPv4 address, [IPv6 address]:PORT, or :PORT for\n"
           "                         every interface\n"
           "  --once                 answer one request, then exit\n");
    return 0;
}

/* ---- The listening address -------------------------------------------- */

struct listen_address {
    struct sockaddr_storage address;
    socklen_t length;
    bool any; /* ":PORT": every interface, IPv6 and IPv4 if possible */
    unsigned port;
    char display[80];
};

/* Parses ADDRESS:PORT into `out`. Returns 0, or -1 with a reason. */
static int parse_listen(const char *text, struct listen_address *out, const char **why)
{
    char host[64];
    const char *port_text;
    size_t host_length;
    unsigned long port;

    memset(out, 0, sizeof *out);
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':') {
            *why = "an IPv6 address is written [ADDRESS]:PORT";
            return -1;
        }
        host_length = (size_t)(close - text - 1);
        port_text = close + 2;
        if (host_length == 0 || host_length >= sizeof host) {
            *why = "the IPv6 address between the brackets is not valid";
            return -1;
        }
        memcpy(host, text + 1, host_length);
        host[host_length] = '\0';
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL) {
            *why = "expected ADDRESS:PORT, [IPv6]:PORT or :PORT";
            return -1;
        }
        host_length = (size_t)(colon - text);
        port_text = colon + 1;
        if (memchr(text, ':', host_length) != NULL) {
            *why = "put an IPv6 address in brackets: [ADDRESS]:PORT";
            return -1;
        }
        if (host_length >= sizeof host) {
            *why = "the address is not a valid IPv4 address";
            return -1;
        }
        memcpy(host, text, host_length);
        host[host_length] = '\0';
    }
    if (port_text[0] == '\0' || hsw_parse_count(port_text, 65535, &port) != 0) {
        *why = "the port must be a number from 1 to 65535";
        return -1;
    }
    out->port = (unsigned)port;
    if (text[0] == '[') {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->address;
        if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1) {
            *why = "the address between the brackets is not a valid IPv6 address";
            return -1;
        }
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        out->length = sizeof *v6;
        snprintf(out->display, sizeof out->display, "[%s]:%lu", host, port);
    } else if (host[0] == '\0') {
        /* Every interface: only when asked for with ":PORT". */
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->address;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_any;
        v6->sin6_port = htons((uint16_t)port);
        out->length = sizeof *v6;
        out->any = true;
        snprintf(out->display, sizeof out->display, ":%lu", port);
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&out->address;
        if (strcmp(host, "localhost") == 0)
            strcpy(host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &v4->sin_addr) != 1) {
            *why = "the address is not a valid IPv4 address (IPv6: [ADDRESS]:PORT)";
            return -1;
        }
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->length = sizeof *v4;
        snprintf(out->display, sizeof out->display, "%s:%lu", host, port);
    }
    return 0;
}

static int try_listen(const struct listen_address *where)
{
    int fd = socket(where->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int yes = 1, no = 0, saved;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (where->any)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
    if (bind(fd, (const struct sockaddr *)&where->address, where->length) != 0 ||
        listen(fd, 64) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Returns the listening socket, or -1 after an error message. */
static int open_listener(struct listen_address *where)
{
    int fd = try_listen(where);

    if (fd < 0 && where->any && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
        /* No IPv6 on this host: every IPv4 interface then. */
        struct sockaddr_in *v4 = (struct sockaddr_in *)&where->address;
        memset(&where->address, 0, sizeof where->address);
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_port = htons((uint16_t)where->port);
        where->length = sizeof *v4;
        fd = try_listen(where);
    }
    if (fd >= 0)
        return fd;
    if (errno == EADDRINUSE)
        hsw_error("export", "address %s is in use", where->display);
    else if (errno == EADDRNOTAVAIL)
        hsw_error("export", "address %s is not an address of this host", where->display);
    else if (errno == EACCES)
        hsw_error("export", "not allowed to listen on %s (a port below 1024 needs "
                            "privileges)", where->display);
    else
        hsw_error("export", "cannot listen on %s: %s", where->display, strerror(errno));
    return -1;
}

/* ---- The metrics ------------------------------------------------------ */

/* A label value as the exposition format wants it: backslash, quote and
 * newline escaped; bytes that are not UTF-8 replaced by '?'. */
static void label_value(FILE *out, const char *text)
{
    const unsigned char *at = (const unsigned char *)text;

    while (*at != '\0') {
        unsigned length = *at < 0x80           ? 1
                          : (*at & 0xe0) == 0xc0 ? 2
                          : (*at & 0xf0) == 0xe0 ? 3
                          : (*at & 0xf8) == 0xf0 ? 4
                                                 : 0;
        bool valid = length > 0 && !(length == 2 && *at < 0xc2);

        for (unsigned i = 1; valid && i < length; i++)
            valid = (at[i] & 0xc0) == 0x80;
        if (!valid) {
            fputc('?', out);
            at++;
            continue;
        }
        if (*at == '\\')
            fputs("\\\\", out);
        else if (*at == '"')
            fputs("\\\"", out);
        else if (*at == '\n')
            fputs("\\n", out);
        else
            fwrite(at, 1, length, out);
        at += length;
    }
}

/* The executable's base name, or the command line's first word's. */
static void command_name(const struct heapswitch_snapshot *s, char *out, size_t size)
{
    const char *name = s->exe[0] != '\0' ? s->exe : s->cmdline;
    const char *slash;
    size_t length;

    if (name == s->cmdline) {
        length = strcspn(name, " ");
        snprintf(out, size, "%.*s", (int)length, name);
        name = out;
    }
    slash = strrchr(name, '/');
    memmove(out, slash ? slash + 1 : name, strlen(slash ? slash + 1 : name) + 1);
    (void)size;
}

static void labels(FILE *out, const struct heapswitch_snapshot *s, const char *kind)
{
    char command[256];

    command_name(s, command, sizeof command);
    fprintf(out, "{pid=\"%d\",command=\"", (int)s->pid);
    label_value(out, command);
    fputs("\",backend=\"", out);
    label_value(out, s->backend);
    fputs("\",tag=\"", out);
    label_value(out, s->tag);
    fputc('"', out);
    if (kind != NULL)
        fprintf(out, ",kind=\"%s\"", kind);
    fputc('}', out);
}

enum family {
    F_CALLS,
    F_FAILURES,
    F_BYTES_REQUESTED,
    F_BYTES_ALLOCATED,
    F_BYTES_FREED,
    F_REQUESTS,
    F_LIVE,
    F_PEAK,
    F_RSS,
    F_FRAGMENTATION,
    F_HEAP_RESIDENT,
    F_THREADS,
    F_COUNT
};

static const struct {
    const char *name;
    const char *type;
    const char *help;
} families[F_COUNT] = {
    [F_CALLS] = {"heapswitch_calls_total", "counter",
                 "Allocator calls by kind (malloc, calloc, realloc, free, aligned)."},
    [F_FAILURES] = {"heapswitch_failures_total", "counter",
                    "Allocator calls that failed (NULL or an error code)."},
    [F_BYTES_REQUESTED] = {"heapswitch_bytes_requested_total", "counter",
                           "Bytes asked for by allocating calls."},
    [F_BYTES_ALLOCATED] = {"heapswitch_bytes_allocated_total", "counter",
                           "Usable bytes of the blocks handed out."},
    [F_BYTES_FREED] = {"heapswitch_bytes_freed_total", "counter",
                       "Usable bytes of the blocks given back."},
    [F_REQUESTS] = {"heapswitch_requests_total", "counter",
                    "Requests marked with heapswitch_request_done()."},
    [F_LIVE] = {"heapswitch_live_bytes", "gauge",
                "Bytes allocated and not yet freed (usable sizes)."},
    [F_PEAK] = {"heapswitch_peak_live_bytes", "gauge",
                "Highest live bytes seen at a refresh of the heap figures."},
    [F_RSS] = {"heapswitch_rss_bytes", "gauge", "Resident set size of the process."},
    [F_FRAGMENTATION] = {"heapswitch_fragmentation_ratio", "gauge",
                         "1 - live bytes / heap resident bytes, when known."},
    [F_HEAP_RESIDENT] = {"heapswitch_heap_resident_bytes", "gauge",
                         "Bytes the backend holds resident, by its own figures."},
    [F_THREADS] = {"heapswitch_threads", "gauge", "Threads owning a counter slot."},
};

static void family_header(FILE *out, enum family f)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
            families[f].name, families[f].type);
}

static void sample_u64(FILE *out, enum family f, const struct heapswitch_snapshot *s,
                       const char *kind, uint64_t value)
{
    fputs(families[f].name, out);
    labels(out, s, kind);
    fprintf(out, " %" PRIu64 "\n", value);
}

/* Writes the whole exposition of the processes seen in the last scan. */
static void write_metrics(FILE *out, const struct hsw_model *model, double started)
{
    static const char *const kinds[] = {"malloc", "calloc", "realloc", "free", "aligned"};
    unsigned processes = 0;

    for (int f = 0; f < F_COUNT; f++) {
        family_header(out, (enum family)f);
        for (size_t i = 0; i < model->count; i++) {
            const struct heapswitch_snapshot *s = &model->procs[i].now;
            const struct heapswitch_counters *c = &s->counters;

            if (!model->procs[i].seen)
                continue;
            switch ((enum family)f) {
            case F_CALLS: {
                const uint64_t calls[] = {c->malloc_calls, c->calloc_calls, c->realloc_calls,
                                          c->free_calls, c->aligned_calls};
                for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
                    sample_u64(out, F_CALLS, s, kinds[k], calls[k]);
                processes++;
                break;
            }
            case F_FAILURES: sample_u64(out, F_FAILURES, s, NULL, c->failures); break;
            case F_BYTES_REQUESTED:
                sample_u64(out, F_BYTES_REQUESTED, s, NULL, c->bytes_requested);
                break;
            case F_BYTES_ALLOCATED:
                sample_u64(out, F_BYTES_ALLOCATED, s, NULL, c->bytes_allocated);
                break;
            case F_BYTES_FREED: sample_u64(out, F_BYTES_FREED, s, NULL, c->bytes_freed); break;
            case F_REQUESTS: sample_u64(out, F_REQUESTS, s, NULL, c->requests); break;
            case F_LIVE: sample_u64(out, F_LIVE, s, NULL, s->live_bytes); break;
            case F_PEAK: sample_u64(out, F_PEAK, s, NULL, s->peak_live_bytes); break;
            case F_RSS: sample_u64(out, F_RSS, s, NULL, s->rss_bytes); break;
            case F_FRAGMENTATION:
                if (s->fragmentation >= 0) {
                    fputs(families[f].name, out);
                    labels(out, s, NULL);
                    fprintf(out, " %.6g\n", s->fragmentation);
                }
                break;
            case F_HEAP_RESIDENT:
                if (s->heap.valid)
                    sample_u64(out, F_HEAP_RESIDENT, s, NULL, s->heap.resident);
                break;
            case F_THREADS: sample_u64(out, F_THREADS, s, NULL, s->threads); break;
            case F_COUNT: break;
            }
        }
    }
    fprintf(out, "# HELP heapswitch_processes Processes with a readable segment.\n"
                 "# TYPE heapswitch_processes gauge\nheapswitch_processes %u\n",
            processes);
    fprintf(out, "# HELP heapswitch_segments_refused Segments refused as invalid or not "
                 "readable in this scrape.\n"
                 "# TYPE heapswitch_segments_refused gauge\nheapswitch_segments_refused %u\n",
            model->problems);
    fprintf(out, "# HELP heapswitch_up Whether the exporter could read the segments.\n"
                 "# TYPE heapswitch_up gauge\nheapswitch_up 1\n");
    fprintf(out, "# HELP heapswitch_scrape_duration_seconds Time taken to read the "
                 "segments and render this page.\n"
                 "# TYPE heapswitch_scrape_duration_seconds gauge\n"
                 "heapswitch_scrape_duration_seconds %.6f\n",
            hsw_now() - started);
}

/* ---- HTTP ------------------------------------------------------------- */

enum client_state { CLIENT_FREE, CLIENT_READING, CLIENT_WRITING };

struct client {
    enum client_state state;
    int fd;
    double deadline;
    char request[REQUEST_MAX + 1];
    size_t used;
    char *response;
    size_t response_length, sent;
};

struct server {
    int listener;
    struct client clients[MAX_CLIENTS];
    struct hsw_model model;
    bool once;
    unsigned long answered;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int signal_number)
{
    stop_signal = signal_number;
}

static void close_client(struct server *server, struct client *client)
{
    close(client->fd);
    free(client->response);
    client->response = NULL;
    client->state = CLIENT_FREE;
    if (server->once && server->answered > 0) {
        /* --once: the one answer is out (or its client is gone). */
        stop_signal = -1;
    }
}

static const char *reason_of(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    default: return "Error";
    }
}

/* Prepares the whole answer in client->response. */
static void respond(struct server *server, struct client *client, int code,
                    const char *content_type, const char *body, size_t body_length,
                    bool head_only)
{
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);

    server->answered++;
    client->state = CLIENT_WRITING;
    client->sent = 0;
    if (out == NULL) {
        client->response = NULL;
        client->response_length = 0;
        return;
    }
    fprintf(out,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Connection: close\r\nCache-Control: no-store\r\n",
            code, reason_of(code), content_type, body_length);
    if (code == 405)
        fputs("Allow: GET, HEAD\r\n", out);
    fputs("\r\n", out);
    if (!head_only)
        fwrite(body, 1, body_length, out);
    fclose(out);
    client->response = text;
    client->response_length = length;
}

static void respond_text(struct server *server, struct client *client, int code,
                         const char *message)
{
    respond(server, client, code, "text/plain; charset=utf-8", message, strlen(message),
            false);
}

static const char index_page[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>heapswitch "
    "export</title></head>\n<body><h1>heapswitch export</h1>\n"
    "<p>Allocation counters of the processes running under libheapswitch, in "
    "Prometheus' text format: <a href=\"/metrics\">/metrics</a>.</p>\n</body></html>\n";

static void serve_metrics(struct server *server, struct client *client, bool head_only)
{
    double started = hsw_now();
    char *body = NULL;
    size_t length = 0;
    FILE *out;

    if (hsw_model_refresh(&server->model, false) != 0) {
        respond_text(server, client, 500, "heapswitch export: cannot read /dev/shm\n");
        return;
    }
    out = open_memstream(&body, &length);
    if (out == NULL) {
        respond_text(server, client, 500, "heapswitch export: out of memory\n");
        return;
    }
    write_metrics(out, &server->model, started);
    fclose(out);
    respond(server, client, 200, CONTENT_TYPE_METRICS, body, length, head_only);
    free(body);
}

static bool is_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Looks at what has arrived: answers as soon as the request line is known
 * to be bad, or once the headers are complete. */
static void handle_input(struct server *server, struct client *client)
{
    char *line_end = memchr(client->request, '\n', client->used);
    char method[16], target[REQUEST_MAX], *space, *query;
    size_t line_length;
    char saved;
    bool head_only;

    /* Anything but printable ASCII in the request line is garbage. */
    for (size_t i = 0; i < (line_end ? (size_t)(line_end - client->request) : client->used);
         i++) {
        unsigned char c = (unsigned char)client->request[i];
        if ((c < 0x20 && c != '\r') || c >= 0x7f) {
            respond_text(server, client, 400, "bad request\n");
            return;
        }
    }
    if (line_end == NULL) {
        if (client->used >= REQUEST_MAX)
            respond_text(server, client, 431, "request too large\n");
        return;
    }
    line_length = (size_t)(line_end - client->request);
    if (line_length > 0 && client->request[line_length - 1] == '\r')
        line_length--;
    saved = client->request[line_length];
    client->request[line_length] = '\0';
    /* METHOD SP TARGET SP HTTP/1.x */
    space = strchr(client->request, ' ');
    if (space == NULL || space == client->request ||
        (size_t)(space - client->request) >= sizeof method) {
        respond_text(server, client, 400, "bad request\n");
        return;
    }
    memcpy(method, client->request, (size_t)(space - client->request));
    method[space - client->request] = '\0';
    for (const char *c = method; *c != '\0'; c++)
        if (!is_token_char(*c)) {
            respond_text(server, client, 400, "bad request\n");
            return;
        }
    snprintf(target, sizeof target, "%s", space + 1);
    space = strchr(target, ' ');
    if (space == NULL || target[0] != '/' || strncmp(space + 1, "HTTP/1.", 7) != 0 ||
        strchr(space + 1, ' ') != NULL) {
        respond_text(server, client, 400, "bad request\n");
        return;
    }
    *space = '\0';
    /* The request line is good: wait for the end of the headers. */
    client->request[line_length] = saved;
    if (strstr(client->request, "\r\n\r\n") == NULL && strstr(client->request, "\n\n") == NULL) {
        if (client->used >= REQUEST_MAX)
            respond_text(server, client, 431, "request too large\n");
        return;
    }
    if ((query = strchr(target, '?')) != NULL)
        *query = '\0';
    head_only = strcmp(method, "HEAD") == 0;
    if (strcmp(method, "GET") != 0 && !head_only) {
        respond_text(server, client, 405, "only GET and HEAD\n");
        return;
    }
    if (strcmp(target, "/metrics") == 0)
        serve_metrics(server, client, head_only);
    else if (strcmp(target, "/") == 0)
        respond(server, client, 200, "text/html; charset=utf-8", index_page,
                sizeof index_page - 1, head_only);
    else
        respond_text(server, client, 404, "not found: try /metrics\n");
}

static void read_client(struct server *server, struct client *client)
{
    ssize_t got = recv(client->fd, client->request + client->used, REQUEST_MAX - client->used,
                       0);

    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (got <= 0) { /* gone before asking anything complete */
        close_client(server, client);
        return;
    }
    client->used += (size_t)got;
    client->request[client->used] = '\0';
    handle_input(server, client);
}

static void write_client(struct server *server, struct client *client)
{
    while (client->sent < client->response_length) {
        ssize_t sent = send(client->fd, client->response + client->sent,
                            client->response_length - client->sent, MSG_NOSIGNAL);
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            break; /* the client went away: nothing more to do */
        client->sent += (size_t)sent;
    }
    /* Done: half-close, and drop what the client sent beyond its request,
     * so that closing does not reset the connection under the answer. */
    shutdown(client->fd, SHUT_WR);
    for (int i = 0; i < 16 && recv(client->fd, client->request, REQUEST_MAX, 0) > 0; i++)
        continue;
    close_client(server, client);
}

static void accept_clients(struct server *server)
{
    for (;;) {
        int fd = accept4(server->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct client *client = NULL;

        if (fd < 0)
            return; /* EAGAIN, or an error of that one connection */
        for (size_t i = 0; i < MAX_CLIENTS && client == NULL; i++)
            if (server->clients[i].state == CLIENT_FREE)
                client = &server->clients[i];
        if (client == NULL) {
            close(fd); /* full: the scraper will try again */
            continue;
        }
        client->state = CLIENT_READING;
        client->fd = fd;
        client->used = 0;
        client->request[0] = '\0';
        client->response = NULL;
        client->deadline = hsw_now() + CLIENT_TIMEOUT;
    }
}

static int serve(struct server *server, const sigset_t *wait_mask)
{
    struct pollfd fds[MAX_CLIENTS + 1];
    struct client *polled[MAX_CLIENTS + 1];

    while (stop_signal == 0) {
        double now = hsw_now(), next = now + 60;
        nfds_t count = 0;
        struct timespec timeout;
        int ready;

        fds[count].fd = server->listener;
        fds[count].events = POLLIN;
        polled[count++] = NULL;
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            struct client *client = &server->clients[i];
            if (client->state == CLIENT_FREE)
                continue;
            if (client->deadline <= now) {
                close_client(server, client); /* too slow */
                continue;
            }
            if (client->deadline < next)
                next = client->deadline;
            fds[count].fd = client->fd;
            fds[count].events = client->state == CLIENT_READING ? POLLIN : POLLOUT;
            polled[count++] = client;
        }
        if (stop_signal != 0)
            break;
        timeout.tv_sec = (time_t)(next - now);
        timeout.tv_nsec = (long)((next - now - (double)timeout.tv_sec) * 1e9) + 1000000;
        if (timeout.tv_nsec >= 1000000000) {
            timeout.tv_sec++;
            timeout.tv_nsec -= 1000000000;
        }
        ready = ppoll(fds, count, &timeout, wait_mask);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            hsw_error("export", "poll: %s", strerror(errno));
            return 1;
        }
        for (nfds_t i = 1; i < count; i++) {
            struct client *client = polled[i];
            if (fds[i].revents == 0 || client->state == CLIENT_FREE)
                continue;
            if (client->state == CLIENT_READING)
                read_client(server, client);
            if (client->state == CLIENT_WRITING)
                write_client(server, client);
        }
        if (fds[0].revents != 0 && stop_signal == 0)
            accept_clients(server);
    }
    return 0;
}

static int run(int argc, char **argv)
{
    static struct server server;
    struct listen_address where;
    const char *listen_text = DEFAULT_LISTEN, *why = NULL;
    struct sigaction action;
    sigset_t blocked, wait_mask;
    int status;

    for (int at = 1; at < argc; at++) {
        const char *option = argv[at];

        if (strcmp(option, "-h") == 0 || strcmp(option, "--help") == 0)
            return help();
        if (strcmp(option, "--once") == 0)
            server.once = true;
        else if (strcmp(option, "--listen") == 0 || strcmp(option, "-l") == 0) {
            if (at + 1 >= argc)
                return hsw_usage_error("export", "%s needs ADDRESS:PORT", option);
            listen_text = argv[++at];
        } else if (strncmp(option, "--listen=", 9) == 0)
            listen_text = option + 9;
        else if (option[0] == '-')
            return hsw_usage_error("export", "unknown option '%s'", option);
        else
            return hsw_usage_error("export", "unexpected argument '%s'", option);
    }
    if (parse_listen(listen_text, &where, &why) != 0)
        return hsw_usage_error("export", "bad --listen '%s': %s", listen_text, why);

    /* SIGINT and SIGTERM are only delivered inside ppoll: no race. */
    signal(SIGPIPE, SIG_IGN);
    memset(&action, 0, sizeof action);
    action.sa_handler = on_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGTERM);
    sigprocmask(SIG_BLOCK, &blocked, &wait_mask);
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);

    server.listener = open_listener(&where);
    if (server.listener < 0)
        return 1;
    hsw_model_init(&server.model, 0);
    if (where.any)
        fprintf(stderr, "heapswitch export: serving http://*:%u/metrics (every interface)\n",
                where.port);
    else
        fprintf(stderr, "heapswitch export: serving http://%s/metrics\n", where.display);
    status = serve(&server, &wait_mask);
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (server.clients[i].state != CLIENT_FREE) {
            close(server.clients[i].fd);
            free(server.clients[i].response);
        }
    close(server.listener);
    hsw_model_free(&server.model);
    return status;
}

const struct hsw_command hsw_command_export = {
    .name = "export",
    .usage = USAGE,
    .summary = "serve every process's counters to Prometheus over HTTP",
    .run = run,
};
