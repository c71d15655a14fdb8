#include "peer_actions.h"

#include "http_actions.h"
#include "tc_err.h"
#include "tls_names.h"
#include "transcript.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*exec_fn)(peer_run *r, const peer_action *a, int64_t deadline);

/* ---- describing what arrived ---- */

static void describe(const conn_event *ev, char *out, size_t cap)
{
    switch (ev->kind) {
    case CONN_EOF: snprintf(out, cap, "eof"); return;
    case CONN_RESET: snprintf(out, cap, "reset"); return;
    case CONN_TIMEOUT: snprintf(out, cap, ev->stalled ? "stalled" : "timeout"); return;
    case CONN_BAD: snprintf(out, cap, "bad record"); return;
    case CONN_RECORD: break;
    }
    if (ev->type == TC_CT_ALERT && ev->len == 2) {
        const char *name = tls_alert_name(ev->content[1]);
        const char *level = tls_alert_level_name(ev->content[0]);
        snprintf(out, cap, "alert %s (%s)", name ? name : "unknown", level ? level : "unknown level");
    } else if (ev->type == TC_CT_ALERT) {
        snprintf(out, cap, "malformed alert record (%zu bytes)", ev->len);
    } else {
        const char *type = tls_content_type_name(ev->type);
        snprintf(out, cap, "%s record (%zu bytes)", type ? type : "unknown", ev->len);
    }
}

static bool is_alert(const conn_event *ev)
{
    return ev->kind == CONN_RECORD && ev->type == TC_CT_ALERT;
}

/* An alert after which the SUT will send nothing more worth waiting for. */
static bool is_final_alert(const conn_event *ev)
{
    return is_alert(ev) && (ev->len != 2 || ev->content[0] == 2 || ev->content[1] == 0);
}

static bool is_end(const conn_event *ev)
{
    return ev->kind == CONN_EOF || ev->kind == CONN_RESET || ev->kind == CONN_TIMEOUT;
}

static int timeout_rc(const conn_event *ev)
{
    return ev->kind == CONN_TIMEOUT ? tc_err_set(TC_ERR_TIMEOUT, "deadline passed") : TC_OK;
}

/* ---- sending ---- */

/* A send that fails because of the SUT is an outcome: a reset is already
 * logged by conn, anything else the SUT caused is an unmet expectation. */
static int sent(const peer_action *a, int rc)
{
    if (rc == TC_OK || rc == TC_ERR_RESET)
        return TC_OK;
    if (rc == TC_ERR_EOF || rc == TC_ERR_TIMEOUT)
        tr_expect(a->name, false, tc_err_msg());
    return rc == TC_ERR_EOF ? TC_OK : rc;
}

static int exec_send_data(peer_run *r, const peer_action *a, int64_t deadline)
{
    static uint8_t pattern[16384 + 256];
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)(i & 0xff);
    size_t offset = 0;
    int rc = TC_OK;
    for (size_t i = 0; i < a->n_records && rc == TC_OK; i++) {
        rc = conn_send_record(r->conn, TC_CT_APPLICATION_DATA, pattern + (offset & 0xff),
                              a->records[i], deadline);
        offset += a->records[i];
    }
    return sent(a, rc);
}

static int exec_send_alert(peer_run *r, const peer_action *a, int64_t deadline)
{
    size_t step = a->fragment ? a->fragment : a->data_len;
    int rc = TC_OK;
    for (size_t off = 0; off < a->data_len && rc == TC_OK; off += step) {
        size_t n = a->data_len - off < step ? a->data_len - off : step;
        rc = conn_send_record(r->conn, TC_CT_ALERT, a->data + off, n, deadline);
    }
    return sent(a, rc);
}

static int exec_send_keyupdate(peer_run *r, const peer_action *a, int64_t deadline)
{
    return sent(a, conn_send_keyupdate(r->conn, a->request, deadline));
}

/* The message (hs_messages.h) in one handshake record, or only its first
 * `part` bytes: the rest of a message cut that way is never sent. */
static int exec_send_handshake(peer_run *r, const peer_action *a, int64_t deadline)
{
    uint8_t msg[HS_MSG_MAX];
    size_t len = 0;
    int rc = hs_msg_build(a->msg, r->server, r->conn->hs.ssl, r->conn->hs.suite->id, msg, &len);
    if (rc < 0)
        return rc;
    if (a->part > len)
        return tc_err_set(TC_ERR_USAGE, "field 'part': %zu bytes, but the message has %zu",
                          a->part, len);
    return sent(a, conn_send_record(r->conn, TC_CT_HANDSHAKE, msg, a->part ? a->part : len,
                                    deadline));
}

