#include "transport.h"

#include "tc_err.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t tc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tc_ms_left(int64_t deadline)
{
    int64_t left = deadline - tc_now_ms();
    if (left < 0)
        return 0;
    return left > 1000000000 ? 1000000000 : (int)left;
}

void tc_transport_init(tc_transport *t)
{
    memset(t, 0, sizeof *t);
    t->listen_fd = -1;
}

int tc_transport_parse_fds(tc_transport *t, const char *list)
{
    const char *p = list;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 65535 || (*end && *end != ','))
            return tc_err_set(TC_ERR_USAGE, "--fd: '%s' is not a comma-separated list of descriptors", list);
        if (t->fd_count == TC_MAX_CONNECTIONS)
            return tc_err_set(TC_ERR_USAGE, "--fd: at most %d descriptors", TC_MAX_CONNECTIONS);
        t->fds[t->fd_count++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (t->fd_count == 0)
        return tc_err_set(TC_ERR_USAGE, "--fd: empty list");
    return TC_OK;
}

static int split_host_port(const char *spec, char *host, size_t cap, const char **port)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= cap)
        return tc_err_set(TC_ERR_USAGE, "--connect: '%s' is not HOST:PORT", spec);
    const char *h = spec;
    size_t n = (size_t)(colon - spec);
    if (h[0] == '[' && n >= 2 && h[n - 1] == ']') { /* [::1]:443 */
        h++;
        n -= 2;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    *port = colon + 1;
    return TC_OK;
}

static int connect_with_deadline(int fd, const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
    if (tc_set_nonblocking(fd, 1) < 0)
        return TC_ERR_SYS;
    if (connect(fd, sa, len) < 0 && errno != EINPROGRESS)
        return tc_err_set(TC_ERR_SYS, "connect: %s", strerror(errno));
    int rc = tc_wait_fd(fd, POLLOUT, deadline);
    if (rc < 0)
        return rc;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr)
        return tc_err_set(TC_ERR_SYS, "connect: %s", strerror(soerr));
    return tc_set_nonblocking(fd, 0);
}

static int connect_to(const char *spec, int64_t deadline, int *out)
{
    char host[256];
    const char *port = NULL;
    int rc = split_host_port(spec, host, sizeof host, &port);
    if (rc < 0)
        return rc;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai)
        return tc_err_set(TC_ERR_USAGE, "--connect %s: %s", spec, gai_strerror(gai));
    rc = tc_err_set(TC_ERR_SYS, "--connect %s: no address", spec);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        rc = connect_with_deadline(fd, ai->ai_addr, ai->ai_addrlen, deadline);
        if (rc == TC_OK) {
            *out = fd;
            break;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

static int listen_on(const struct addrinfo *ai, int backlog, int *out)
{
    int one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return tc_err_set(TC_ERR_SYS, "socket: %s", strerror(errno));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        int err = errno;
        close(fd);
        return tc_err_set(TC_ERR_SYS, "listen: %s", strerror(err));
    }
    *out = fd;
    return TC_OK;
}

static int bound_port(int fd, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return tc_err_set(TC_ERR_SYS, "getsockname: %s", strerror(errno));
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    return TC_OK;
}

int tc_transport_listen(tc_transport *t, const char *spec, int backlog, int *port)
{
    char host[256];
    const char *service = NULL;
    int rc = split_host_port(spec, host, sizeof host, &service);
    if (rc < 0)
        return tc_err_set(rc, "--listen: '%s' is not HOST:PORT", spec);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *res;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai)
        return tc_err_set(TC_ERR_USAGE, "--listen %s: %s", spec, gai_strerror(gai));
    int fd = -1;
    rc = listen_on(res, backlog, &fd);
    freeaddrinfo(res);
    if (rc == TC_OK)
        rc = bound_port(fd, port);
    if (rc < 0) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    t->listen_fd = fd;
    return TC_OK;
}

static int accept_one(int listen_fd, int64_t deadline, int *out)
{
    int rc = tc_wait_fd(listen_fd, POLLIN, deadline);
    if (rc < 0)
        return rc;
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return tc_err_set(TC_ERR_SYS, "accept: %s", strerror(errno));
    *out = fd;
    return TC_OK;
}

int tc_transport_next(tc_transport *t, int64_t deadline, int *fd)
{
    int rc;
    if (t->fds_used < t->fd_count) {
        *fd = t->fds[t->fds_used++];
        rc = TC_OK;
    } else if (t->connect_to) {
        rc = connect_to(t->connect_to, deadline, fd);
    } else if (t->listen_fd >= 0) {
        rc = accept_one(t->listen_fd, deadline, fd);
    } else {
        return tc_err_set(TC_ERR_USAGE, "no connection left (give --fd with one descriptor per connection, --connect or --listen-fd)");
    }
    if (rc < 0)
        return rc;
    if (tc_set_nonblocking(*fd, 0) < 0)
        return TC_ERR_SYS;
    return tc_set_nodelay(*fd);
}

int tc_set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        return tc_err_set(TC_ERR_SYS, "TCP_NODELAY: %s", strerror(errno));
    return TC_OK;
}

int tc_set_nonblocking(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
        return tc_err_set(TC_ERR_SYS, "fcntl O_NONBLOCK: %s", strerror(errno));
    return TC_OK;
}

/* ---- stall notices ----
 * One process, one notice pipe: the state is the process's, like tc_err's
 * message. */

static int stall_fd = -1;
static bool armed;
static bool ended_wait;   /* the last wait ended because of a notice */
static char pending[128]; /* the start of a line not complete yet */
static size_t pending_len;

