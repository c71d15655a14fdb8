/* peer_actions: runs the script's actions (peer_script.h) on the current
 * connection (conn.h), in order, each within its own deadline
 * (timeout_ms, cut to the run's deadline).
 *
 * What the SUT does is never an error here: unmet expectations are logged
 * as "expect" events with "ok": false and the script goes on, a reset seen
 * while sending is a "tcp" event. What ends a run early:
 *   TC_ERR_TIMEOUT  the run deadline passed (exit 3);
 *   TC_ERR_USAGE    the command line cannot do what the script asks (no
 *                   marker pipe, no descriptor left for next_connection);
 *   anything else   a failure of the peer itself, including a handshake on
 *                   a later connection (the "handshake" event says why).
 * Starts no process, sleeps never, frees what it opens (peer_run_free). */
#ifndef TLSCLOSE_PEER_ACTIONS_H
#define TLSCLOSE_PEER_ACTIONS_H

#include "conn.h"
#include "handshake.h"
#include "markers.h"
#include "peer_script.h"
#include "transport.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool server;
    int64_t run_deadline;     /* absolute, tc_now_ms() clock */
    bool answer_keyupdate;
    bool handshake_may_fail;  /* the first connection's handshake may fail */
    tc_transport transport;
    tc_markers markers;
    hs_ctx hs;
    peer_conn *conn;          /* the current connection, NULL before the first */
    int conn_count;
} peer_run;

/* Takes the next transport connection and handshakes on it. */
int peer_connect(peer_run *r, int64_t deadline);

/* Runs every action, then closes a connection the script left open (as
 * `close` does). TC_OK when the script ran to the end. */
int peer_run_script(peer_run *r, const peer_script *s);

/* Frees the connection (closing its socket if still open) and the context. */
void peer_run_free(peer_run *r);

#endif
