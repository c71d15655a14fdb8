#include "shim_io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tc_err.h"
#include "transport.h"

/* TLS record header: type(1) version(2) length(2). */
#define TLS_HEADER_LEN 5

static int conn_start(shim_conn *c, const shim_driver *drv, void *ctx, shim_io io, int fd)
{
    c->drv = drv;
    c->ctx = ctx;
    c->io = io;
    c->fd = fd;
    c->tls = NULL;
    return tc_set_nonblocking(fd, io != SHIM_IO_BLOCKING);
}

int shim_conn_open(shim_conn *c, const shim_driver *drv, void *ctx, shim_io io, int fd,
                   int conn_index)
{
    int rc = conn_start(c, drv, ctx, io, fd);
    if (rc < 0)
        return rc;
    return drv->session_new(ctx, io == SHIM_IO_MEMORY ? -1 : fd, conn_index, &c->tls);
}

int shim_conn_adopt(shim_conn *c, const shim_driver *drv, void *ctx, shim_io io, int fd,
                    shim_session *tls)
{
    int rc = conn_start(c, drv, ctx, io, fd);
    if (rc < 0) {
        drv->session_free(tls, false);
        return rc;
    }
    c->tls = tls; /* ours from now on, whatever attach says */
    return drv->session_attach(tls, io == SHIM_IO_MEMORY ? -1 : fd);
}

void shim_conn_close(shim_conn *c, int64_t deadline)
{
    if (c->tls) {
        c->drv->session_free(c->tls, c->shut_down);
        c->tls = NULL;
    }
    if (c->fd >= 0) {
        tc_close_graceful(c->fd, deadline, NULL);
        c->fd = -1;
    }
}

/* ---- one call ------------------------------------------------------ */

static int one_call(shim_conn *c, shim_lib_fn fn, void *arg, shim_trace *t)
{
    memset(&t->last, 0, sizeof t->last);
    int rc = fn(c, arg, &t->last);
    t->calls++;
    t->called = true;
    if (rc < 0)
        return rc;
    if (t->last.want != SHIM_WANT_NONE)
        shim_wants_add(&t->wants, t->last.want);
    return TC_OK;
}

/* ---- socket modes -------------------------------------------------- */

/* A blocking library call must come back by the deadline: the kernel
 * timeouts make a blocked recv/send fail with EAGAIN, which the library
 * reports as a want. Zero would mean "no timeout", hence the 1 ms floor. */
static int set_socket_timeouts(int fd, int64_t deadline)
{
    int ms = tc_ms_left(deadline);
    if (ms < 1)
        ms = 1;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        return tc_err_set(TC_ERR_SYS, "socket timeouts: %s", strerror(errno));
    return TC_OK;
}

/* Bytes in the socket's receive queue and send queue. */
static int queued(int fd, int request)
{
    int n = 0;
    return ioctl(fd, (unsigned long)request, &n) == 0 ? n : -1;
}

