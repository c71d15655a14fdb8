#include "wolfssl_outcome.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

/* ---- names ----------------------------------------------------------- */

#define NAMED(code) {code, #code}

/* wolfSSL_get_error converts only WANT_READ, WANT_WRITE and ZERO_RETURN to
 * the OpenSSL values and passes every other ssl->error through: the
 * OpenSSL-compatible values first, then the wolfSSL codes a closing
 * connection can meet (wolfssl/error-ssl.h, wolfcrypt/error-crypt.h). */
static const struct {
    int code;
    const char *name;
} error_names[] = {
    {WOLFSSL_ERROR_NONE, "SSL_ERROR_NONE"},
    {WOLFSSL_ERROR_WANT_READ, "SSL_ERROR_WANT_READ"},
    {WOLFSSL_ERROR_WANT_WRITE, "SSL_ERROR_WANT_WRITE"},
    {WOLFSSL_ERROR_SYSCALL, "SSL_ERROR_SYSCALL"},
    {WOLFSSL_ERROR_ZERO_RETURN, "SSL_ERROR_ZERO_RETURN"},
    {WOLFSSL_ERROR_WANT_CONNECT, "SSL_ERROR_WANT_CONNECT"},
    {WOLFSSL_ERROR_WANT_ACCEPT, "SSL_ERROR_WANT_ACCEPT"},
    {WOLFSSL_ERROR_WANT_X509_LOOKUP, "SSL_ERROR_WANT_X509_LOOKUP"},
    {WOLFSSL_ERROR_SSL, "SSL_ERROR_SSL"},
    NAMED(BAD_FUNC_ARG), NAMED(BUFFER_E), NAMED(MEMORY_E), NAMED(BAD_STATE_E),
    NAMED(VERIFY_FINISHED_ERROR), NAMED(VERIFY_MAC_ERROR), NAMED(PARSE_ERROR),
    NAMED(UNKNOWN_HANDSHAKE_TYPE), NAMED(SOCKET_ERROR_E), NAMED(SOCKET_NODATA),
    NAMED(INCOMPLETE_DATA), NAMED(UNKNOWN_RECORD_TYPE), NAMED(DECRYPT_ERROR),
    NAMED(FATAL_ERROR), NAMED(ENCRYPT_ERROR), NAMED(BUILD_MSG_ERROR), NAMED(WANT_READ),
    NAMED(NOT_READY_ERROR), NAMED(VERSION_ERROR), NAMED(WANT_WRITE), NAMED(BUFFER_ERROR),
    NAMED(LENGTH_ERROR), NAMED(ZERO_RETURN), NAMED(SIDE_ERROR), NAMED(SEQUENCE_ERROR),
    NAMED(OUT_OF_ORDER_E), NAMED(SANITY_CIPHER_E), NAMED(RECV_OVERFLOW_E),
    NAMED(SEND_OOB_READ_E), NAMED(SANITY_MSG_E), NAMED(DUPLICATE_MSG_E),
    NAMED(SOCKET_PEER_CLOSED_E), NAMED(DECODE_E), NAMED(ALERT_COUNT_E),
    NAMED(SSL_SHUTDOWN_ALREADY_DONE_E), NAMED(APP_DATA_READY), NAMED(UNSUPPORTED_SUITE),
    NAMED(MATCH_SUITE_ERROR), NAMED(KEY_SHARE_ERROR),
};

const char *wf_error_name(int err, char *buf, size_t cap)
{
    for (size_t i = 0; i < sizeof error_names / sizeof error_names[0]; i++)
        if (error_names[i].code == err)
            return error_names[i].name;
    snprintf(buf, cap, "wolfSSL error %d", err);
    return buf;
}

void wf_error_outcome(int err, char *out, size_t cap)
{
    char buf[32];
    const char *name = wf_error_name(err, buf, sizeof buf);
    if (strncmp(name, "SSL_ERROR_", 10) == 0)
        name += 10;
    size_t i = 0;
    for (; name[i] && i + 1 < cap; i++)
        out[i] = name[i] == ' ' ? '_' : (char)tolower((unsigned char)name[i]);
    out[i] = '\0';
}

/* TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2), for "alert:NAME". */
static const struct {
    int code;
    const char *name;
} alert_names[] = {
    {0, "close_notify"}, {10, "unexpected_message"}, {20, "bad_record_mac"},
    {21, "decryption_failed"}, {22, "record_overflow"}, {30, "decompression_failure"},
    {40, "handshake_failure"}, {41, "no_certificate"}, {42, "bad_certificate"},
    {43, "unsupported_certificate"}, {44, "certificate_revoked"}, {45, "certificate_expired"},
    {46, "certificate_unknown"}, {47, "illegal_parameter"}, {48, "unknown_ca"},
    {49, "access_denied"}, {50, "decode_error"}, {51, "decrypt_error"},
    {60, "export_restriction"}, {70, "protocol_version"}, {71, "insufficient_security"},
    {80, "internal_error"}, {86, "inappropriate_fallback"}, {90, "user_canceled"},
    {100, "no_renegotiation"}, {109, "missing_extension"}, {110, "unsupported_extension"},
    {111, "certificate_unobtainable"}, {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"}, {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"}, {116, "certificate_required"},
    {120, "no_application_protocol"},
};

static const char *alert_name(int code)
{
    for (size_t i = 0; i < sizeof alert_names / sizeof alert_names[0]; i++)
        if (alert_names[i].code == code)
            return alert_names[i].name;
    return NULL;
}

/* ---- native fields ------------------------------------------------------ */

static void add_alert_line(shim_call *c, const WOLFSSL_ALERT *a)
{
    if (c->queue_len == SHIM_MAX_QUEUE)
        return;
    const char *name = alert_name(a->code);
    snprintf(c->queue[c->queue_len++], sizeof c->queue[0],
             "wolfSSL: alert received: %s (%d), level %d", name ? name : "unregistered",
             a->code, a->level);
}

static bool queue_has_alert_line(const shim_call *c)
{
    for (int i = 0; i < c->queue_len; i++)
        if (strstr(c->queue[i], "alert received"))
            return true;
    return false;
}

static WOLFSSL_ALERT last_received(WOLFSSL *ssl)
{
    WOLFSSL_ALERT_HISTORY h;
    memset(&h, 0, sizeof h);
    wolfSSL_get_alert_history(ssl, &h);
    return h.last_rx;
}

/* wolfSSL's queue holds absolute values of its error codes, and DoAlert
 * queues a received alert as its description number (WOLFSSL_ERROR(type)):
 * such an entry is shown as the alert, not as the unrelated error code of
 * the same number. */
static void drain_queue(WOLFSSL *ssl, shim_call *c)
{
    WOLFSSL_ALERT rx = last_received(ssl);
    unsigned long e;
    int guard = 64; /* the queue is bounded; this only protects the loop */
    while ((e = wolfSSL_ERR_get_error()) != 0 && guard-- > 0) {
        if (rx.level != 0 && e < 256 && (int)e == rx.code) {
            add_alert_line(c, &rx);
            continue;
        }
        if (c->queue_len < SHIM_MAX_QUEUE)
            snprintf(c->queue[c->queue_len++], sizeof c->queue[0], "wolfSSL: %s (%d)",
                     wolfSSL_ERR_reason_error_string(e), -(int)e);
    }
}

/* ---- classification ----------------------------------------------------- */

static void set_outcome(shim_call *c, const char *s)
{
    snprintf(c->outcome, sizeof c->outcome, "%s", s);
}

/* Codes that mean the bytes did not parse as TLS records or alerts
 * (BUFFER_E: an alert record that is not exactly two bytes, DoAlert). */
static int is_decode(int code)
{
    switch (code) {
    case BUFFER_E:
    case BUFFER_ERROR:
    case LENGTH_ERROR:
    case PARSE_ERROR:
    case INCOMPLETE_DATA:
    case UNKNOWN_RECORD_TYPE:
    case VERIFY_MAC_ERROR:
    case DECRYPT_ERROR:
    case VERSION_ERROR:
    case RECV_OVERFLOW_E:
    case DECODE_E:
        return 1;
    default:
        return 0;
    }
}

static int is_reset_errno(int e)
{
    return e == ECONNRESET || e == EPIPE;
}

/* An EOF where the library needed more: while reading application data
 * that is the truncation the caller must be told about; elsewhere it is an
 * error. */
static void eof_outcome(shim_call *c, wf_call_kind kind)
{
    set_outcome(c, kind == WF_CALL_READ ? "truncated" : "error:unexpected_eof");
}

/* FATAL_ERROR mostly means a fatal alert arrived (ProcessReplyEx); without
 * one in the alert history it is some other fatal protocol error. */
