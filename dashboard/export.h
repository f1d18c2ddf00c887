/* The parts of `heapswitch export` (dashboard/cmd_export.c): where it
 * listens, the HTTP server, the textfile. Grouped by the file that
 * defines them. The page itself comes from dashboard/metrics.h. */
#ifndef HSW_EXPORT_H
#define HSW_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* ---- dashboard/export_listen.c ---------------------------------------- */

struct hsw_listen_address {
    struct sockaddr_storage address;
    socklen_t length;
    bool any; /* ":PORT": every interface, IPv6 and IPv4 if possible */
    unsigned port;
    char display[80];
};

/* Parses ADDRESS:PORT, [IPV6]:PORT or :PORT. Returns 0, or -1 with a
 * reason in *why. */
int hsw_listen_parse(const char *text, struct hsw_listen_address *out, const char **why);
/* A non-blocking listening socket, or -1 after an error message that
 * says why (in use, not this host's address, no permission). */
int hsw_listen_open(struct hsw_listen_address *where);

/* ---- dashboard/export_http.c ------------------------------------------ */

/* Renders the page into a malloc'ed buffer. Returns 0, or -1 (answered
 * with 500). */
typedef int (*hsw_page_fn)(void *context, char **text, size_t *length);

struct hsw_http_limits {
    unsigned max_connections; /* beyond them, connections wait in the backlog */
    unsigned timeout_seconds; /* a connection's whole life, however active */
};

struct hsw_http;

/* Serves /metrics on `listener` (taken over) from the caller's own loop.
 * NULL after an error message. */
struct hsw_http *hsw_http_start(int listener, const struct hsw_http_limits *limits,
                                hsw_page_fn page, void *context);
/* The descriptor to poll for input before calling hsw_http_run. */
int hsw_http_fd(const struct hsw_http *http);
/* Milliseconds until hsw_http_run must be called even without input, or
 * -1 for no limit. */
int hsw_http_timeout_ms(struct hsw_http *http);
/* Does the pending work and closes connections past their time. Returns
 * 0, or -1 after an error message. */
int hsw_http_run(struct hsw_http *http);
/* Requests answered so far (and sent, or their client gone). */
unsigned long hsw_http_answered(const struct hsw_http *http);
void hsw_http_stop(struct hsw_http *http);

/* ---- dashboard/textfile.c --------------------------------------------- */

/* Replaces the file at `path` with `text` atomically: written to a
 * temporary file in the same directory, then renamed into place, so a
 * reader sees the old file or the new one, never a part. Returns 0, or
 * -1 after an error message. */
int hsw_textfile_write(const char *path, const char *text, size_t length);

#endif