static bool writable_now(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/* A want the socket already satisfies: the library reports it while the
 * receive queue holds as much as before the call, or while the socket
 * takes writes and its send queue did not grow. OpenSSL does this after a
 * fatal error (the want is SSL_get_error's stale answer); polling again
 * would spin. */
static bool want_looks_stale(int fd, shim_want want, int in_before, int out_before)
{
    if (want == SHIM_WANT_READ) {
        int in = queued(fd, SIOCINQ);
        return in > 0 && in == in_before;
    }
    return queued(fd, SIOCOUTQ) == out_before && writable_now(fd);
}

/* Two calls in a row that looked stale: once could be a record consumed
 * while one of the same size arrived during the call. */
#define STALE_CALLS 2

static int socket_loop(shim_conn *c, shim_lib_fn fn, void *arg, int64_t deadline, bool nowait,
                       shim_trace *t)
{
    int stale = 0;
    for (;;) {
        if (c->io == SHIM_IO_BLOCKING && c->fd >= 0) {
            int rc = set_socket_timeouts(c->fd, deadline);
            if (rc < 0)
                return rc;
        }
        int in = c->fd >= 0 ? queued(c->fd, SIOCINQ) : -1;
        int out = c->fd >= 0 ? queued(c->fd, SIOCOUTQ) : -1;
        int rc = one_call(c, fn, arg, t);
        if (rc < 0 || t->last.want == SHIM_WANT_NONE || nowait || c->fd < 0)
            return rc;
        if (tc_ms_left(deadline) == 0)
            return tc_err_set(TC_ERR_TIMEOUT, "deadline passed");
        stale = want_looks_stale(c->fd, t->last.want, in, out) ? stale + 1 : 0;
        if (stale == STALE_CALLS)
            return TC_OK;
        rc = tc_wait_fd(c->fd, t->last.want == SHIM_WANT_WRITE ? POLLOUT : POLLIN, deadline);
        if (rc < 0)
            return rc;
    }
}

/* ---- memory mode: moving bytes ------------------------------------- */

/* A reset is what the socket says, not what the library says: the runner
 * does what an application does with a reset socket. Input ends (the
 * library gets EOF once it has what arrived before) and output is dropped,
 * as the kernel would refuse it; the library's own result stays the step's
 * outcome and the step line says `"transport": "reset"`. */
static void mem_reset(shim_conn *c)
{
    c->sock_reset = true;
    c->sock_eof = true;
    c->out_len = 0;
}

/* Sends what the socket takes now, without waiting. */
static int mem_send_now(shim_conn *c)
{
    while (c->out_len > 0) {
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            c->out_len -= (size_t)n;
            memmove(c->out, c->out + n, c->out_len);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return TC_OK;
        if (errno == EPIPE || errno == ECONNRESET) {
            mem_reset(c);
            return TC_OK;
        }
        if (errno != EINTR)
            return tc_err_set(TC_ERR_SYS, "send: %s", strerror(errno));
    }
    return TC_OK;
}

static void mem_take(shim_conn *c)
{
    while (c->tls && c->out_len < SHIM_MEM_OUT_CAP) {
        size_t n = c->drv->mem_take_output(c->tls, c->out + c->out_len,
                                           SHIM_MEM_OUT_CAP - c->out_len);
        if (n == 0)
            break;
        c->out_len += n;
        c->taken += n;
    }
}

/* Moves library output to the socket until one of them has nothing more to
 * give or take. Output for a closed transport is dropped, as the kernel
 * would refuse it. */
static int mem_pump_out(shim_conn *c)
{
    for (;;) {
        mem_take(c);
        if (c->fd < 0 || c->sock_reset)
            c->out_len = 0;
        if (c->out_len == 0)
            return TC_OK;
        size_t before = c->out_len;
        int rc = mem_send_now(c);
        if (rc < 0 || c->out_len == before)
            return rc;
    }
}

/* Reads what the socket has now into the input buffer. */
static int mem_read_now(shim_conn *c)
{
    if (c->fd < 0 || c->sock_eof || c->in_len == SHIM_MEM_IN_CAP)
        return TC_OK;
    ssize_t n = recv(c->fd, c->in + c->in_len, SHIM_MEM_IN_CAP - c->in_len, MSG_DONTWAIT);
    if (n > 0)
        c->in_len += (size_t)n;
    else if (n == 0)
        c->sock_eof = true;
    else if (errno == ECONNRESET)
        mem_reset(c);
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return tc_err_set(TC_ERR_SYS, "recv: %s", strerror(errno));
    return TC_OK;
}

/* Gives the library the next piece of input: the rest of the current TLS
 * record (at most SHIM_MEM_CHUNK bytes), or EOF once everything before it
 * was given. Record by record, because whatever follows the TLS stream must
 * stay with the runner. *given says whether anything was given. */
static int mem_give_piece(shim_conn *c, bool *given)
{
    *given = false;
    if (c->fd < 0)
        c->sock_eof = true;
    if (c->rec_left == 0 && c->in_len >= TLS_HEADER_LEN)
        c->rec_left = TLS_HEADER_LEN + (((size_t)c->in[3] << 8) | c->in[4]);
    else if (c->rec_left == 0 && c->sock_eof)
        c->rec_left = c->in_len; /* a fragment of a header before EOF */
    if (c->rec_left > 0 && c->in_len > 0) {
        size_t n = c->rec_left < c->in_len ? c->rec_left : c->in_len;
        if (n > SHIM_MEM_CHUNK)
            n = SHIM_MEM_CHUNK;
        int rc = c->drv->mem_give_input(c->tls, c->in, n);
        c->in_len -= n;
        memmove(c->in, c->in + n, c->in_len);
        c->rec_left -= n;
        *given = true;
        return rc;
    }
    if (c->in_len == 0 && c->sock_eof && !c->eof_given) {
        c->drv->mem_give_eof(c->tls);
        c->eof_given = true;
        *given = true;
    }
    return TC_OK;
}

/* Waits until the socket can take output (when there is some) or has
 * input, and moves what it can. */
static int mem_wait_socket(shim_conn *c, int64_t deadline)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (c->out_len > 0)
        p.events |= POLLOUT;
    int n;
    do
        n = poll(&p, 1, tc_ms_left(deadline));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return tc_err_set(TC_ERR_SYS, "poll: %s", strerror(errno));
    if (n == 0)
        return tc_err_set(TC_ERR_TIMEOUT, "deadline passed while waiting for the socket");
    int rc = TC_OK;
    if (p.revents & POLLOUT)
        rc = mem_pump_out(c);
    if (rc == TC_OK && (p.revents & (POLLIN | POLLHUP | POLLERR)))
        rc = mem_read_now(c);
    return rc;
}

