/* boringssl_glue: what the OpenSSL driver (stacks/openssl) needs on
 * BoringSSL that BoringSSL does not offer through the OpenSSL API. Built only
 * into tlsclose-shim-boringssl; the OpenSSL driver includes this header and
 * calls it under #ifdef OPENSSL_IS_BORINGSSL, so the OpenSSL build never sees
 * it.
 *
 * Sessions. A BoringSSL client receives its resumable sessions (each TLS 1.3
 * ticket, and the TLS 1.2 session once the handshake ends) only through the
 * new-session callback: SSL_get_session returns a session that is never
 * resumable in TLS 1.3 (include/openssl/ssl.h, SSL_get_session: "this
 * function will return an unresumable session"). bssl_glue_keep_sessions
 * installs that callback on a client context, with the client session cache
 * mode the callback needs; the newest session is kept on its SSL object
 * (ex_data, released with it). bssl_glue_session returns it, or
 * SSL_get_session's answer when none arrived (borrowed);
 * bssl_glue_get1_session the same as a new reference (or NULL).
 *
 * KeyUpdate. bssl_glue_flush sends what SSL_key_update queued: a zero-length
 * SSL_write (ssl.h, SSL_key_update). It returns 1 when the write returned 0
 * (BoringSSL's success for an empty write) and SSL_write's value otherwise,
 * so the caller's capture sees 1 for success and the failure unchanged.
 *
 * Never fails the shim: a callback that cannot keep a session drops it (the
 * connection then just does not resume). */
#ifndef TLSCLOSE_BORINGSSL_GLUE_H
#define TLSCLOSE_BORINGSSL_GLUE_H

#include <openssl/ssl.h>

#ifndef OPENSSL_IS_BORINGSSL
#error "boringssl_glue is for BoringSSL builds only"
#endif

void bssl_glue_keep_sessions(SSL_CTX *ctx);
SSL_SESSION *bssl_glue_session(SSL *ssl);
SSL_SESSION *bssl_glue_get1_session(SSL *ssl);
int bssl_glue_flush(SSL *ssl);

#endif
