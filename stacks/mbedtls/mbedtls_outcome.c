/* The error table of the mbedTLS shim; stacks/mbedtls/README.md lists the
 * same mapping for readers. */
#include "mbedtls_outcome.h"

#include "tls_names.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>

typedef struct {
    int code;
    const char *name;
    const char *class_name; /* NULL: not an error class (a want, a close, an alert) */
} mb_error_entry;

#define MB_E(code, cls) { code, #code, cls }

/* Damage to a record (it does not authenticate, its length or layout is
 * wrong) is "decode"; a well-formed message in the wrong place or a value
 * mbedTLS refuses is "protocol". */
static const mb_error_entry mb_errors[] = {
    MB_E(MBEDTLS_ERR_SSL_WANT_READ, NULL),
    MB_E(MBEDTLS_ERR_SSL_WANT_WRITE, NULL),
    MB_E(MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY, NULL),
    MB_E(MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, NULL),
    MB_E(MBEDTLS_ERR_NET_CONN_RESET, "reset"),
    MB_E(MBEDTLS_ERR_NET_RECV_FAILED, "other"),
    MB_E(MBEDTLS_ERR_NET_SEND_FAILED, "other"),
    MB_E(MBEDTLS_ERR_SSL_CONN_EOF, "unexpected_eof"),
    MB_E(MBEDTLS_ERR_SSL_TIMEOUT, "timeout"),
    MB_E(MBEDTLS_ERR_SSL_INVALID_MAC, "decode"),
    MB_E(MBEDTLS_ERR_SSL_INVALID_RECORD, "decode"),
    MB_E(MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL, "decode"),
    MB_E(MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_UNEXPECTED_RECORD, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO_DONE, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_CHANGE_CIPHER_SPEC, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_FINISHED, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_NEW_SESSION_TICKET, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_UNKNOWN_CIPHER, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_COUNTER_WRAPPING, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_VERSION_MISMATCH, "protocol"),
    MB_E(MBEDTLS_ERR_SSL_BAD_INPUT_DATA, "other"),
    MB_E(MBEDTLS_ERR_SSL_INTERNAL_ERROR, "other"),
    MB_E(MBEDTLS_ERR_SSL_ALLOC_FAILED, "other"),
    MB_E(MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE, "other"),
};

static const mb_error_entry *mb_find(int code)
{
    for (size_t i = 0; i < sizeof mb_errors / sizeof mb_errors[0]; i++)
        if (mb_errors[i].code == code)
            return &mb_errors[i];
    return NULL;
}

const char *mb_error_name(int code, char *buf, size_t cap)
{
    const mb_error_entry *e = mb_find(code);
    if (e)
        return e->name;
    /* mbedTLS has no name lookup; the code as its header spells it. */
    snprintf(buf, cap, "-0x%04X", (unsigned)-code);
    return buf;
}

/* mbedTLS 2.28 has no accessor for a received alert. When a call fails
 * with MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE the alert record is still the
 * current message (library/ssl_msg.c, mbedtls_ssl_handle_message_type
 * returns before it is consumed), so its description is in_msg[1]. */
static void mb_set_alert_outcome(const mbedtls_ssl_context *ssl, shim_call *c)
{
    char buf[24];
    int desc = (ssl->in_msg && ssl->in_msglen >= 2) ? ssl->in_msg[1] : -1;
    const char *name = desc < 0 ? "unknown" : tls_alert_outcome_name(desc, buf, sizeof buf);
    snprintf(c->outcome, sizeof c->outcome, "error:alert:%s", name);
}

void mb_describe_error(const mbedtls_ssl_context *ssl, int code, int transport_errno,
                       shim_call *c)
{
    char namebuf[16];
    c->ret = code;
    snprintf(c->error, sizeof c->error, "%s", mb_error_name(code, namebuf, sizeof namebuf));
    mbedtls_strerror(code, c->queue[0], sizeof c->queue[0]);
    c->queue_len = 1;
    if (code == MBEDTLS_ERR_NET_CONN_RESET || code == MBEDTLS_ERR_NET_RECV_FAILED ||
        code == MBEDTLS_ERR_NET_SEND_FAILED)
        c->sys_errno = transport_errno;
    const mb_error_entry *e = mb_find(code);
    if (code == MBEDTLS_ERR_SSL_WANT_READ || code == MBEDTLS_ERR_SSL_WANT_WRITE) {
        c->want = code == MBEDTLS_ERR_SSL_WANT_READ ? SHIM_WANT_READ : SHIM_WANT_WRITE;
        c->outcome[0] = '\0';
    } else if (code == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        snprintf(c->outcome, sizeof c->outcome, "closed");
    } else if (code == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        mb_set_alert_outcome(ssl, c);
    } else {
        snprintf(c->outcome, sizeof c->outcome, "error:%s",
                 e && e->class_name ? e->class_name : "other");
    }
}
