/* transport: the TCP and pipe plumbing shared by the mock peer and the shims.
 *
 * Deadlines are absolute CLOCK_MONOTONIC times in milliseconds (tc_now_ms()
 * plus a budget), so a loop of several waits can never exceed the budget of
 * the step that started it. Every wait here is a poll() with the remaining
 * time: nothing sleeps, nothing spins.
 *
 * Connections are obtained in one of three ways, chosen on the command line:
 *   --fd N[,M...]   already-connected sockets handed down by the harness
 *   --connect H:P   connect to HOST:PORT (numeric IPv4/IPv6 or "localhost")
 *   --listen-fd N   accept() on a listening socket handed down by the harness
 *   --listen H:P    accept() on a listening socket opened here (the mock
 *                   peer; port 0 picks a free port, reported to the harness)
 * tc_transport_next() returns the next connection whatever the source. */
#ifndef TLSCLOSE_TRANSPORT_H
#define TLSCLOSE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TC_MAX_CONNECTIONS 4

typedef struct {
    int fds[TC_MAX_CONNECTIONS]; /* from --fd, in order */
    int fd_count;
    int fds_used;
    const char *connect_to;      /* from --connect, or NULL */
    int listen_fd;               /* from --listen-fd, or -1 */
} tc_transport;

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t tc_now_ms(void);

/* Milliseconds left until deadline (never negative). */
int tc_ms_left(int64_t deadline);

void tc_transport_init(tc_transport *t);

/* Parses "N" or "N,M" into t->fds. TC_ERR_USAGE on a bad list. */
int tc_transport_parse_fds(tc_transport *t, const char *list);

/* Opens a listening TCP socket on "HOST:PORT" (numeric host, PORT 0: a free
 * port) with this backlog and makes it t->listen_fd; *port gets the port.
 * TC_ERR_USAGE for a malformed HOST:PORT, TC_ERR_SYS when it cannot listen. */
int tc_transport_listen(tc_transport *t, const char *spec, int backlog, int *port);

/* Returns in *fd the next connected socket (TCP_NODELAY set, blocking), or an
 * error (TC_ERR_USAGE when no source is left, TC_ERR_TIMEOUT, TC_ERR_SYS). */
int tc_transport_next(tc_transport *t, int64_t deadline, int *fd);

/* TCP_NODELAY on: without it a small TLS 1.3 record waits ~40 ms for the
 * other side's delayed ACK. */
int tc_set_nodelay(int fd);

int tc_set_nonblocking(int fd, int on);

/* Waits until fd is readable (events = POLLIN) or writable (POLLOUT) or the
 * deadline passes: 0 ready, TC_ERR_TIMEOUT, TC_ERR_SYS. While stall notices
 * are armed (below) a notice for this wait ends it as the deadline would:
 * TC_ERR_TIMEOUT, and tc_stall_ended_wait() says so. */
int tc_wait_fd(int fd, short events, int64_t deadline);

/* Reads at most cap bytes, waiting until the deadline for the first byte.
 * Returns the count (> 0) or TC_ERR_EOF, TC_ERR_RESET, TC_ERR_TIMEOUT,
 * TC_ERR_SYS. Works on blocking and nonblocking sockets. */
ssize_t tc_read_some(int fd, uint8_t *buf, size_t cap, int64_t deadline);

/* Writes all len bytes before the deadline: 0, TC_ERR_RESET (EPIPE or
 * ECONNRESET), TC_ERR_TIMEOUT, TC_ERR_SYS. SIGPIPE must be ignored. */
int tc_write_all(int fd, const uint8_t *buf, size_t len, int64_t deadline);

/* Sends FIN (shutdown SHUT_WR). */
int tc_send_fin(int fd);

/* Graceful close: FIN, then read and discard until the other side's EOF or
 * the deadline, then close. Draining first is what keeps a FIN a FIN: a
 * socket closed with unread bytes in its receive queue sends RST instead.
 * Returns 0, or TC_ERR_TIMEOUT/TC_ERR_RESET (the socket is closed anyway).
 * *drained, when not NULL, receives the number of bytes discarded. */
int tc_close_graceful(int fd, int64_t deadline, size_t *drained);

/* Abortive close: SO_LINGER {1, 0}, a disconnect (connect AF_UNSPEC),
 * which sends the RST at once even while another process still holds a copy
 * of the descriptor, then close. */
int tc_close_reset(int fd);

/* Ignores SIGPIPE for the process: a write to a reset socket must come back
 * as EPIPE, never kill the program. */
void tc_ignore_sigpipe(void);

/* ---- stall notices (docs/peer.md "Stalls", docs/performance.md) ----
 *
 * A cell stalls when neither side can go on without the other: the mock
 * peer waits for the SUT (a close_notify, an EOF, a marker) while the SUT
 * waits inside a library call for the peer, and only the peer's own
 * timeout would end the wait. The harness sees that state from outside
 * (every thread of both sides asleep and not woken once during a window,
 * nothing queued on the cell's connections, no output) and writes one
 * notice line on the pipe given with --stall-fd:
 *
 *     T0 T1\n     CLOCK_MONOTONIC milliseconds: the window's first and
 *                 last sample
 *
 * tc_wait_fd polls that pipe beside its descriptor while notices are armed
 * (the peer arms them for the length of one action). A notice ends the wait
 * as its deadline would only if the wait began no later than T0: the
 * process then slept in that very wait through the whole window. A wait
 * that began after T0 began after the window (the process did not run
 * during it), so such a notice describes a state that is gone: it is read
 * and dropped. Without tc_stall_init (the shims, a peer run without
 * --stall-fd) nothing is polled. */

/* Takes the read end of the notice pipe (made non-blocking), or -1 for
 * none. TC_OK, or TC_ERR_USAGE when fd is not an open descriptor. */
int tc_stall_init(int fd);

/* Notices end waits only while armed (default: off). */
void tc_stall_arm(bool on);

/* Whether the most recent tc_wait_fd ended because of a notice. */
bool tc_stall_ended_wait(void);

#endif