/* want_read: gives the library its next piece, reading (and waiting for)
 * the socket as needed. *progress is false when nothing can ever come (EOF
 * already given, or the library does not read what it was given). */
static bool library_has_input(shim_conn *c)
{
    return c->drv->mem_input_pending && c->drv->mem_input_pending(c->tls) > 0;
}

static int mem_feed(shim_conn *c, int64_t deadline, bool *progress)
{
    *progress = false;
    if (library_has_input(c))
        return TC_OK; /* not reading what it has: a stale want */
    for (;;) {
        int rc = mem_give_piece(c, progress);
        if (rc < 0 || *progress || c->eof_given)
            return rc;
        rc = mem_wait_socket(c, deadline);
        if (rc < 0)
            return rc;
    }
}

/* want_write: the library's output buffer was full. If the pump took
 * anything from it since, there is room: call again at once. Otherwise the
 * runner's buffer is full too: wait until the socket takes some. Nothing
 * pending at all means no progress is possible. */
static int mem_drain(shim_conn *c, int64_t deadline, bool took_any, bool *progress)
{
    *progress = took_any || (c->out_len > 0 && c->fd >= 0 && !c->sock_reset);
    if (took_any || !*progress)
        return TC_OK;
    int rc = tc_wait_fd(c->fd, POLLOUT, deadline);
    if (rc == TC_OK)
        rc = mem_pump_out(c);
    return rc;
}

static int memory_loop(shim_conn *c, shim_lib_fn fn, void *arg, int64_t deadline, bool nowait,
                       shim_trace *t)
{
    for (;;) {
        int rc = one_call(c, fn, arg, t);
        size_t taken_before = c->taken;
        if (rc == TC_OK)
            rc = mem_pump_out(c);
        shim_want want = t->last.want;
        if (rc < 0 || want == SHIM_WANT_NONE)
            return rc;
        bool progress = false;
        if (nowait) {
            /* The library asked: what already arrived is given now so that
             * the next call sees it, as a readable socket would be. */
            if (want == SHIM_WANT_READ && !library_has_input(c) &&
                (rc = mem_read_now(c)) == TC_OK)
                rc = mem_give_piece(c, &progress);
            return rc;
        }
        rc = want == SHIM_WANT_READ ? mem_feed(c, deadline, &progress)
                                    : mem_drain(c, deadline, c->taken != taken_before, &progress);
        if (rc < 0 || !progress)
            return rc;
    }
}

int shim_io_call(shim_conn *c, shim_lib_fn fn, void *arg, int64_t deadline, bool nowait,
                 shim_trace *trace)
{
    if (c->io == SHIM_IO_MEMORY)
        return memory_loop(c, fn, arg, deadline, nowait, trace);
    return socket_loop(c, fn, arg, deadline, nowait, trace);
}

/* ---- until_blocked: a stall that lasts ----------------------------- */

/* How often an in-flight check is repeated while nothing wakes poll. */
#define SHIM_SETTLE_TICK_MS 2

