/* The HTTP side of `heapswitch export`, on libmicrohttpd: GET or HEAD of
 * /metrics renders the page, / is a link to it, anything else is 404 or
 * 405. libmicrohttpd parses the requests and answers malformed ones
 * itself; it runs from the caller's own poll loop (its epoll descriptor),
 * so one thread serves everything and the page renderer needs no lock.
 *
 * Limits: at most max_connections at once (libmicrohttpd stops accepting
 * at the limit, so the rest wait in the listening backlog) and a whole
 * life of timeout_seconds per connection. libmicrohttpd's own timeout only
 * counts idle time, which a client sending one byte a second never
 * reaches; so each connection also gets a deadline from its start, and a
 * connection past it is shut down here. Every answer closes its
 * connection: a scrape every few seconds does not need keep-alive, and a
 * connection then cannot hold a slot between scrapes. */
#include "config.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dashboard/command.h"
#include "dashboard/export.h"
#include "dashboard/model.h"

/* Per connection, for the request and the answer's headers: a longer
 * request line gets 414, longer headers 431. */
#define REQUEST_MEMORY 16384
#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

/* One open connection, from libmicrohttpd's "started" to "closed". */
struct connection {
    struct MHD_Connection *handle;
    double deadline; /* monotonic seconds */
    bool cut;        /* shut down for being past its deadline */
    struct connection *previous, *next;
};

struct hsw_http {
    struct MHD_Daemon *daemon;
    int epoll_fd;
    unsigned timeout_seconds;
    hsw_page_fn page;
    void *context;
    struct connection *connections; /* oldest first: deadlines in order */
    struct connection *newest;
    unsigned long answered;
    bool closed; /* a connection closed during the last run */
};

/* Marks a request that reached the handler (its per-request pointer). */
static int request_marker;

static const char index_page[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>heapswitch "
    "export</title></head>\n<body><h1>heapswitch export</h1>\n"
    "<p>Allocation counters of the processes running under libheapswitch, in "
    "Prometheus' text format: <a href=\"/metrics\">/metrics</a>.</p>\n</body></html>\n";

/* libmicrohttpd's messages, at most one every LOG_INTERVAL seconds once
 * serving: a client sending garbage in a loop must not fill the log. */
#define LOG_INTERVAL 10.0
static void log_message(void *context, const char *format, va_list arguments)
{
    static double last;
    static unsigned long dropped;
    double now = hsw_now();

    (void)context;
    if (last > 0 && now - last < LOG_INTERVAL) {
        dropped++;
        return;
    }
    last = now;
    fputs("heapswitch export: ", stderr);
    vfprintf(stderr, format, arguments);
    if (dropped > 0)
        fprintf(stderr, "heapswitch export: (%lu more such messages not shown)\n",
                dropped);
    dropped = 0;
}

static void track_connection(void *context, struct MHD_Connection *handle,
                             void **socket_context,
                             enum MHD_ConnectionNotificationCode code)
{
    struct hsw_http *http = context;
    struct connection *c = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        c = calloc(1, sizeof *c);
        if (c == NULL)
            return; /* untracked: libmicrohttpd's idle timeout still applies */
        c->handle = handle;
        c->deadline = hsw_now() + http->timeout_seconds;
        c->previous = http->newest;
        if (http->newest != NULL)
            http->newest->next = c;
        else
            http->connections = c;
        http->newest = c;
        *socket_context = c;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && c != NULL) {
        if (c->previous != NULL)
            c->previous->next = c->next;
        else
            http->connections = c->next;
        if (c->next != NULL)
            c->next->previous = c->previous;
        else
            http->newest = c->previous;
        free(c);
        *socket_context = NULL;
        http->closed = true;
    }
}

static void request_done(void *context, struct MHD_Connection *handle, void **request,
                         enum MHD_RequestTerminationCode code)
{
    struct hsw_http *http = context;

    (void)handle;
    (void)code;
    if (*request == &request_marker)
        http->answered++;
}

