#include "openssl_outcome.h"

#include "tls_names.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

#ifdef OPENSSL_IS_BORINGSSL
/* BoringSSL has no ERR_get_error_all (every argument is NULL here anyway);
 * it reports an EOF as SSL_ERROR_SYSCALL with an empty queue, having no
 * reason for it (-1 matches no reason), and application data met by
 * SSL_shutdown as SSL_R_APPLICATION_DATA_ON_SHUTDOWN (ssl/ssl_lib.cc). */
#define ERR_get_error_all(file, line, func, data, flags) ERR_get_error()
#define SSL_R_UNEXPECTED_EOF_WHILE_READING (-1)
#define SSL_R_APPLICATION_DATA_AFTER_CLOSE_NOTIFY SSL_R_APPLICATION_DATA_ON_SHUTDOWN
#endif

#if OPENSSL_VERSION_NUMBER < 0x30000000L && !defined(OPENSSL_IS_BORINGSSL)
/* OpenSSL 1.1.1 (cmake/openssl_roots.cmake): ERR_get_error_all is 3.0's,
 * ERR_get_error_line_data reads the same queue. SSL_R_UNEXPECTED_EOF_WHILE_
 * READING is 3.0's too: 1.1.1 reports an EOF as SSL_ERROR_SYSCALL with
 * errno 0 (syscall_outcome), so a reason no error carries stands in. */
#define ERR_get_error_all(file, line, func, data, flags) \
    ERR_get_error_line_data(file, line, data, flags)
#define SSL_R_UNEXPECTED_EOF_WHILE_READING (-1)
#endif

/* ---- names ----------------------------------------------------------- */

static const struct {
    int code;
    const char *name;
} error_names[] = {
    {SSL_ERROR_NONE, "SSL_ERROR_NONE"},
    {SSL_ERROR_SSL, "SSL_ERROR_SSL"},
    {SSL_ERROR_WANT_READ, "SSL_ERROR_WANT_READ"},
    {SSL_ERROR_WANT_WRITE, "SSL_ERROR_WANT_WRITE"},
    {SSL_ERROR_WANT_X509_LOOKUP, "SSL_ERROR_WANT_X509_LOOKUP"},
    {SSL_ERROR_SYSCALL, "SSL_ERROR_SYSCALL"},
    {SSL_ERROR_ZERO_RETURN, "SSL_ERROR_ZERO_RETURN"},
    {SSL_ERROR_WANT_CONNECT, "SSL_ERROR_WANT_CONNECT"},
    {SSL_ERROR_WANT_ACCEPT, "SSL_ERROR_WANT_ACCEPT"},
#ifdef SSL_ERROR_WANT_ASYNC
    {SSL_ERROR_WANT_ASYNC, "SSL_ERROR_WANT_ASYNC"},
#endif
#ifdef SSL_ERROR_WANT_ASYNC_JOB
    {SSL_ERROR_WANT_ASYNC_JOB, "SSL_ERROR_WANT_ASYNC_JOB"},
#endif
#ifdef SSL_ERROR_WANT_CLIENT_HELLO_CB
    {SSL_ERROR_WANT_CLIENT_HELLO_CB, "SSL_ERROR_WANT_CLIENT_HELLO_CB"},
#endif
#ifdef SSL_ERROR_WANT_RETRY_VERIFY
    {SSL_ERROR_WANT_RETRY_VERIFY, "SSL_ERROR_WANT_RETRY_VERIFY"},
#endif
};

const char *ossl_error_name(int err, char *buf, size_t cap)
{
    for (size_t i = 0; i < sizeof error_names / sizeof error_names[0]; i++)
        if (error_names[i].code == err)
            return error_names[i].name;
    snprintf(buf, cap, "SSL_ERROR_%d", err);
    return buf;
}

