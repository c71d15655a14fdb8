#include "conn.h"

#include "tc_err.h"
#include "takeover.h"
#include "transcript.h"
#include "transport.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TLS12_MAX_FRAGMENT (TC_MAX_PLAINTEXT + 2048) /* RFC 5246 §6.2.3 */
#define HS_KEY_UPDATE 24
#define HS_NEW_SESSION_TICKET 4

/* ---- opening and closing ---- */

/* A reset is logged once, whether a send or a read found it first. What
 * was already buffered is still read before the reads report it. */
static void note_reset(peer_conn *c)
{
    c->was_reset = true;
    if (!c->reset_logged)
        tr_tcp("recv", "reset", c->id, -1);
    c->reset_logged = true;
}

static int take_leftover(peer_conn *c)
{
    if (c->hs.leftover.len > sizeof c->in)
        return tc_err_set(TC_ERR_SYS, "more unread handshake input than the buffer holds");
    if (c->hs.leftover.len > 0) /* no leftover: data is NULL, which memcpy must not see */
        memcpy(c->in, c->hs.leftover.data, c->hs.leftover.len);
    c->in_len = c->hs.leftover.len;
    return TC_OK;
}

static int handshake_and_takeover(peer_conn *c, hs_ctx *hs, int64_t deadline)
{
    int rc = hs_run(hs, c->fd, c->id, deadline, &c->hs);
    if (rc < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", tc_err_msg());
        if (rc == TC_ERR_EOF || rc == TC_ERR_RESET)
            tr_tcp("recv", rc == TC_ERR_EOF ? "eof" : "reset", c->id, -1);
        tr_handshake_error(c->id, msg);
        return tc_err_set(rc, "%s", msg);
    }
    tr_handshake(c->id, hs->tls13 ? "1.3" : "1.2", c->hs.suite->name, c->hs.resumed);
    rc = takeover_build(&c->hs, hs->server, c->id, &c->rd, &c->wr);
    if (rc == TC_OK)
        rc = take_leftover(c);
    if (rc == TC_OK && c->hs.reset_after_handshake)
        note_reset(c);
    return rc;
}

/* A handshake the script allows to fail ends like any connection: FIN,
 * drain until the SUT's EOF, close, so the SUT never sees a reset. */
static void close_after_failure(peer_conn *c, int rc, int64_t deadline)
{
    if (rc == TC_ERR_RESET || c->fd < 0)
        return;
    size_t drained = 0;
    (void)tc_close_graceful(c->fd, deadline, &drained);
    c->fd = -1;
    tr_tcp("sent", "close", c->id, (long long)drained);
}

int conn_open(peer_conn **out, int id, int fd, hs_ctx *hs, int64_t deadline,
              bool answer_keyupdate, bool may_fail)
{
    *out = NULL;
    peer_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return tc_err_set(TC_ERR_SYS, "out of memory");
    }
    c->id = id;
    c->fd = fd;
    c->tls13 = hs->tls13;
    c->answer_keyupdate = answer_keyupdate;
    int rc = handshake_and_takeover(c, hs, deadline);
    if (rc < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", tc_err_msg());
        if (may_fail)
            close_after_failure(c, rc, deadline);
        conn_free(c);
        return tc_err_set(rc, "%s", msg);
    }
    *out = c;
    return TC_OK;
}

void conn_free(peer_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->held);
    tc_direction_free(&c->rd);
    tc_direction_free(&c->wr);
    hs_conn_free(&c->hs);
    free(c);
}

/* ---- reading ---- */