static int exec_send_partial(peer_run *r, const peer_action *a, int64_t deadline)
{
    static uint8_t pattern[TC_MAX_PLAINTEXT];
    for (size_t i = 0; i < a->bytes; i++)
        pattern[i] = (uint8_t)(i & 0xff);
    return sent(a, conn_send_partial(r->conn, pattern, a->bytes, deadline));
}

static int exec_send_raw(peer_run *r, const peer_action *a, int64_t deadline)
{
    return sent(a, conn_send_raw(r->conn, a->data, a->data_len, deadline));
}

static int exec_send_plaintext(peer_run *r, const peer_action *a, int64_t deadline)
{
    return sent(a, conn_send_plaintext(r->conn, a->data, a->data_len, deadline));
}

static int exec_fin(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)deadline;
    return sent(a, conn_send_fin(r->conn));
}

static int exec_rst(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)deadline;
    return sent(a, conn_reset(r->conn));
}

/* ---- expectations ---- */

static int exec_expect_data(peer_run *r, const peer_action *a, int64_t deadline)
{
    conn_event ev = {0};
    size_t got = 0;
    char what[96] = "";
    while (got < a->bytes) {
        int rc = conn_read_event(r->conn, deadline, &ev);
        if (rc < 0)
            return rc;
        if (ev.kind == CONN_RECORD && ev.type == TC_CT_APPLICATION_DATA)
            got += ev.len;
        if (is_end(&ev) || is_final_alert(&ev)) {
            describe(&ev, what, sizeof what);
            break;
        }
    }
    char detail[160];
    snprintf(detail, sizeof detail, "%zu of %zu bytes%s%s", got, a->bytes, *what ? ", then " : "", what);
    tr_expect("data", got >= a->bytes, detail);
    return timeout_rc(&ev);
}

static int exec_expect_close_notify(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)a;
    conn_event ev = {0};
    for (;;) {
        int rc = conn_read_event(r->conn, deadline, &ev);
        if (rc < 0)
            return rc;
        if (is_alert(&ev) && ev.len == 2 && ev.content[1] == 0) {
            tr_expect("close_notify", true, ev.content[0] == 1 ? "" : "level byte is not warning");
            return TC_OK;
        }
        if (is_end(&ev) || is_final_alert(&ev))
            break;
    }
    char detail[96];
    describe(&ev, detail, sizeof detail);
    tr_expect("close_notify", false, detail);
    return timeout_rc(&ev);
}

/* Reads until the transport ends; ok when it ended as `wanted`. */
static int expect_end(peer_run *r, int64_t deadline, conn_ev_kind wanted, const char *what)
{
    conn_event ev = {0};
    do {
        int rc = conn_read_event(r->conn, deadline, &ev);
        if (rc < 0)
            return rc;
    } while (!is_end(&ev));
    char detail[32];
    describe(&ev, detail, sizeof detail);
    tr_expect(what, ev.kind == wanted, ev.kind == wanted ? "" : detail);
    return timeout_rc(&ev);
}

static int exec_expect_eof(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)a;
    return expect_end(r, deadline, CONN_EOF, "eof");
}

static int exec_expect_rst(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)a;
    return expect_end(r, deadline, CONN_RESET, "rst");
}

static int exec_read_all(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)a;
    conn_event ev = {0};
    do {
        int rc = conn_read_event(r->conn, deadline, &ev);
        if (rc < 0)
            return rc;
    } while (!is_end(&ev));
    return timeout_rc(&ev);
}

static int exec_expect_plaintext(peer_run *r, const peer_action *a, int64_t deadline)
{
    uint8_t *buf = malloc(a->data_len);
    size_t got = 0;
    if (!buf)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    int rc = conn_read_plaintext(r->conn, buf, a->data_len, deadline, &got);
    bool stalled = got < a->data_len && tc_stall_ended_wait();
    if (got)
        tr_plaintext("recv", r->conn->id, buf, got);
    bool ok = rc == TC_OK && got == a->data_len && memcmp(buf, a->data, got) == 0;
    free(buf);
    char detail[64] = "";
    if (!ok)
        snprintf(detail, sizeof detail, got < a->data_len ? "%zu of %zu bytes%s" : "different text",
                 got, a->data_len, stalled ? ", stalled" : "");
    tr_expect("plaintext", ok, detail);
    return rc == TC_OK && got < a->data_len && !r->conn->ended
               ? tc_err_set(TC_ERR_TIMEOUT, "deadline passed")
               : rc;
}