static void alert_outcome(WOLFSSL *ssl, shim_call *c)
{
    WOLFSSL_ALERT rx = last_received(ssl);
    if (rx.level == 0) {
        set_outcome(c, "error:protocol");
        return;
    }
    if (!queue_has_alert_line(c))
        add_alert_line(c, &rx);
    int code = rx.code;
    const char *name = alert_name(code);
    if (name)
        snprintf(c->outcome, sizeof c->outcome, "error:alert:%s", name);
    else
        snprintf(c->outcome, sizeof c->outcome, "error:alert:%d", code);
}

/* Socket-level codes: wolfSSL's IO callbacks turn ECONNRESET into
 * WOLFSSL_CBIO_ERR_CONN_RST and recv() == 0 or EPIPE into
 * WOLFSSL_CBIO_ERR_CONN_CLOSE; the errno left by the call tells them apart
 * (wolfSSL_read and wolfSSL_write clear errno first). */
static void socket_outcome(shim_call *c, wf_call_kind kind, int code)
{
    if (is_reset_errno(c->sys_errno))
        set_outcome(c, "error:reset");
    else if (code == SOCKET_PEER_CLOSED_E || c->sys_errno == 0)
        eof_outcome(c, kind);
    else
        set_outcome(c, "error:other");
}

static void classify(WOLFSSL *ssl, int err, wf_call_kind kind, shim_call *c)
{
    switch (err) {
    case WOLFSSL_ERROR_WANT_READ:
    case WANT_READ: c->want = SHIM_WANT_READ; return;
    case WOLFSSL_ERROR_WANT_WRITE:
    case WANT_WRITE: c->want = SHIM_WANT_WRITE; return;
    case WOLFSSL_ERROR_ZERO_RETURN:
    case ZERO_RETURN: set_outcome(c, "closed"); return;
    case WOLFSSL_ERROR_SYSCALL:
    case SOCKET_ERROR_E:
    case SOCKET_PEER_CLOSED_E: socket_outcome(c, kind, err); return;
    case FATAL_ERROR: alert_outcome(ssl, c); return;
    default: break;
    }
    if (is_decode(err))
        set_outcome(c, "error:decode");
    else if (err <= -300 && err > -600) /* wolfSSL's TLS error range */
        set_outcome(c, "error:protocol");
    else
        set_outcome(c, "error:other");
}

static void success_outcome(shim_call *c, wf_call_kind kind)
{
    switch (kind) {
    case WF_CALL_READ:
        c->bytes = (size_t)c->ret;
        snprintf(c->outcome, sizeof c->outcome, "data:%ld", c->ret);
        break;
    case WF_CALL_WRITE:
        c->bytes = (size_t)c->ret;
        snprintf(c->outcome, sizeof c->outcome, "ok:%ld", c->ret);
        break;
    case WF_CALL_SHUTDOWN:
        set_outcome(c, c->ret == WOLFSSL_SUCCESS ? "complete" : "sent");
        break;
    default:
        set_outcome(c, "ok");
    }
}

static void record_error(WOLFSSL *ssl, int err, int saved_errno, wf_call_kind kind,
                         shim_call *c)
{
    char buf[32];
    snprintf(c->error, sizeof c->error, "%s", wf_error_name(err, buf, sizeof buf));
    if (err == WOLFSSL_ERROR_SYSCALL || err == SOCKET_ERROR_E || err == SOCKET_PEER_CLOSED_E)
        c->sys_errno = saved_errno;
    classify(ssl, err, kind, c);
}

void wf_capture(WOLFSSL *ssl, int ret, int saved_errno, wf_call_kind kind, shim_call *c)
{
    c->ret = ret;
    int failed = kind == WF_CALL_SHUTDOWN    ? ret < 0
                 : kind == WF_CALL_HANDSHAKE ? ret != WOLFSSL_SUCCESS
                                             : ret <= 0;
    /* Unlike OpenSSL's, wolfSSL_get_error reads ssl->error, not the queue. */
    int err = failed ? wolfSSL_get_error(ssl, ret) : WOLFSSL_ERROR_NONE;
    drain_queue(ssl, c);
    if (!failed)
        success_outcome(c, kind);
    else
        record_error(ssl, err, saved_errno, kind, c);
}

void wf_capture_code(WOLFSSL *ssl, int code, int saved_errno, shim_call *c)
{
    c->ret = code;
    drain_queue(ssl, c);
    if (code == WOLFSSL_SUCCESS)
        set_outcome(c, "ok");
    else
        record_error(ssl, code, saved_errno, WF_CALL_HANDSHAKE, c);
}