static int tcp_in_flight(int fd, unsigned *segments, uint64_t *accepted)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return tc_err_set(TC_ERR_SYS, "TCP_INFO: %s", strerror(errno));
    int outq = queued(fd, SIOCOUTQ);
    *segments = ti.tcpi_unacked;
    /* Acknowledged plus still queued: every byte the kernel ever took. */
    *accepted = ti.tcpi_bytes_acked + (uint64_t)(outq > 0 ? outq : 0);
    return TC_OK;
}

/* The kernel refuses more (sk_wmem_queued >= sk_sndbuf): what makes send()
 * fail with EAGAIN. */
static bool send_buffer_full(int fd)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
        len < sizeof(uint32_t) * (SK_MEMINFO_WMEM_QUEUED + 1))
        return !writable_now(fd);
    return mem[SK_MEMINFO_WMEM_QUEUED] >= mem[SK_MEMINFO_SNDBUF];
}

static int wait_nothing_in_flight(int fd, int64_t deadline, uint64_t *accepted)
{
    for (;;) {
        unsigned segments = 0;
        int rc = tcp_in_flight(fd, &segments, accepted);
        if (rc < 0 || segments == 0)
            return rc;
        int left = tc_ms_left(deadline);
        if (left == 0)
            return tc_err_set(TC_ERR_TIMEOUT, "deadline passed with data in flight");
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, left < SHIM_SETTLE_TICK_MS ? left : SHIM_SETTLE_TICK_MS) == 1 &&
            (p.revents & POLLOUT))
            return tcp_in_flight(fd, &segments, accepted);
    }
}

int shim_io_send_stalled(shim_conn *c, int64_t deadline, uint64_t *mark, bool *stalled)
{
    *stalled = true;
    if (c->fd < 0)
        return TC_OK;
    uint64_t accepted = 0;
    int rc = wait_nothing_in_flight(c->fd, deadline, &accepted);
    if (rc == TC_OK && c->io == SHIM_IO_MEMORY) {
        rc = mem_pump_out(c);
        unsigned segments = 0;
        if (rc == TC_OK)
            rc = tcp_in_flight(c->fd, &segments, &accepted);
    }
    if (rc < 0)
        return rc;
    *stalled = send_buffer_full(c->fd) || accepted == *mark;
    *mark = accepted;
    return TC_OK;
}

int shim_io_flush(shim_conn *c, int64_t deadline)
{
    if (c->io != SHIM_IO_MEMORY)
        return TC_OK;
    for (;;) {
        int rc = mem_pump_out(c);
        if (rc < 0 || c->out_len == 0)
            return rc;
        rc = tc_wait_fd(c->fd, POLLOUT, deadline);
        if (rc < 0)
            return rc;
    }
}

/* ---- bare socket ---------------------------------------------------- */

int shim_io_close_transport(shim_conn *c, int64_t deadline, size_t *drained)
{
    *drained = 0;
    if (c->fd < 0)
        return TC_OK;
    int rc = tc_close_graceful(c->fd, deadline, drained);
    c->fd = -1;
    c->sock_eof = true;
    c->out_len = 0;
    return rc;
}

int shim_io_plain_write(shim_conn *c, const uint8_t *buf, size_t len, int64_t deadline)
{
    int rc = shim_io_flush(c, deadline);
    if (rc < 0)
        return rc;
    if (c->fd < 0)
        return tc_err_set(TC_ERR_USAGE, "the transport is closed");
    return tc_write_all(c->fd, buf, len, deadline);
}

int shim_io_plain_read(shim_conn *c, uint8_t *buf, size_t len, size_t *got, int64_t deadline)
{
    size_t n = c->in_len < len ? c->in_len : len;
    memcpy(buf, c->in, n);
    c->in_len -= n;
    memmove(c->in, c->in + n, c->in_len);
    *got = n;
    if (c->fd < 0 && *got < len)
        return tc_err_set(TC_ERR_USAGE, "the transport is closed");
    while (*got < len) {
        ssize_t r = tc_read_some(c->fd, buf + *got, len - *got, deadline);
        if (r < 0)
            return (int)r;
        *got += (size_t)r;
    }
    return TC_OK;
}
