/* The error table of the GnuTLS shim; docs/shim-protocol.md (GnuTLS section)
 * lists the same mapping for readers. */
#include "gnutls_outcome.h"

#include "tls_names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int code;
    const char *name;
    const char *class_name; /* NULL: decided by the call kind (see below) */
} gt_error_entry;

#define GT_E(code, cls) { code, #code, cls }

/* Record-layer damage is "decode"; a well-formed record in the wrong place
 * or an illegal value is "protocol". Codes needing context have NULL. */
static const gt_error_entry gt_errors[] = {
    GT_E(GNUTLS_E_AGAIN, NULL),
    GT_E(GNUTLS_E_INTERRUPTED, NULL),
    GT_E(GNUTLS_E_PREMATURE_TERMINATION, NULL),
    GT_E(GNUTLS_E_FATAL_ALERT_RECEIVED, NULL),
    GT_E(GNUTLS_E_WARNING_ALERT_RECEIVED, NULL),
    GT_E(GNUTLS_E_PUSH_ERROR, NULL),
    GT_E(GNUTLS_E_PULL_ERROR, NULL),
    GT_E(GNUTLS_E_INVALID_SESSION, NULL),
    GT_E(GNUTLS_E_TIMEDOUT, "timeout"),
    GT_E(GNUTLS_E_UNEXPECTED_PACKET_LENGTH, "decode"),
    GT_E(GNUTLS_E_DECRYPTION_FAILED, "decode"),
    GT_E(GNUTLS_E_RECORD_OVERFLOW, "decode"),
    GT_E(GNUTLS_E_UNSUPPORTED_VERSION_PACKET, "decode"),
    GT_E(GNUTLS_E_TOO_MANY_EMPTY_PACKETS, "decode"),
    GT_E(GNUTLS_E_UNEXPECTED_EXTENSIONS_LENGTH, "decode"),
    GT_E(GNUTLS_E_UNEXPECTED_PACKET, "protocol"),
    GT_E(GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET, "protocol"),
    GT_E(GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER, "protocol"),
    GT_E(GNUTLS_E_ILLEGAL_PARAMETER, "protocol"),
    GT_E(GNUTLS_E_ERROR_IN_FINISHED_PACKET, "protocol"),
    GT_E(GNUTLS_E_TOO_MANY_HANDSHAKE_PACKETS, "protocol"),
    GT_E(GNUTLS_E_HANDSHAKE_TOO_LARGE, "protocol"),
    GT_E(GNUTLS_E_RECORD_LIMIT_REACHED, "protocol"),
    GT_E(GNUTLS_E_MISSING_EXTENSION, "protocol"),
    GT_E(GNUTLS_E_REHANDSHAKE, "renegotiation"), /* non-fatal: the application decides */
    GT_E(GNUTLS_E_UNSAFE_RENEGOTIATION_DENIED, "protocol"),
    GT_E(GNUTLS_E_NO_CIPHER_SUITES, "protocol"),
    GT_E(GNUTLS_E_UNKNOWN_CIPHER_SUITE, "protocol"),
    GT_E(GNUTLS_E_NO_COMMON_KEY_SHARE, "protocol"),
    GT_E(GNUTLS_E_INSUFFICIENT_SECURITY, "protocol"),
    GT_E(GNUTLS_E_PK_SIG_VERIFY_FAILED, "protocol"),
    GT_E(GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM, "protocol"),
    GT_E(GNUTLS_E_INVALID_REQUEST, "other"),
    GT_E(GNUTLS_E_INTERNAL_ERROR, "other"),
    GT_E(GNUTLS_E_MEMORY_ERROR, "other"),
};

static const gt_error_entry *gt_find(int code)
{
    for (size_t i = 0; i < sizeof gt_errors / sizeof gt_errors[0]; i++)
        if (gt_errors[i].code == code)
            return &gt_errors[i];
    return NULL;
}

const char *gt_error_name(int code)
{
    const gt_error_entry *e = gt_find(code);
    if (e)
        return e->name;
    /* gnutls_strerror_name gives the same macro spelling for the rest. */
    const char *n = gnutls_strerror_name(code);
    return n ? n : "GNUTLS_E_UNKNOWN";
}

static void gt_set_alert_outcome(gnutls_session_t tls, const char *prefix, shim_call *c)
{
    char buf[24];
    const char *name = tls_alert_outcome_name((int)gnutls_alert_get(tls), buf, sizeof buf);
    snprintf(c->outcome, sizeof c->outcome, "error:%s:%s", prefix, name);
}

static bool gt_is_reset_errno(int e)
{
    return e == ECONNRESET || e == EPIPE;
}

/* The class of an error that is not a want and not an alert. */
static const char *gt_class(gt_call_kind kind, int code, int saved_errno, bool after_bye)
{
    switch (code) {
    case GNUTLS_E_PREMATURE_TERMINATION:
        /* GnuTLS also uses this code for a send that failed with
         * ECONNRESET (lib/buffers.c errno_to_gerr): that is a reset. */
        if (saved_errno == ECONNRESET)
            return "reset";
        /* Reading application data, an EOF without close_notify is the
         * truncation the caller must be told about; anywhere else the
         * library needed bytes that never came. */
        return kind == GT_CALL_READ ? NULL : "unexpected_eof";
    case GNUTLS_E_PUSH_ERROR:
    case GNUTLS_E_PULL_ERROR:
        return gt_is_reset_errno(saved_errno) ? "reset" : "other";
    case GNUTLS_E_INVALID_SESSION:
        return after_bye ? "shut_down" : "other";
    default:
        break;
    }
    const gt_error_entry *e = gt_find(code);
    return e && e->class_name ? e->class_name : "other";
}

static void gt_set_want(gnutls_session_t tls, shim_call *c)
{
    /* 1 means the interrupted call was writing when it stopped. */
    c->want = gnutls_record_get_direction(tls) ? SHIM_WANT_WRITE : SHIM_WANT_READ;
    c->outcome[0] = '\0';
}

void gt_describe_error(gnutls_session_t tls, gt_call_kind kind, int code,
                       int saved_errno, bool after_bye, shim_call *c)
{
    c->ret = code;
    snprintf(c->error, sizeof c->error, "%s", gt_error_name(code));
    snprintf(c->queue[0], sizeof c->queue[0], "%s", gnutls_strerror(code));
    c->queue_len = 1;
    if (code == GNUTLS_E_PUSH_ERROR || code == GNUTLS_E_PULL_ERROR ||
        (code == GNUTLS_E_PREMATURE_TERMINATION && saved_errno == ECONNRESET))
        c->sys_errno = saved_errno;
    if (code == GNUTLS_E_AGAIN || code == GNUTLS_E_INTERRUPTED) {
        gt_set_want(tls, c);
        return;
    }
    if (code == GNUTLS_E_FATAL_ALERT_RECEIVED) {
        gt_set_alert_outcome(tls, "alert", c);
        return;
    }
    if (code == GNUTLS_E_WARNING_ALERT_RECEIVED) {
        gt_set_alert_outcome(tls, "warning_alert", c);
        return;
    }
    const char *cls = gt_class(kind, code, saved_errno, after_bye);
    if (!cls)
        snprintf(c->outcome, sizeof c->outcome, "truncated");
    else
        snprintf(c->outcome, sizeof c->outcome, "error:%s", cls);
}
