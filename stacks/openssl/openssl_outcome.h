/* openssl_outcome: what one OpenSSL call reported, in the shim protocol's
 * two views (docs/shim-protocol.md §3 "native", §5 normalized outcomes).
 *
 * Needs: the SSL object, the call's return value and errno saved right after
 * the call, with the error queue as the call left it (cleared before the
 * call). Fills shim_call: SSL_get_error's name (only where the manual makes
 * it meaningful: ret <= 0, or ret < 0 for SSL_shutdown), the whole error
 * queue as "library: reason" strings (the queue is emptied), errno for
 * SSL_ERROR_SYSCALL, the want, and the normalized outcome. Classification
 * uses reason codes, never the strings. Never fails. */
#ifndef TLSCLOSE_OPENSSL_OUTCOME_H
#define TLSCLOSE_OPENSSL_OUTCOME_H

#include <openssl/ssl.h>

#include "shim_driver.h"

typedef enum {
    OSSL_CALL_HANDSHAKE, /* SSL_do_handshake, also for a key update */
    OSSL_CALL_READ,
    OSSL_CALL_WRITE,
    OSSL_CALL_SHUTDOWN,
    OSSL_CALL_OTHER,     /* a call that returns 1 on success, 0 on failure */
} ossl_call_kind;

void ossl_capture(SSL *ssl, int ret, int saved_errno, ossl_call_kind kind, shim_call *c);

/* "SSL_ERROR_ZERO_RETURN" for SSL_ERROR_ZERO_RETURN, "SSL_ERROR_12" for a
 * code this build does not know. */
const char *ossl_error_name(int err, char *buf, size_t cap);

/* The outcome for get_error_after: the name in lower case without the
 * "SSL_ERROR_" prefix ("none", "zero_return", "syscall", ...). */
void ossl_error_outcome(int err, char *out, size_t cap);

#endif