static void consume(peer_conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

static conn_ev_kind end_kind(const peer_conn *c)
{
    return c->was_reset ? CONN_RESET : CONN_EOF;
}

/* Reads more bytes; on the transport's end logs what was left and how it
 * ended. Returns TC_OK (bytes added), or sets *ended / *timed_out. */
static int fill(peer_conn *c, int64_t deadline, bool *ended, bool *timed_out)
{
    ssize_t n = tc_read_some(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, deadline);
    if (n > 0) {
        c->in_len += (size_t)n;
        c->bytes_in += (uint64_t)n;
        return TC_OK;
    }
    if (n == TC_ERR_TIMEOUT) {
        *timed_out = true;
        return TC_OK;
    }
    if (n != TC_ERR_EOF && n != TC_ERR_RESET)
        return (int)n;
    if (c->in_len) {
        tr_bad_record("recv", c->id, c->read_state == READ_UNFRAMED ? "unframed" : "truncated",
                      c->in, c->in_len);
        c->in_len = 0;
    }
    c->ended = true;
    if (n == TC_ERR_RESET)
        note_reset(c);
    else
        tr_tcp("recv", "eof", c->id, -1);
    *ended = true;
    return TC_OK;
}

/* Header checks that decide whether the stream can still be framed. */
static const char *frame_problem(const peer_conn *c, size_t *rec_len)
{
    const uint8_t *h = c->in;
    size_t len = (size_t)h[3] << 8 | h[4];
    *rec_len = TC_RECORD_HEADER + len;
    if (h[0] < TC_CT_CHANGE_CIPHER_SPEC || h[0] > TC_CT_APPLICATION_DATA || h[1] != 3)
        return "malformed";
    if (len > TLS12_MAX_FRAGMENT)
        return "oversized";
    return NULL;
}

static int bad(peer_conn *c, const char *why, size_t n, conn_read_state next, conn_event *ev)
{
    tr_bad_record("recv", c->id, why, c->in, n);
    consume(c, n);
    if (next > c->read_state)
        c->read_state = next;
    hs_feed_record(&c->hs, NULL, 0, false);
    ev->kind = CONN_BAD;
    return TC_OK;
}

static int log_recv(peer_conn *c, conn_event *ev, uint64_t seq, unsigned epoch)
{
    tr_record_info info = {.dir = "recv", .by = "sut", .conn = c->id, .type = ev->type,
                           .unprotected = ev->unprotected, .epoch = epoch, .seq = seq,
                           .content = ev->content, .len = ev->len};
    tr_record(&info);
    return TC_OK;
}

/* The KeyUpdate of a handshake record, if it carries one: a record may hold
 * several handshake messages (RFC 8446 §5.1 lets a stack send a deferred
 * NewSessionTicket and a KeyUpdate together), and a KeyUpdate can only be
 * the last of them, since what follows it uses the next key. Returns the
 * KeyUpdate's request_update byte, or -1 when the record ends in none. */
static int key_update_request(const conn_event *ev)
{
    const uint8_t *m = ev->content;
    size_t at = 0;
    if (ev->type != TC_CT_HANDSHAKE)
        return -1;
    while (ev->len - at >= 4) {
        size_t body = ((size_t)m[at + 1] << 16) | ((size_t)m[at + 2] << 8) | m[at + 3];
        if (ev->len - at - 4 < body)
            return -1; /* a fragment: no complete KeyUpdate here */
        if (at + 4 + body == ev->len)
            return m[at] == HS_KEY_UPDATE && body == 1 ? m[at + 4] : -1;
        at += 4 + body;
    }
    return -1;
}

static int after_key_update(peer_conn *c, int request, int64_t deadline)
{
    int rc = tc_direction_update(&c->rd);
    if (rc < 0 || request != 1 || !c->answer_keyupdate)
        return rc;
    if (c->close_notify_sent || c->fin_sent || c->fd < 0)
        return TC_OK;
    rc = conn_send_keyupdate(c, false, deadline);
    return rc == TC_ERR_RESET || rc == TC_ERR_TIMEOUT ? TC_OK : rc;
}

/* A plaintext record where TLS 1.3 wants a protected one: logged as it is,
 * the read keys are untouched. */
static int unprotected_record(peer_conn *c, size_t rec_len, conn_event *ev)
{
    ev->kind = CONN_RECORD;
    ev->type = c->in[0];
    ev->len = rec_len - TC_RECORD_HEADER;
    ev->unprotected = true;
    memcpy(c->plain, c->in + TC_RECORD_HEADER, ev->len);
    ev->content = c->plain;
    consume(c, rec_len);
    return log_recv(c, ev, 0, 0);
}

static int protected_record(peer_conn *c, size_t rec_len, int64_t deadline, conn_event *ev)
{
    uint64_t seq = c->rd.seq;
    unsigned epoch = c->rd.epoch;
    size_t len = 0;
    if (c->tls13 && rec_len - TC_RECORD_HEADER > TC_MAX_CIPHERTEXT)
        return bad(c, "oversized", rec_len, READ_UNDECRYPTABLE, ev);
    int rc = tc_record_unprotect(&c->rd, c->in, rec_len, &ev->type, c->plain, sizeof c->plain, &len);
    if (rc == TC_ERR_DECRYPT)
        return bad(c, "decrypt", rec_len, READ_UNDECRYPTABLE, ev);
    if (rc == TC_ERR_MALFORMED)
        return bad(c, "malformed", rec_len, READ_UNDECRYPTABLE, ev);
    if (rc < 0)
        return rc;
    ev->kind = CONN_RECORD;
    ev->content = c->plain;
    ev->len = len;
    ev->unprotected = false;
    log_recv(c, ev, seq, epoch);
    bool ticket = ev->type == TC_CT_HANDSHAKE && len > 0 && c->plain[0] == HS_NEW_SESSION_TICKET;
    hs_feed_record(&c->hs, c->in, rec_len, ticket);
    consume(c, rec_len);
    int request = c->tls13 ? key_update_request(ev) : -1;
    return request >= 0 ? after_key_update(c, request, deadline) : TC_OK;
}

/* One buffered record, if a whole one is there: *done tells. */
static int next_buffered(peer_conn *c, int64_t deadline, conn_event *ev, bool *done)
{
    size_t rec_len = 0;
    *done = false;
    if (c->read_state == READ_UNFRAMED) {
        *done = c->in_len > 0;
        return *done ? bad(c, "unframed", c->in_len, READ_UNFRAMED, ev) : TC_OK;
    }
    if (c->in_len < TC_RECORD_HEADER)
        return TC_OK;
    const char *problem = frame_problem(c, &rec_len);
    *done = problem || c->in_len >= rec_len;
    if (problem)
        return bad(c, problem, c->in_len, READ_UNFRAMED, ev);
    if (!*done)
        return TC_OK;
    if (c->read_state == READ_UNDECRYPTABLE)
        return bad(c, "skipped", rec_len, READ_UNDECRYPTABLE, ev);
    if (c->tls13 && c->in[0] != TC_CT_APPLICATION_DATA)
        return unprotected_record(c, rec_len, ev);
    return protected_record(c, rec_len, deadline, ev);
}

int conn_read_event(peer_conn *c, int64_t deadline, conn_event *ev)
{
    memset(ev, 0, sizeof *ev);
    for (;;) {
        bool done, ended = false, timed_out = false;
        int rc = next_buffered(c, deadline, ev, &done);
        if (rc < 0 || done)
            return rc;
        if (c->ended || c->fd < 0) {
            ev->kind = end_kind(c);
            return TC_OK;
        }
        rc = fill(c, deadline, &ended, &timed_out);
        if (rc < 0)
            return rc;
        if (ended) {
            ev->kind = end_kind(c);
            return TC_OK;
        }
        if (timed_out) {
            ev->kind = CONN_TIMEOUT;
            ev->stalled = tc_stall_ended_wait();
            return TC_OK;
        }
    }
}

static bool whole_record_buffered(const peer_conn *c)
{
    if (c->in_len < TC_RECORD_HEADER)
        return false;
    size_t len = (size_t)c->in[3] << 8 | c->in[4];
    return c->in_len >= TC_RECORD_HEADER + len || c->read_state == READ_UNFRAMED;
}

int conn_wait_input(peer_conn *c, int64_t deadline)
{
    if (c->ended || c->fd < 0 || whole_record_buffered(c))
        return TC_OK;
    return tc_wait_fd(c->fd, POLLIN, deadline);
}

/* ---- writing ---- */

static int hold_bytes(peer_conn *c, const uint8_t *bytes, size_t len)
{
    if (c->held_cap - c->held_len < len) {
        size_t cap = c->held_cap ? c->held_cap : 4096;
        while (cap - c->held_len < len)
            cap *= 2;
        uint8_t *grown = realloc(c->held, cap);
        if (!grown)
            return tc_err_set(TC_ERR_SYS, "out of memory");
        c->held = grown;
        c->held_cap = cap;
    }
    if (len > 0)
        memcpy(c->held + c->held_len, bytes, len);
    c->held_len += len;
    return TC_OK;
}

/* Held bytes go out together with these, in one write. */
static int write_wire(peer_conn *c, const uint8_t *bytes, size_t len, int64_t deadline)
{
    if (c->fd < 0)
        return tc_err_set(TC_ERR_EOF, "connection %d is closed", c->id);
    if (c->fin_sent)
        return tc_err_set(TC_ERR_EOF, "the peer already sent FIN on connection %d", c->id);
    if (c->holding || c->held_len > 0) {
        int rc = hold_bytes(c, bytes, len);
        if (rc < 0 || c->holding)
            return rc;
        bytes = c->held;
        len = c->held_len;
        c->held_len = 0;
    }
    int rc = tc_write_all(c->fd, bytes, len, deadline);
    if (rc == TC_ERR_RESET)
        note_reset(c);
    return rc;
}

void conn_set_holding(peer_conn *c, bool on)
{
    c->holding = on;
}

int conn_flush_held(peer_conn *c, int64_t deadline)
{
    c->holding = false;
    return c->held_len > 0 ? write_wire(c, NULL, 0, deadline) : TC_OK;
}

static int protect(peer_conn *c, uint8_t type, const uint8_t *content, size_t len,
                   uint8_t *out, size_t cap, size_t *out_len)
{
    return tc_record_protect(&c->wr, type, content, len, 0, out, cap, out_len);
}

static void log_sent(peer_conn *c, uint8_t type, const uint8_t *content, size_t len,
                     uint64_t seq, unsigned epoch, size_t partial)
{
    tr_record_info info = {.dir = "sent", .by = "peer", .conn = c->id, .type = type,
                           .epoch = epoch, .seq = seq, .content = content, .len = len,
                           .partial = partial};
    tr_record(&info);
}

int conn_send_record(peer_conn *c, uint8_t type, const uint8_t *content, size_t len,
                     int64_t deadline)
{
    static uint8_t rec[TC_MAX_RECORD + 256];
    size_t rec_len = 0;
    uint64_t seq = c->wr.seq;
    unsigned epoch = c->wr.epoch;
    if (c->fd < 0 || c->fin_sent)
        return write_wire(c, NULL, 0, deadline);
    int rc = protect(c, type, content, len, rec, sizeof rec, &rec_len);
    if (rc < 0)
        return rc;
    rc = write_wire(c, rec, rec_len, deadline);
    if (rc == TC_OK) {
        log_sent(c, type, content, len, seq, epoch, 0);
        if (type == TC_CT_ALERT && len >= 2 && content[1] == 0)
            c->close_notify_sent = true;
    }
    return rc;
}

int conn_send_keyupdate(peer_conn *c, bool request, int64_t deadline)
{
    const uint8_t msg[5] = {HS_KEY_UPDATE, 0, 0, 1, request ? 1 : 0};
    int rc = conn_send_record(c, TC_CT_HANDSHAKE, msg, sizeof msg, deadline);
    return rc == TC_OK ? tc_direction_update(&c->wr) : rc;
}

int conn_send_partial(peer_conn *c, const uint8_t *content, size_t len, int64_t deadline)
{
    static uint8_t rec[TC_MAX_RECORD + 256];
    size_t rec_len = 0;
    uint64_t seq = c->wr.seq;
    unsigned epoch = c->wr.epoch;
    if (c->fd < 0 || c->fin_sent)
        return write_wire(c, NULL, 0, deadline);
    int rc = protect(c, TC_CT_APPLICATION_DATA, content, len, rec, sizeof rec, &rec_len);
    if (rc < 0)
        return rc;
    size_t cut = TC_RECORD_HEADER + (rec_len - TC_RECORD_HEADER) / 2;
    rc = write_wire(c, rec, cut, deadline);
    if (rc == TC_OK)
        log_sent(c, TC_CT_APPLICATION_DATA, content, len, seq, epoch, cut);
    return rc;
}

int conn_send_raw(peer_conn *c, const uint8_t *bytes, size_t len, int64_t deadline)
{
    int rc = write_wire(c, bytes, len, deadline);
    if (rc == TC_OK)
        tr_raw("sent", c->id, bytes, len);
    return rc;
}

int conn_send_plaintext(peer_conn *c, const uint8_t *text, size_t len, int64_t deadline)
{
    int rc = write_wire(c, text, len, deadline);
    if (rc == TC_OK)
        tr_plaintext("sent", c->id, text, len);
    return rc;
}

int conn_read_plaintext(peer_conn *c, uint8_t *out, size_t len, int64_t deadline, size_t *got)
{
    *got = 0;
    while (*got < len) {
        if (c->in_len == 0) {
            bool ended = false, timed_out = false;
            if (c->ended || c->fd < 0)
                return TC_OK;
            int rc = fill(c, deadline, &ended, &timed_out);
            if (rc < 0 || ended || timed_out)
                return rc;
        }
        size_t n = c->in_len < len - *got ? c->in_len : len - *got;
        memcpy(out + *got, c->in, n);
        consume(c, n);
        *got += n;
    }
    return TC_OK;
}

/* ---- ending ---- */

int conn_send_fin(peer_conn *c)
{
    if (c->fd < 0)
        return tc_err_set(TC_ERR_EOF, "connection %d is closed", c->id);
    if (c->fin_sent)
        return TC_OK;
    int rc = tc_send_fin(c->fd);
    if (rc == TC_OK) {
        c->fin_sent = true;
        tr_tcp("sent", "fin", c->id, -1);
    }
    return rc;
}

int conn_reset(peer_conn *c)
{
    if (c->fd < 0)
        return tc_err_set(TC_ERR_EOF, "connection %d is closed", c->id);
    int rc = tc_close_reset(c->fd);
    c->fd = -1;
    c->held_len = 0; /* a reset discards what was not sent */
    tr_tcp("sent", "rst", c->id, -1);
    return rc;
}

int conn_close(peer_conn *c, int64_t deadline)
{
    if (c->fd < 0)
        return TC_OK;
    uint64_t before = c->bytes_in;
    int rc = c->was_reset ? TC_OK : conn_flush_held(c, deadline);
    if (rc == TC_OK && !c->was_reset)
        rc = conn_send_fin(c);
    conn_event ev = {.kind = CONN_RECORD};
    while (rc == TC_OK && (ev.kind == CONN_RECORD || ev.kind == CONN_BAD))
        rc = conn_read_event(c, deadline, &ev);
    if (rc == TC_OK && ev.kind == CONN_TIMEOUT)
        rc = tc_err_set(TC_ERR_TIMEOUT, "connection %d: the SUT did not close within the deadline", c->id);
    close(c->fd);
    c->fd = -1;
    tr_tcp("sent", "close", c->id, (long long)(c->bytes_in - before));
    return rc;
}
