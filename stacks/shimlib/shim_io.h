/* shim_io: one connection of the stack under test and the IO-mode loops
 * around single library calls (docs/shim-protocol.md §4).
 *
 * The driver makes one library call at a time and reports a want; this
 * module does what an application in the chosen IO mode does next:
 *   blocking     the socket is blocking with SO_RCVTIMEO/SO_SNDTIMEO set to
 *                the time left, so a call returns at the deadline at the
 *                latest; a want (a timeout, or a library that returns early
 *                on a blocking socket) is waited out with poll and the call
 *                repeated;
 *   nonblocking  the socket is O_NONBLOCK; a want is waited out with poll
 *                (POLLIN or POLLOUT) and the call repeated;
 *   memory       the library only sees memory buffers. After every call the
 *                bytes it wrote are moved to the socket (as far as the socket
 *                takes them without waiting); on want_read the bytes that
 *                arrived are given to it, at most one TLS record at a time,
 *                so bytes that follow the TLS stream (plaintext after a
 *                complete shutdown) stay with the runner for plaintext_read;
 *                at socket EOF the library is told.
 * With nowait the call is made once and its want reported.
 *
 * A want the socket (or the input already given) would satisfy but the
 * library does not act on (OpenSSL's stale SSL_get_error answer after a
 * fatal error) ends the loop with that want as the result: this module
 * never spins on a ready socket and never waits past the deadline it is
 * given. */
#ifndef TLSCLOSE_SHIM_IO_H
#define TLSCLOSE_SHIM_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shim_driver.h"
#include "shim_output.h"

#define SHIM_MEM_IN_CAP (64 * 1024)
#define SHIM_MEM_OUT_CAP (32 * 1024)
/* The most the runner gives the library in one mem_give_input call. */
#define SHIM_MEM_CHUNK 16384

typedef struct {
    const shim_driver *drv;
    void *ctx;
    shim_session *tls;  /* NULL once freed */
    int fd;             /* -1 once closed */
    shim_io io;
    bool shut_down;     /* a shutdown step ran: passed to session_free */
    bool saved;         /* session_save already called */
    bool cleared;       /* `clear` ran: the next resume attaches this object */
    /* memory mode */
    uint8_t in[SHIM_MEM_IN_CAP]; /* arrived from the socket, not yet given */
    size_t in_len;
    size_t rec_left;    /* bytes of the current record still to give */
    bool sock_eof;
    bool eof_given;
    bool sock_reset;    /* the runner met a reset: input ended, output dropped */
    uint8_t out[SHIM_MEM_OUT_CAP]; /* written by the library, not yet sent */
    size_t out_len;
    size_t taken;       /* total bytes taken from the library */
} shim_conn;

/* What the calls of one step did. */
typedef struct {
    shim_wants wants;
    int calls;
    shim_call last;     /* the last call's result */
    bool called;
} shim_trace;

/* One library call on a connection; arg is the caller's. */
typedef int (*shim_lib_fn)(shim_conn *c, void *arg, shim_call *call);

/* Makes the socket fit the IO mode and creates the driver's session.
 * TC_OK, or the driver's or the system's error. */
int shim_conn_open(shim_conn *c, const shim_driver *drv, void *ctx, shim_io io, int fd,
                   int conn_index);

/* The same with an existing TLS object (cleared by `clear`), which the new
 * connection takes over: the driver's session_attach instead of
 * session_new. */
int shim_conn_adopt(shim_conn *c, const shim_driver *drv, void *ctx, shim_io io, int fd,
                    shim_session *tls);

/* Frees the session (if any) and closes the socket gracefully (if open)
 * within the deadline. */
void shim_conn_close(shim_conn *c, int64_t deadline);

/* Calls fn until it reports no want (or once with nowait). Returns
 *   TC_OK          trace->last is the final result (with nowait, or when no
 *                  progress is possible, it may still carry a want);
 *   TC_ERR_TIMEOUT the deadline passed while waiting for the socket;
 *   other          the shim itself failed.
 * Memory mode: a reset the runner meets on the socket is not an error here:
 * input ends with EOF (after what arrived before it), output is dropped, the
 * library's own result is the step's; c->sock_reset records it. */
int shim_io_call(shim_conn *c, shim_lib_fn fn, void *arg, int64_t deadline, bool nowait,
                 shim_trace *trace);

/* until_blocked: after a want_write, is the send path stalled for good?
 * An EAGAIN from the kernel is not proof: segments still in flight are
 * acknowledged later (the peer's delayed ACK), which frees send-buffer
 * space and lets the next call through. So this first waits until nothing
 * is in flight (TCP_INFO tcpi_unacked == 0; the kernel has no event for it,
 * so poll's POLLOUT or a short tick re-checks it, within the deadline), moves
 * what the socket then takes (memory mode), and sets *stalled when the
 * kernel's send buffer is full or no byte left since the previous check
 * (*mark, 0 at first, carries the kernel's byte count between checks).
 * TC_OK, TC_ERR_TIMEOUT, TC_ERR_SYS. */
int shim_io_send_stalled(shim_conn *c, int64_t deadline, uint64_t *mark, bool *stalled);

/* Memory mode: sends everything the library has written, waiting for the
 * socket within the deadline. TC_OK (also in the socket modes, where there
 * is nothing to do, and after a reset, when the output is dropped),
 * TC_ERR_TIMEOUT, TC_ERR_SYS. */
int shim_io_flush(shim_conn *c, int64_t deadline);

/* Graceful transport close (FIN, drain until EOF, close). *drained gets the
 * count of discarded bytes. TC_OK or TC_ERR_TIMEOUT/TC_ERR_RESET (closed
 * anyway). */
int shim_io_close_transport(shim_conn *c, int64_t deadline, size_t *drained);

/* Bare-socket IO after TLS (transport reuse). plaintext_read takes first
 * what the runner read but never gave the library (memory mode). */
int shim_io_plain_write(shim_conn *c, const uint8_t *buf, size_t len, int64_t deadline);
/* Reads exactly len bytes: their count in *got (< len only on EOF).
 * TC_OK, TC_ERR_EOF, TC_ERR_RESET, TC_ERR_TIMEOUT, TC_ERR_SYS. */
int shim_io_plain_read(shim_conn *c, uint8_t *buf, size_t len, size_t *got, int64_t deadline);

#endif
