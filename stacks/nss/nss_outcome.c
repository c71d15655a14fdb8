#include "nss_outcome.h"

#include <stdio.h>
#include <string.h>

#include <prerr.h>
#include <secerr.h>
#include <sslerr.h>

#include "tls_names.h"

enum { LEVEL_WARNING = 1, LEVEL_FATAL = 2, CLOSE_NOTIFY = 0, USER_CANCELED = 90 };

void nss_alert_log_add(nss_alert_log *log, bool sent, const SSLAlert *alert)
{
    if (log->n == NSS_ALERT_LOG_MAX) {
        log->dropped++;
        return;
    }
    log->ev[log->n].sent = sent;
    log->ev[log->n].alert = *alert;
    log->n++;
}

bool nss_alert_is_fatal(const SSLAlert *alert, int tls_minor)
{
    if (alert->level == LEVEL_FATAL)
        return true;
    return tls_minor == 3 && alert->description != CLOSE_NOTIFY &&
           alert->description != USER_CANCELED;
}

/* ---- error classes ---------------------------------------------------- */

static bool listed(PRErrorCode code, const PRErrorCode *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == code)
            return true;
    return false;
}

#define LISTED(code, list) listed((code), (list), sizeof(list) / sizeof((list)[0]))

/* The codes ssl3_HandleAlert (ssl3con.c) gives a received fatal alert. */
static const PRErrorCode ALERT_RECEIVED[] = {
    SSL_ERROR_CLOSE_NOTIFY_ALERT, SSL_ERROR_HANDSHAKE_UNEXPECTED_ALERT,
    SSL_ERROR_BAD_MAC_ALERT, SSL_ERROR_DECRYPTION_FAILED_ALERT,
    SSL_ERROR_RECORD_OVERFLOW_ALERT, SSL_ERROR_DECOMPRESSION_FAILURE_ALERT,
    SSL_ERROR_HANDSHAKE_FAILURE_ALERT, SSL_ERROR_NO_CERTIFICATE,
    SSL_ERROR_RX_CERTIFICATE_REQUIRED_ALERT, SSL_ERROR_BAD_CERT_ALERT,
    SSL_ERROR_UNSUPPORTED_CERT_ALERT, SSL_ERROR_REVOKED_CERT_ALERT,
    SSL_ERROR_EXPIRED_CERT_ALERT, SSL_ERROR_CERTIFICATE_UNKNOWN_ALERT,
    SSL_ERROR_ILLEGAL_PARAMETER_ALERT, SSL_ERROR_INAPPROPRIATE_FALLBACK_ALERT,
    SSL_ERROR_UNKNOWN_CA_ALERT, SSL_ERROR_ACCESS_DENIED_ALERT, SSL_ERROR_DECODE_ERROR_ALERT,
    SSL_ERROR_DECRYPT_ERROR_ALERT, SSL_ERROR_EXPORT_RESTRICTION_ALERT,
    SSL_ERROR_PROTOCOL_VERSION_ALERT, SSL_ERROR_INSUFFICIENT_SECURITY_ALERT,
    SSL_ERROR_INTERNAL_ERROR_ALERT, SSL_ERROR_USER_CANCELED_ALERT,
    SSL_ERROR_NO_RENEGOTIATION_ALERT, SSL_ERROR_MISSING_EXTENSION_ALERT,
    SSL_ERROR_UNSUPPORTED_EXTENSION_ALERT, SSL_ERROR_CERTIFICATE_UNOBTAINABLE_ALERT,
    SSL_ERROR_UNRECOGNIZED_NAME_ALERT, SSL_ERROR_BAD_CERT_STATUS_RESPONSE_ALERT,
    SSL_ERROR_BAD_CERT_HASH_VALUE_ALERT, SSL_ERROR_NEXT_PROTOCOL_NO_PROTOCOL,
    SSL_ERROR_ECH_REQUIRED_ALERT, SSL_ERROR_RX_UNKNOWN_ALERT, SSL_ERROR_NO_CYPHER_OVERLAP,
};

/* Records and alerts that do not parse or authenticate. */
static const PRErrorCode DECODE[] = {
    SSL_ERROR_RX_MALFORMED_ALERT, SSL_ERROR_RX_MALFORMED_APPLICATION_DATA,
    SSL_ERROR_RX_MALFORMED_HANDSHAKE, SSL_ERROR_RX_MALFORMED_CHANGE_CIPHER,
    SSL_ERROR_RX_MALFORMED_NEW_SESSION_TICKET, SSL_ERROR_RX_MALFORMED_KEY_UPDATE,
    SSL_ERROR_RX_UNKNOWN_RECORD_TYPE, SSL_ERROR_RX_RECORD_TOO_LONG, SSL_ERROR_BAD_MAC_READ,
    SSL_ERROR_DECRYPTION_FAILURE, SSL_ERROR_BAD_BLOCK_PADDING,
    SSL_ERROR_RX_UNKNOWN_HANDSHAKE,
};

