/* openssl_context: the process-wide OpenSSL state of the shim: one SSL_CTX
 * for every connection, and the session a client offers on its next one.
 *
 * The SSL_CTX accepts exactly the requested version (min = max); a server
 * presents --cert/--key, keeps the default server session cache and, being
 * one SSL_CTX for all connections, the same ticket keys, so a `resume` can
 * succeed by session ID (TLS 1.2) or ticket; a client verifies nothing.
 * SSL_MODE_AUTO_RETRY is off in the nonblocking and memory modes, so that a
 * record without application data (a TLS 1.3 NewSessionTicket, a KeyUpdate)
 * makes SSL_read return WANT_READ there as an event loop sees it; a blocking
 * application keeps OpenSSL's default (on), so a blocking call returns only
 * when its step is done (SSL_shutdown(3): "If the underlying BIO is
 * blocking, SSL_shutdown() will only return once the handshake step has
 * been finished or an error occurred").
 *
 * Returns TC_OK, TC_ERR_UNSUPPORTED (a --cipher this build does not know),
 * TC_ERR_LIBRARY (credentials or sessions that do not load; the message
 * carries OpenSSL's reason). */
#ifndef TLSCLOSE_OPENSSL_CONTEXT_H
#define TLSCLOSE_OPENSSL_CONTEXT_H

#include <openssl/ssl.h>

#include "shim_driver.h"

typedef struct {
    shim_config cfg;
    SSL_CTX *ctx;
    SSL_SESSION *saved; /* client: offered by the next connection, or NULL */
} ossl_ctx;

int ossl_ctx_init(const shim_config *cfg, ossl_ctx *x);
void ossl_ctx_free(ossl_ctx *x);

/* Keeps sess (a reference the caller passes on) as the session to offer
 * next, and writes it to --session-out when given. */
int ossl_ctx_save_session(ossl_ctx *x, SSL_SESSION *sess);

#endif
