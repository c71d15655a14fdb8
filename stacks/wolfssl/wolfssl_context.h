/* wolfssl_context: the process-wide wolfSSL state of the shim: one
 * WOLFSSL_CTX for every connection, and the session a client offers on its
 * next one.
 *
 * Needs: wolfSSL_Init() done by the caller (once per process).
 * Promises: wf_ctx_init builds a WOLFSSL_CTX that speaks exactly the
 * requested version (wolfTLSv1_2_*_method or wolfTLSv1_3_*_method); a
 * server presents --cert/--key and keeps wolfSSL's default server session
 * cache and ticket key (one WOLFSSL_CTX for all connections, so a `resume`
 * can succeed by session ID or ticket); a client verifies nothing and
 * offers --session-in (the DER form of wolfSSL_i2d_SSL_SESSION) on its
 * first connection. wolfSSL's defaults stay: a TLS 1.2 client asks for no
 * session ticket (wolfSSL_UseSessionTicket is not called), so it resumes by
 * session ID. Returns TC_OK, TC_ERR_UNSUPPORTED (a --cipher wolfSSL
 * does not know: the run is a skip) or TC_ERR_LIBRARY (credentials or a
 * session file that do not load). wf_ctx_free releases everything, also
 * after a failed init.
 * Never: verifies the peer's certificate (closure is under test, not PKI). */
#ifndef TLSCLOSE_WOLFSSL_CONTEXT_H
#define TLSCLOSE_WOLFSSL_CONTEXT_H

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "shim_driver.h"

typedef struct {
    shim_config cfg;
    WOLFSSL_CTX *ctx;
    WOLFSSL_SESSION *saved; /* client: offered by the next connection, or NULL */
} wf_ctx;

int wf_ctx_init(const shim_config *cfg, wf_ctx *x);
void wf_ctx_free(wf_ctx *x);

/* Keeps sess (a reference the caller passes on, may be NULL) as the session
 * to offer next, and writes it to --session-out when given. */
int wf_ctx_save_session(wf_ctx *x, WOLFSSL_SESSION *sess);

#endif