static int exec_expect_silence(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)a;
    int rc = conn_wait_input(r->conn, deadline);
    if (rc == TC_ERR_TIMEOUT) {
        tr_expect("silence", true, "");
        return rc;
    }
    if (rc < 0)
        return rc;
    conn_event ev;
    char detail[96];
    rc = conn_read_event(r->conn, deadline, &ev);
    if (rc < 0)
        return rc;
    describe(&ev, detail, sizeof detail);
    tr_expect("silence", false, detail);
    return timeout_rc(&ev);
}

static int exec_stop_reading(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)r, (void)a, (void)deadline;
    return TC_OK;
}

/* ---- markers ---- */

static int exec_signal_sut(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)deadline;
    /* In-band (persistent mode) the transcript's marker event is the marker
     * itself: the harness forwards that line. */
    int rc = r->markers.inband ? TC_OK : tc_marker_send(&r->markers, a->marker);
    if (rc == TC_OK)
        tr_marker("sent", a->marker);
    else if (rc != TC_ERR_USAGE)
        tr_expect("marker", false, tc_err_msg());
    return rc == TC_ERR_USAGE ? rc : TC_OK;
}

static int exec_wait_marker(peer_run *r, const peer_action *a, int64_t deadline)
{
    char got[TC_MARKER_MAX];
    int rc = tc_marker_wait(&r->markers, a->marker, deadline, got);
    if (rc == TC_OK) {
        tr_marker("recv", a->marker);
        return TC_OK;
    }
    if (rc == TC_ERR_USAGE)
        return rc;
    tr_expect("marker", false, tc_err_msg());
    return rc == TC_ERR_TIMEOUT ? rc : TC_OK;
}

/* ---- connections ---- */

static int exec_close(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)a;
    return conn_close(r->conn, deadline);
}

int peer_connect(peer_run *r, int64_t deadline)
{
    int fd;
    int rc = tc_transport_next(&r->transport, deadline, &fd);
    if (rc < 0)
        return rc;
    bool may_fail = r->handshake_may_fail && r->conn_count == 0;
    return conn_open(&r->conn, ++r->conn_count, fd, &r->hs, deadline, r->answer_keyupdate,
                     may_fail);
}

static int exec_next_connection(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)a;
    int rc = conn_close(r->conn, deadline);
    if (rc < 0 && rc != TC_ERR_TIMEOUT)
        return rc;
    conn_free(r->conn);
    r->conn = NULL;
    rc = peer_connect(r, deadline);
    /* Without a connection no later action can run: only the run deadline
     * makes this a timeout, otherwise the peer failed. */
    if (rc == TC_ERR_TIMEOUT && tc_now_ms() < r->run_deadline)
        rc = tc_err_set(TC_ERR_LIBRARY, "connection %d: no handshake within the action's timeout%s",
                        r->conn_count, tc_stall_ended_wait() ? " (stalled)" : "");
    return rc;
}

/* ---- HTTP (http_actions.h) ---- */

static int exec_http_send(peer_run *r, const peer_action *a, int64_t deadline)
{
    return sent(a, http_act_send(r->conn, a, deadline));
}

static int exec_http_read_request(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)a;
    return http_act_read(r->conn, HTTP_REQUEST, deadline);
}

static int exec_http_read_response(peer_run *r, const peer_action *a, int64_t deadline)
{
    (void)a;
    return http_act_read(r->conn, HTTP_RESPONSE, deadline);
}

/* ---- the script ---- */

