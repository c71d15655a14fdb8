/* conn: one TLS connection of the mock peer after the takeover.
 *
 * A peer_conn owns the socket, the library's handshake state (handshake.h),
 * the peer's two record-layer directions (takeover.h) and an input buffer
 * that starts with the bytes the library did not consume. From then on the
 * peer is the record layer: conn_read_event() returns one decoded event,
 * the conn_send_*() functions put bytes on the wire. Every record sent or
 * received, every bad record and every transport event is logged in the
 * transcript (transcript.h) by the function that saw it, exactly once.
 *
 * Never crashes or stops on what the SUT sends: a record that does not frame
 * or authenticate is a "bad_record" event and a CONN_BAD result. After a
 * record fails to authenticate the read direction is unusable: later records
 * are only framed and logged as "skipped"; after the framing itself is lost
 * (a header no TLS version allows) later bytes are logged as "unframed".
 *
 * A TLS 1.3 KeyUpdate from the SUT switches the read key right after it;
 * when it requests an update the peer answers with its own KeyUpdate (and
 * switches its write key) unless answer_keyupdate is off or the peer has
 * already sent close_notify or FIN.
 *
 * Functions return TC_OK or a negative tc_err (tc_err.h). Socket failures
 * while sending come back as TC_ERR_RESET (logged as a "tcp" "reset"
 * event), TC_ERR_TIMEOUT, or TC_ERR_EOF when the peer's own write side is
 * already closed; TC_ERR_SYS and TC_ERR_CRYPTO are failures of the peer. */
#ifndef TLSCLOSE_CONN_H
#define TLSCLOSE_CONN_H

#include "handshake.h"
#include "record_layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONN_INPUT_CAP 65536

typedef enum {
    CONN_RECORD,  /* a record was read: type, content, len are set */
    CONN_BAD,     /* bytes that did not frame or authenticate (logged) */
    CONN_EOF,     /* the SUT closed its side of the TCP connection */
    CONN_RESET,   /* the TCP connection was reset */
    CONN_TIMEOUT, /* the deadline passed first */
} conn_ev_kind;

typedef struct {
    conn_ev_kind kind;
    uint8_t type;           /* content type (TLS 1.3: the inner type) */
    const uint8_t *content; /* valid until the next call on the connection */
    size_t len;
    bool unprotected;       /* a plaintext record after the handshake */
    bool stalled;           /* CONN_TIMEOUT: a stall notice ended the wait (transport.h) */
} conn_event;

typedef enum { READ_OK, READ_UNDECRYPTABLE, READ_UNFRAMED } conn_read_state;

typedef struct {
    int id;                 /* 1 for the first connection */
    int fd;                 /* -1 once closed or reset */
    bool tls13;
    bool answer_keyupdate;
    hs_conn hs;
    tc_direction rd;
    tc_direction wr;
    conn_read_state read_state;
    bool ended;             /* EOF or reset seen on the read side */
    bool was_reset;
    bool reset_logged;
    bool fin_sent;
    bool close_notify_sent;
    uint64_t bytes_in;      /* bytes read from the socket since the takeover */
    bool holding;           /* writes are kept in `held` instead of sent */
    uint8_t *held;          /* bytes held back for one write with the next ones */
    size_t held_len;
    size_t held_cap;
    size_t in_len;
    uint8_t in[CONN_INPUT_CAP];
    uint8_t plain[TC_MAX_RECORD];
} peer_conn;

/* Handshakes on fd (which the connection then owns, even on failure), logs
 * the "handshake" event, takes over the record layer. On TC_OK *out is the
 * new connection; on failure the socket is closed and *out is NULL: at once,
 * or with may_fail (the script allows a failed handshake) gracefully, FIN
 * and a drain until the SUT's EOF within the deadline. An EOF or reset that
 * ended the handshake is logged as a "tcp" event. */
int conn_open(peer_conn **out, int id, int fd, hs_ctx *hs, int64_t deadline,
              bool answer_keyupdate, bool may_fail);

/* Closes the socket if still open (no drain: for error paths) and frees. */
void conn_free(peer_conn *c);

/* Reads until one event is complete or the deadline passes. After the end
 * of the transport every call returns CONN_EOF / CONN_RESET again (logged
 * only the first time). Returns TC_OK (see ev->kind) or a peer failure. */
int conn_read_event(peer_conn *c, int64_t deadline, conn_event *ev);

/* TC_OK when something can be read now (a whole record buffered, bytes on
 * the socket, or the transport's end); TC_ERR_TIMEOUT if nothing came. */
int conn_wait_input(peer_conn *c, int64_t deadline);

/* One protected record of `type` with this content (len <= 2^14). */
int conn_send_record(peer_conn *c, uint8_t type, const uint8_t *content, size_t len,
                     int64_t deadline);

/* TLS 1.3 KeyUpdate(request), then the write key switches. */
int conn_send_keyupdate(peer_conn *c, bool request, int64_t deadline);

/* A protected application-data record of this content (len <= 2^14) of
 * which only the header and the first half of the protected body are sent. */
int conn_send_partial(peer_conn *c, const uint8_t *content, size_t len, int64_t deadline);

/* Bytes as they are ("raw" event) or as text after TLS ("plaintext"). */
int conn_send_raw(peer_conn *c, const uint8_t *bytes, size_t len, int64_t deadline);
int conn_send_plaintext(peer_conn *c, const uint8_t *text, size_t len, int64_t deadline);

/* Reads up to len bytes of the bare stream (buffered bytes first) into out;
 * *got is how many arrived before EOF, reset or the deadline. */
int conn_read_plaintext(peer_conn *c, uint8_t *out, size_t len, int64_t deadline, size_t *got);

/* Holding: while on, what the conn_send_* functions would write is kept
 * back (and logged as sent); the next write after it is switched off sends
 * the held bytes and its own in one write, so they leave in one TCP segment
 * as far as the kernel allows (TCP_NODELAY is on, the sizes are small).
 * conn_flush_held sends what is held on its own (the caller does so before
 * anything that is not a send: conn_send_fin never sees held bytes);
 * conn_close flushes first, a reset drops them. TC_OK or what the write
 * returned (TC_ERR_RESET, TC_ERR_TIMEOUT, TC_ERR_EOF). */
void conn_set_holding(peer_conn *c, bool on);
int conn_flush_held(peer_conn *c, int64_t deadline);

/* TCP FIN (SHUT_WR), logged once. */
int conn_send_fin(peer_conn *c);

/* RST (SO_LINGER 0 and close). The socket is gone afterwards. */
int conn_reset(peer_conn *c);

/* Graceful end: FIN unless sent, then read and log records until the SUT's
 * EOF (or reset, or the deadline), then close: the SUT sees FIN, not RST.
 * Logs "tcp" "close" with the drained byte count. TC_OK or TC_ERR_TIMEOUT
 * (closed anyway). */
int conn_close(peer_conn *c, int64_t deadline);

#endif
