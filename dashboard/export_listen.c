/* Where `heapswitch export` listens: ADDRESS:PORT parsed strictly (IPv4,
 * [IPv6]:PORT, or :PORT for every interface, never a host name to look
 * up), and the listening socket opened here rather than by the HTTP
 * library, so that a port in use or an address of another host gets an
 * error message that says so. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dashboard/command.h"
#include "dashboard/export.h"
#include "dashboard/format.h"

int hsw_listen_parse(const char *text, struct hsw_listen_address *out, const char **why)
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

static int try_listen(const struct hsw_listen_address *where)
{
    int fd =
        socket(where->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int yes = 1, no = 0, saved;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (where->any)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
    /* The longest backlog the system allows: connections beyond the
     * server's limit wait there until a slot frees, rather than fail. */
    if (bind(fd, (const struct sockaddr *)&where->address, where->length) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int hsw_listen_open(struct hsw_listen_address *where)
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
        hsw_error("export",
                  "not allowed to listen on %s (a port below 1024 needs "
                  "privileges)",
                  where->display);
    else
        hsw_error("export", "cannot listen on %s: %s", where->display, strerror(errno));
    return -1;
}
