/* floor_session: one side of the floor's TLS connection, in a child process.
 *
 * The floor is the least work a conformance cell cannot avoid; this module is
 * the TLS part of it: an OpenSSL TLS 1.3 handshake on an already-connected
 * blocking socket, one application record each way, a bidirectional
 * close_notify exchange (the client closes first), then a graceful TCP close
 * (FIN, drain, close). Nothing is printed on success.
 *
 * Needs: a connected TCP socket (TCP_NODELAY is set here), the PEM
 * certificate and key for the server role, SIGPIPE ignored by the caller.
 * Returns: TC_OK, or a negative tc_err with a message (TC_ERR_LIBRARY when
 * OpenSSL fails, TC_ERR_TIMEOUT when a socket wait outlives the budget).
 * Never retries. Every socket wait is bounded by the socket's receive and
 * send timeouts, set once to the time left when the session starts; the
 * caller bounds the process as a whole (floor_main.c: an alarm). */
#ifndef TLSCLOSE_FLOOR_SESSION_H
#define TLSCLOSE_FLOOR_SESSION_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool server;
    int fd;
    const char *cert;      /* server only */
    const char *key;       /* server only */
    int64_t deadline;      /* absolute, tc_now_ms() clock */
} floor_session_opts;

int floor_session_run(const floor_session_opts *o);

#endif