int tc_stall_init(int fd)
{
    stall_fd = -1;
    pending_len = 0;
    if (fd < 0)
        return TC_OK;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return tc_err_set(TC_ERR_USAGE, "--stall-fd %d: not an open descriptor", fd);
    if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return tc_err_set(TC_ERR_SYS, "--stall-fd %d: fcntl: %s", fd, strerror(errno));
    stall_fd = fd;
    return TC_OK;
}

void tc_stall_arm(bool on)
{
    armed = on;
}

static int stall_poll_fd(void)
{
    return armed ? stall_fd : -1;
}

bool tc_stall_ended_wait(void)
{
    return ended_wait;
}

/* "T0 T1": true when the window began no earlier than the wait. */
static bool notice_counts(const char *line, int64_t wait_began)
{
    char *end;
    errno = 0;
    long long t0 = strtoll(line, &end, 10);
    if (end == line || errno != 0 || (*end != ' ' && *end != '\0'))
        return false;
    return t0 >= wait_began;
}

/* Every complete line in `pending`: true if one counts. */
static bool scan_lines(int64_t wait_began)
{
    bool hit = false;
    char *nl;
    while ((nl = memchr(pending, '\n', pending_len)) != NULL) {
        *nl = '\0';
        hit |= notice_counts(pending, wait_began);
        size_t used = (size_t)(nl - pending) + 1;
        memmove(pending, pending + used, pending_len - used);
        pending_len -= used;
    }
    if (pending_len == sizeof pending) /* no notice is that long: not ours */
        pending_len = 0;
    return hit;
}

/* After poll reported the notice pipe: reads every notice there is; true
 * when one is for a wait that began at wait_began. A pipe whose writer is
 * gone is no longer polled. */
static bool take_notices(int64_t wait_began)
{
    bool hit = false;
    for (;;) {
        ssize_t n = read(stall_fd, pending + pending_len, sizeof pending - pending_len);
        if (n > 0) {
            pending_len += (size_t)n;
            hit |= scan_lines(wait_began);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            stall_fd = -1; /* the writer is gone: nothing more will come */
        return hit;
    }
}

/* A wake-up for the stall pipe alone (a notice for an older state, or its
 * writer gone) goes back to waiting: the wait is still the same one, begun
 * at `began`. */
int tc_wait_fd(int fd, short events, int64_t deadline)
{
    int64_t began = tc_now_ms();
    ended_wait = false;
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = events},
                              {.fd = stall_poll_fd(), .events = POLLIN}};
        int n = poll(p, p[1].fd >= 0 ? 2 : 1, tc_ms_left(deadline));
        if (n > 0 && p[0].revents)
            return TC_OK;
        if (n > 0 && take_notices(began)) {
            ended_wait = true;
            return tc_err_set(TC_ERR_TIMEOUT, "stalled: the harness saw both sides wait for "
                              "each other");
        }
        if (n == 0)
            return tc_err_set(TC_ERR_TIMEOUT, "deadline passed while waiting for the socket");
        if (n < 0 && errno != EINTR)
            return tc_err_set(TC_ERR_SYS, "poll: %s", strerror(errno));
    }
}

ssize_t tc_read_some(int fd, uint8_t *buf, size_t cap, int64_t deadline)
{
    for (;;) {
        int rc = tc_wait_fd(fd, POLLIN, deadline);
        if (rc < 0)
            return rc;
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        if (n > 0)
            return n;
        if (n == 0)
            return tc_err_set(TC_ERR_EOF, "the other side closed the connection (FIN)");
        if (errno == ECONNRESET)
            return tc_err_set(TC_ERR_RESET, "the connection was reset (RST)");
        if (errno != EAGAIN && errno != EINTR)
            return tc_err_set(TC_ERR_SYS, "recv: %s", strerror(errno));
    }
}

int tc_write_all(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            return tc_err_set(TC_ERR_RESET, "send: %s", strerror(errno));
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return tc_err_set(TC_ERR_SYS, "send: %s", strerror(errno));
        int rc = tc_wait_fd(fd, POLLOUT, deadline);
        if (rc < 0)
            return rc;
    }
    return TC_OK;
}

int tc_send_fin(int fd)
{
    if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
        return tc_err_set(TC_ERR_SYS, "shutdown(SHUT_WR): %s", strerror(errno));
    return TC_OK;
}

int tc_close_graceful(int fd, int64_t deadline, size_t *drained)
{
    uint8_t sink[16384];
    size_t total = 0;
    int rc = tc_send_fin(fd);
    while (rc == TC_OK) {
        ssize_t n = tc_read_some(fd, sink, sizeof sink, deadline);
        if (n == TC_ERR_EOF)
            break;
        if (n < 0)
            rc = (int)n;
        else
            total += (size_t)n;
    }
    close(fd);
    if (drained)
        *drained = total;
    return rc;
}

int tc_close_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    int rc = TC_OK;
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
        rc = tc_err_set(TC_ERR_SYS, "SO_LINGER: %s", strerror(errno));
    /* close() resets only when it drops the last reference to the socket; a
     * copy another process still holds for a moment (the harness before it
     * closes its own, a sibling between fork and exec) would delay the RST
     * past what this process does next. Disconnecting resets at once. */
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    if (connect(fd, &unspec, sizeof unspec) < 0 && rc == TC_OK && errno != ENOTCONN)
        rc = tc_err_set(TC_ERR_SYS, "disconnect: %s", strerror(errno));
    close(fd);
    return rc;
}

void tc_ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

