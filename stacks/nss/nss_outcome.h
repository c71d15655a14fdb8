/* nss_outcome: what one NSS call reported, in the shim protocol's two views
 * (docs/shim-protocol.md §3 "native", §5 normalized outcomes).
 *
 * Needs: the call's result captured right after it (return value, whether
 * it succeeded by its own convention, PR_GetError() and PR_GetOSError() of
 * a failed call), the direction NSS would wait for, and the alerts NSS
 * reported sending and receiving during the call (SSL_AlertSentCallback,
 * SSL_AlertReceivedCallback).
 * Promises: fills shim_call. native.error is PR_ErrorToName of a failed
 * call's error (SSL_ERROR_*, SEC_ERROR_*, PR_*_ERROR; "" for a call that
 * succeeded, since NSS sets no error then and PR_GetError would be stale);
 * native.queue lists the alerts of the call as "alert sent|received: LEVEL
 * NAME (N)", then the error's text (PR_ErrorToString); native.errno is
 * PR_GetOSError for NSPR's own (transport) errors, else 0. Classification
 * uses codes, never strings. A PR_Recv that returns 0 is `closed`: NSS
 * returns 0 both after the peer's close_notify and at a transport EOF
 * without one (stacks/nss/README.md), and the outcome says what NSS says.
 * Never fails. */
#ifndef TLSCLOSE_NSS_OUTCOME_H
#define TLSCLOSE_NSS_OUTCOME_H

#include <stdbool.h>

#include <prerror.h>
#include <ssl.h>

#include "shim_driver.h"

typedef enum {
    NSS_CALL_HANDSHAKE, /* SSL_ForceHandshake: SECSuccess or SECFailure */
    NSS_CALL_READ,      /* PR_Recv: > 0 data, 0 end of stream, -1 failed */
    NSS_CALL_WRITE,     /* PR_Send: >= 0 bytes taken, -1 failed */
    NSS_CALL_SHUTDOWN,  /* PR_Shutdown(PR_SHUTDOWN_SEND): PR_SUCCESS or PR_FAILURE */
    NSS_CALL_KEYUPDATE, /* SSL_KeyUpdate: SECSuccess or SECFailure */
} nss_call_kind;

#define NSS_ALERT_LOG_MAX 8

typedef struct {
    bool sent;          /* by us (SSL_AlertSentCallback), else received */
    SSLAlert alert;
} nss_alert_event;

/* The alerts of one call, oldest first; later ones beyond the log's size are
 * counted but not kept. */
typedef struct {
    nss_alert_event ev[NSS_ALERT_LOG_MAX];
    int n;
    int dropped;
} nss_alert_log;

void nss_alert_log_add(nss_alert_log *log, bool sent, const SSLAlert *alert);

/* Whether NSS treats a received alert as fatal: level fatal, and in TLS 1.3
 * every alert but close_notify and user_canceled (ssl3con.c
 * ssl3_HandleAlert, NSS 3.87). */
bool nss_alert_is_fatal(const SSLAlert *alert, int tls_minor);

typedef struct {
    nss_call_kind kind;
    long ret;
    bool ok;               /* success by the call's own convention */
    PRErrorCode error;     /* of a failed call */
    PRInt32 os_error;      /* of a failed call */
    shim_want blocked;     /* the direction NSS waits for, if it would block */
    bool peer_ended;       /* an earlier PR_Recv on this connection returned 0 */
    int fatal_alert;       /* the fatal alert NSS received last, or -1 */
} nss_result;

void nss_capture(const nss_result *r, const nss_alert_log *alerts, shim_call *c);

#endif