/* The transport was reset: NSPR maps ECONNRESET and EPIPE to
 * PR_CONNECT_RESET_ERROR (unix_errors.c). */
static const PRErrorCode RESET[] = {
    PR_CONNECT_RESET_ERROR, PR_CONNECT_ABORTED_ERROR,
};

static bool nspr_error(PRErrorCode code)
{
    return code >= PR_NSPR_ERROR_BASE && code < PR_MAX_ERROR;
}

static void failure_outcome(const nss_result *r, char *out, size_t cap)
{
    PRErrorCode e = r->error;
    char name[32];
    if (LISTED(e, ALERT_RECEIVED) && r->fatal_alert >= 0)
        snprintf(out, cap, "error:alert:%s",
                 tls_alert_outcome_name(r->fatal_alert, name, sizeof name));
    else if (LISTED(e, RESET))
        snprintf(out, cap, "error:reset");
    else if (e == PR_END_OF_FILE_ERROR)
        snprintf(out, cap, r->kind == NSS_CALL_READ ? "truncated" : "error:unexpected_eof");
    else if (e == PR_SOCKET_SHUTDOWN_ERROR)
        snprintf(out, cap, "error:shut_down");
    else if (LISTED(e, DECODE))
        snprintf(out, cap, "error:decode");
    else if (IS_SSL_ERROR(e))
        snprintf(out, cap, "error:protocol");
    else
        snprintf(out, cap, "error:other");
}

static void success_outcome(const nss_result *r, char *out, size_t cap)
{
    switch (r->kind) {
    case NSS_CALL_READ:
        if (r->ret > 0)
            snprintf(out, cap, "data:%ld", r->ret);
        else
            snprintf(out, cap, "closed");
        return;
    case NSS_CALL_WRITE: snprintf(out, cap, "ok:%ld", r->ret); return;
    case NSS_CALL_SHUTDOWN: snprintf(out, cap, r->peer_ended ? "complete" : "sent"); return;
    default: snprintf(out, cap, "ok"); return;
    }
}

/* ---- the native view -------------------------------------------------- */

static void add_queue(shim_call *c, const char *text)
{
    if (c->queue_len < SHIM_MAX_QUEUE)
        snprintf(c->queue[c->queue_len++], sizeof c->queue[0], "%s", text);
}

static void queue_alerts(const nss_alert_log *log, int room, shim_call *c)
{
    int first = log->n > room ? log->n - room : 0; /* the latest ones */
    for (int i = first; i < log->n; i++) {
        const nss_alert_event *ev = &log->ev[i];
        const char *level = tls_alert_level_name(ev->alert.level);
        const char *name = tls_alert_name(ev->alert.description);
        char line[96];
        snprintf(line, sizeof line, "alert %s: %s %s (%d)", ev->sent ? "sent" : "received",
                 level ? level : "unknown_level", name ? name : "unknown",
                 ev->alert.description);
        add_queue(c, line);
    }
}

static void native_error(const nss_result *r, shim_call *c)
{
    const char *name = PR_ErrorToName(r->error);
    if (name)
        snprintf(c->error, sizeof c->error, "%s", name);
    else
        snprintf(c->error, sizeof c->error, "NSS error %d", (int)r->error);
    char text[160];
    snprintf(text, sizeof text, "NSS: %s", PR_ErrorToString(r->error, PR_LANGUAGE_I_DEFAULT));
    add_queue(c, text);
    c->sys_errno = nspr_error(r->error) ? r->os_error : 0;
}

void nss_capture(const nss_result *r, const nss_alert_log *alerts, shim_call *c)
{
    c->ret = r->ret;
    queue_alerts(alerts, r->ok ? SHIM_MAX_QUEUE : SHIM_MAX_QUEUE - 1, c);
    if (r->ok) {
        if (r->kind == NSS_CALL_READ || r->kind == NSS_CALL_WRITE)
            c->bytes = (size_t)r->ret;
        success_outcome(r, c->outcome, sizeof c->outcome);
        return;
    }
    native_error(r, c);
    if (r->error == PR_WOULD_BLOCK_ERROR || r->error == PR_IO_TIMEOUT_ERROR) {
        c->want = r->blocked; /* the runner writes want_read / want_write */
        return;
    }
    failure_outcome(r, c->outcome, sizeof c->outcome);
}
