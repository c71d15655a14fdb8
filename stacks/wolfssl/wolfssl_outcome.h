/* wolfssl_outcome: what one wolfSSL call reported, in the shim protocol's
 * two views (docs/shim-protocol.md §3 "native", §5 normalized outcomes).
 *
 * Needs: the WOLFSSL object, the call's return value and errno saved right
 * after the call, with wolfSSL's error queue as the call left it (cleared
 * before the call).
 * Promises: fills shim_call: native.error is the name of what
 * wolfSSL_get_error(ssl, ret) answers (asked only where the OpenSSL
 * contract gives it meaning: ret <= 0, or ret < 0 for wolfSSL_shutdown):
 * "SSL_ERROR_*" for the OpenSSL-compatible values, wolfSSL's own enum name
 * ("SOCKET_PEER_CLOSED_E") for the negative codes it passes through
 * unconverted; native.queue is wolfSSL's error queue (emptied) as
 * "wolfSSL: reason (code)" strings, a received alert (queued by wolfSSL as
 * its description number) as "wolfSSL: alert received: NAME (N), level L",
 * which is also added when the error is a received fatal alert; errno for
 * socket errors; the want; the normalized outcome. Classification uses
 * codes, never strings. Never fails. */
#ifndef TLSCLOSE_WOLFSSL_OUTCOME_H
#define TLSCLOSE_WOLFSSL_OUTCOME_H

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "shim_driver.h"

typedef enum {
    WF_CALL_HANDSHAKE, /* wolfSSL_negotiate: 1 on success */
    WF_CALL_READ,
    WF_CALL_WRITE,
    WF_CALL_SHUTDOWN,  /* 1 complete, 0 sent (WOLFSSL_SHUTDOWN_NOT_DONE), < 0 error */
} wf_call_kind;

void wf_capture(WOLFSSL *ssl, int ret, int saved_errno, wf_call_kind kind, shim_call *c);

/* A call that returns its error code itself instead of leaving it for
 * wolfSSL_get_error (wolfSSL_update_keys): code is WOLFSSL_SUCCESS,
 * WOLFSSL_ERROR_WANT_WRITE or a negative wolfSSL code. */
void wf_capture_code(WOLFSSL *ssl, int code, int saved_errno, shim_call *c);

/* The name of a wolfSSL_get_error answer ("SSL_ERROR_ZERO_RETURN",
 * "SOCKET_PEER_CLOSED_E", "wolfSSL error -N" for a code without a name
 * here). */
const char *wf_error_name(int err, char *buf, size_t cap);

/* The outcome for get_error_after: the name in lower case without the
 * "SSL_ERROR_" prefix ("none", "zero_return", "syscall", ...; wolfSSL's
 * own codes as "socket_peer_closed_e"). */
void wf_error_outcome(int err, char *out, size_t cap);

#endif