/* Queues an answer; `text` is either static or malloc'ed (must_free). */
static enum MHD_Result answer(struct MHD_Connection *handle, unsigned status,
                              const char *content_type, char *text, size_t length,
                              bool must_free)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(
        length, text, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    enum MHD_Result result;

    if (response == NULL) {
        if (must_free)
            free(text);
        return MHD_NO; /* libmicrohttpd closes the connection */
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    result = MHD_queue_response(handle, status, response);
    MHD_destroy_response(response);
    return result;
}

static enum MHD_Result answer_text(struct MHD_Connection *handle, unsigned status,
                                   const char *message)
{
    return answer(handle, status, "text/plain; charset=utf-8", (char *)message,
                  strlen(message), false);
}

static enum MHD_Result handle_request(void *context, struct MHD_Connection *handle,
                                      const char *url, const char *method,
                                      const char *version, const char *upload_data,
                                      size_t *upload_data_size, void **request)
{
    struct hsw_http *http = context;
    char *text = NULL;
    size_t length = 0;

    (void)version;
    (void)upload_data;
    if (*request == NULL) {
        /* The headers are in; answer at the next call (the protocol's
         * way to allow "100 Continue"). */
        *request = &request_marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a body is dropped; the answer comes at its end */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return answer_text(handle, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (strcmp(url, "/") == 0)
        return answer(handle, MHD_HTTP_OK, "text/html; charset=utf-8", (char *)index_page,
                      sizeof index_page - 1, false);
    if (strcmp(url, "/metrics") != 0)
        return answer_text(handle, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
    if (http->page(http->context, &text, &length) != 0)
        return answer_text(handle, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "heapswitch export: cannot read the segments\n");
    return answer(handle, MHD_HTTP_OK, CONTENT_TYPE_METRICS, text, length, true);
}

struct hsw_http *hsw_http_start(int listener, const struct hsw_http_limits *limits,
                                hsw_page_fn page, void *context)
{
    struct hsw_http *http = calloc(1, sizeof *http);
    const union MHD_DaemonInfo *info;

    if (http == NULL) {
        hsw_error("export", "out of memory");
        close(listener);
        return NULL;
    }
    http->timeout_seconds = limits->timeout_seconds;
    http->page = page;
    http->context = context;
    /* Port 0 and MHD_OPTION_LISTEN_SOCKET: libmicrohttpd takes our socket. */
    http->daemon = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle_request, http,
        MHD_OPTION_EXTERNAL_LOGGER, log_message, http, /* first, to catch every message */
        MHD_OPTION_LISTEN_SOCKET, listener, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)REQUEST_MEMORY, MHD_OPTION_CONNECTION_LIMIT, limits->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, limits->timeout_seconds,
        MHD_OPTION_NOTIFY_CONNECTION, track_connection, http, MHD_OPTION_NOTIFY_COMPLETED,
        request_done, http, MHD_OPTION_END);
    if (http->daemon == NULL) {
        hsw_error("export", "the HTTP server (libmicrohttpd) did not start");
        close(listener);
        free(http);
        return NULL;
    }
    info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    if (info == NULL) {
        hsw_error("export", "libmicrohttpd has no epoll descriptor");
        hsw_http_stop(http);
        return NULL;
    }
    http->epoll_fd = info->epoll_fd;
    return http;
}

int hsw_http_fd(const struct hsw_http *http)
{
    return http->epoll_fd;
}

int hsw_http_timeout_ms(struct hsw_http *http)
{
    MHD_UNSIGNED_LONG_LONG library_ms;
    double wait = -1;

    /* At its connection limit, libmicrohttpd takes the listening socket
     * out of its epoll set, and puts it back at the start of the run after
     * a connection closes: until then the epoll descriptor does not wake
     * for the connections waiting in the backlog. */
    if (http->closed)
        return 0;
    if (MHD_get_timeout(http->daemon, &library_ms) == MHD_YES)
        wait = (double)library_ms;
    for (struct connection *c = http->connections; c != NULL; c = c->next)
        if (!c->cut) {
            double until = (c->deadline - hsw_now()) * 1000 + 1;
            if (wait < 0 || until < wait)
                wait = until < 0 ? 0 : until;
            break; /* the oldest has the first deadline */
        }
    return wait < 0 ? -1 : wait > 60000 ? 60000 : (int)wait;
}

int hsw_http_run(struct hsw_http *http)
{
    double now;

    http->closed = false;
    if (MHD_run(http->daemon) != MHD_YES) {
        hsw_error("export", "the HTTP server failed");
        return -1;
    }
    /* Shut the overdue connections down: libmicrohttpd sees them end at
     * its next run and closes them as it would any other. */
    now = hsw_now();
    for (struct connection *c = http->connections; c != NULL && c->deadline <= now;
         c = c->next) {
        const union MHD_ConnectionInfo *info;

        if (c->cut)
            continue;
        info = MHD_get_connection_info(c->handle, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info != NULL)
            shutdown(info->connect_fd, SHUT_RDWR);
        c->cut = true;
    }
    return 0;
}

unsigned long hsw_http_answered(const struct hsw_http *http)
{
    return http->answered;
}

void hsw_http_stop(struct hsw_http *http)
{
    if (http == NULL)
        return;
    if (http->daemon != NULL)
        MHD_stop_daemon(http->daemon);
    while (http->connections != NULL) {
        struct connection *next = http->connections->next;
        free(http->connections);
        http->connections = next;
    }
    free(http);
}