static const exec_fn executors[] = {
    [ACT_SEND_DATA] = exec_send_data,
    [ACT_SEND_ALERT] = exec_send_alert,
    [ACT_SEND_KEYUPDATE] = exec_send_keyupdate,
    [ACT_SEND_HANDSHAKE] = exec_send_handshake,
    [ACT_SEND_PARTIAL_RECORD] = exec_send_partial,
    [ACT_SEND_RAW] = exec_send_raw,
    [ACT_SEND_PLAINTEXT] = exec_send_plaintext,
    [ACT_FIN] = exec_fin,
    [ACT_RST] = exec_rst,
    [ACT_EXPECT_DATA] = exec_expect_data,
    [ACT_EXPECT_CLOSE_NOTIFY] = exec_expect_close_notify,
    [ACT_EXPECT_EOF] = exec_expect_eof,
    [ACT_EXPECT_RST] = exec_expect_rst,
    [ACT_EXPECT_PLAINTEXT] = exec_expect_plaintext,
    [ACT_EXPECT_SILENCE] = exec_expect_silence,
    [ACT_READ_ALL] = exec_read_all,
    [ACT_STOP_READING] = exec_stop_reading,
    [ACT_SIGNAL_SUT] = exec_signal_sut,
    [ACT_WAIT_MARKER] = exec_wait_marker,
    [ACT_CLOSE] = exec_close,
    [ACT_NEXT_CONNECTION] = exec_next_connection,
    [ACT_HTTP_READ_REQUEST] = exec_http_read_request,
    [ACT_HTTP_SEND_RESPONSE] = exec_http_send,
    [ACT_HTTP_SEND_REQUEST] = exec_http_send,
    [ACT_HTTP_READ_RESPONSE] = exec_http_read_response,
};

/* A timeout is an outcome of the action unless the run's own deadline is
 * what ran out. */
static int settle(const peer_run *r, size_t n, const peer_action *a, int rc)
{
    if (rc != TC_ERR_TIMEOUT)
        return rc;
    if (tc_now_ms() < r->run_deadline)
        return TC_OK;
    return tc_err_set(TC_ERR_TIMEOUT, "action %zu (%s): the run deadline passed", n, a->name);
}

/* The actions that write records or bytes, whose writes `hold` can join. */
static bool is_sending(action_kind kind)
{
    switch (kind) {
    case ACT_SEND_DATA:
    case ACT_SEND_ALERT:
    case ACT_SEND_KEYUPDATE:
    case ACT_SEND_HANDSHAKE:
    case ACT_SEND_RAW:
    case ACT_SEND_PLAINTEXT:
        return true;
    default:
        return false;
    }
}

/* Held bytes leave with the next sending action's, or on their own before
 * any other action (which may wait for the SUT's answer to them). */
static int hold_or_flush(peer_run *r, const peer_action *a, int64_t deadline)
{
    if (!r->conn || r->conn->fd < 0)
        return TC_OK;
    if (is_sending(a->kind)) {
        conn_set_holding(r->conn, a->hold);
        return TC_OK;
    }
    return sent(a, conn_flush_held(r->conn, deadline));
}

/* A stall notice (transport.h) ends an action's wait as its timeout would:
 * the SUT is waiting for the peer, so nothing would come before it. Not
 * expect_silence, whose subject is the time itself. Waits outside actions
 * (the first handshake, the close at the end) are bounded by the run's
 * deadline, which a notice must not pretend has passed. */
static int run_action(peer_run *r, const peer_action *a, size_t n)
{
    int64_t deadline = tc_now_ms() + a->timeout_ms;
    if (deadline > r->run_deadline)
        deadline = r->run_deadline;
    tr_action(n, a->json);
    tc_stall_arm(a->kind != ACT_EXPECT_SILENCE);
    int rc = hold_or_flush(r, a, deadline);
    if (rc == TC_OK)
        rc = executors[a->kind](r, a, deadline);
    tc_stall_arm(false);
    if (r->conn)
        conn_set_holding(r->conn, false);
    if (rc == TC_ERR_USAGE) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", tc_err_msg());
        return tc_err_set(TC_ERR_USAGE, "action %zu (%s): %s", n, a->name, msg);
    }
    return settle(r, n, a, rc);
}

int peer_run_script(peer_run *r, const peer_script *s)
{
    for (size_t i = 0; i < s->n; i++) {
        int rc = run_action(r, &s->actions[i], i + 1);
        if (rc < 0)
            return rc;
    }
    if (!r->conn || r->conn->fd < 0)
        return TC_OK;
    int rc = conn_close(r->conn, r->run_deadline);
    return rc == TC_ERR_TIMEOUT ? tc_err_set(rc, "closing at the end of the script: the run deadline passed") : rc;
}

void peer_run_free(peer_run *r)
{
    conn_free(r->conn);
    r->conn = NULL;
    hs_ctx_free(&r->hs);
}