void ossl_error_outcome(int err, char *out, size_t cap)
{
    char buf[32];
    const char *name = ossl_error_name(err, buf, sizeof buf) + strlen("SSL_ERROR_");
    size_t i = 0;
    for (; name[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    out[i] = '\0';
}

static void alert_outcome(int code, char *out, size_t cap)
{
    char buf[24];
    snprintf(out, cap, "error:alert:%s", tls_alert_outcome_name(code, buf, sizeof buf));
}

/* ---- classification ----------------------------------------------------- */

/* Reasons that mean the bytes did not parse as TLS records or alerts. */
static int is_decode_reason(int reason)
{
    switch (reason) {
    case SSL_R_BAD_LENGTH:
#ifdef SSL_R_BAD_PACKET
    case SSL_R_BAD_PACKET:
#endif
    case SSL_R_BAD_PACKET_LENGTH:
    case SSL_R_LENGTH_MISMATCH:
#ifdef SSL_R_LENGTH_TOO_SHORT
    case SSL_R_LENGTH_TOO_SHORT:
#endif
#ifdef SSL_R_LENGTH_TOO_LONG
    case SSL_R_LENGTH_TOO_LONG:
#endif
    case SSL_R_RECORD_LENGTH_MISMATCH:
#ifdef SSL_R_RECORD_TOO_SMALL
    case SSL_R_RECORD_TOO_SMALL:
#endif
#ifdef SSL_R_PACKET_LENGTH_TOO_LONG
    case SSL_R_PACKET_LENGTH_TOO_LONG:
#endif
    case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
    case SSL_R_DATA_LENGTH_TOO_LONG:
    case SSL_R_EXCESSIVE_MESSAGE_SIZE:
    case SSL_R_DECRYPTION_FAILED:
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
#ifdef SSL_R_INVALID_ALERT
    case SSL_R_INVALID_ALERT:
#endif
    case SSL_R_UNKNOWN_ALERT_TYPE:
    case SSL_R_WRONG_VERSION_NUMBER:
#ifdef SSL_R_RECORD_LAYER_FAILURE
    case SSL_R_RECORD_LAYER_FAILURE:
#endif
#ifdef OPENSSL_IS_BORINGSSL
    case SSL_R_BAD_ALERT:   /* an alert record not 2 bytes, a TLS 1.3 warning alert */
    case SSL_R_DECODE_ERROR:
#endif
        return 1;
    default:
        return 0;
    }
}

/* The queue entries that decide the class: the first one from libssl and
 * the first errno-carrying one. */
typedef struct {
    int ssl_reason; /* 0 if none */
    int sys_errno;  /* 0 if none */
} queue_facts;

static void drain_queue(shim_call *c, queue_facts *f)
{
    unsigned long e;
    while ((e = ERR_get_error_all(NULL, NULL, NULL, NULL, NULL)) != 0) {
        int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
        if (lib == ERR_LIB_SSL && !f->ssl_reason)
            f->ssl_reason = reason;
        if (lib == ERR_LIB_SYS && !f->sys_errno)
            f->sys_errno = reason;
        if (c->queue_len == SHIM_MAX_QUEUE)
            continue;
        const char *ls = ERR_lib_error_string(e), *rs = ERR_reason_error_string(e);
        snprintf(c->queue[c->queue_len++], sizeof c->queue[0], "%s: %s",
                 ls ? ls : "unknown library", rs ? rs : "unknown reason");
    }
}

static void set_outcome(shim_call *c, const char *s)
{
    snprintf(c->outcome, sizeof c->outcome, "%s", s);
}

/* An EOF where the library needed more: while reading application data
 * that is the truncation the caller must be told about; elsewhere it is an
 * error. */
static void eof_outcome(shim_call *c, ossl_call_kind kind)
{
    set_outcome(c, kind == OSSL_CALL_READ ? "truncated" : "error:unexpected_eof");
}

/* OpenSSL 1.1.1 reports an EOF as SSL_ERROR_SYSCALL with errno 0 and
 * nothing queued (SSL_get_error(3), BUGS), whether SSL_read returned 0 or
 * SSL_shutdown -1 (ssl3_shutdown found no close_notify). BoringSSL gives
 * that same answer to a shutdown whose close_notify waits behind a pending
 * write (stacks/boringssl/boringssl.toml), so there only a 0 return tells an EOF. */
static int is_syscall_eof(const shim_call *c)
{
    if (c->sys_errno != 0)
        return 0;
#ifdef OPENSSL_IS_BORINGSSL
    return c->ret == 0;
#else
    return c->ret == 0 || c->queue_len == 0;
#endif
}

static void syscall_outcome(shim_call *c, ossl_call_kind kind)
{
    if (c->sys_errno == ECONNRESET || c->sys_errno == EPIPE)
        set_outcome(c, "error:reset");
    else if (is_syscall_eof(c))
        eof_outcome(c, kind);
    else
        set_outcome(c, "error:other");
}

static void ssl_outcome(shim_call *c, ossl_call_kind kind, const queue_facts *f)
{
    int r = f->ssl_reason;
    if (r == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        eof_outcome(c, kind);
    else if (r == SSL_R_PROTOCOL_IS_SHUTDOWN)
        set_outcome(c, "error:shut_down");
    else if (r == SSL_R_APPLICATION_DATA_AFTER_CLOSE_NOTIFY)
        set_outcome(c, "error:data_after_close");
    else if (r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256)
        alert_outcome(r - SSL_AD_REASON_OFFSET, c->outcome, sizeof c->outcome);
    else if (is_decode_reason(r))
        set_outcome(c, "error:decode");
    else if (r == 0 && (f->sys_errno == ECONNRESET || f->sys_errno == EPIPE))
        set_outcome(c, "error:reset");
    else
        set_outcome(c, "error:protocol");
}

static void success_outcome(shim_call *c, ossl_call_kind kind)
{
    switch (kind) {
    case OSSL_CALL_READ:
        c->bytes = (size_t)c->ret;
        snprintf(c->outcome, sizeof c->outcome, "data:%ld", c->ret);
        break;
    case OSSL_CALL_WRITE:
        c->bytes = (size_t)c->ret;
        snprintf(c->outcome, sizeof c->outcome, "ok:%ld", c->ret);
        break;
    case OSSL_CALL_SHUTDOWN:
        set_outcome(c, c->ret == 1 ? "complete" : "sent");
        break;
    default:
        set_outcome(c, "ok");
    }
}

void ossl_capture(SSL *ssl, int ret, int saved_errno, ossl_call_kind kind, shim_call *c)
{
    c->ret = ret;
    int failed = kind == OSSL_CALL_SHUTDOWN ? ret < 0 : ret <= 0;
    /* SSL_get_error reads the queue, so it must come before the drain. */
    int err = failed ? SSL_get_error(ssl, ret) : SSL_ERROR_NONE;
    queue_facts f = {0, 0};
    drain_queue(c, &f);
    if (!failed) {
        success_outcome(c, kind);
        return;
    }
    char buf[32];
    snprintf(c->error, sizeof c->error, "%s", ossl_error_name(err, buf, sizeof buf));
    if (err == SSL_ERROR_SYSCALL)
        c->sys_errno = saved_errno ? saved_errno : f.sys_errno;
    switch (err) {
    case SSL_ERROR_WANT_READ: c->want = SHIM_WANT_READ; break;
    case SSL_ERROR_WANT_WRITE: c->want = SHIM_WANT_WRITE; break;
    case SSL_ERROR_ZERO_RETURN: set_outcome(c, "closed"); break;
    case SSL_ERROR_SYSCALL: syscall_outcome(c, kind); break;
    case SSL_ERROR_SSL: ssl_outcome(c, kind, &f); break;
    default: set_outcome(c, "error:other");
    }
}
