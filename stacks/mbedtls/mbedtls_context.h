/* mbedtls_context: what the mbedTLS shim sets up once per process: the
 * random generator, one mbedtls_ssl_config (TLS 1.2 only), the server's
 * certificate and key and its session cache, the client's saved session.
 *
 * Needs: a shim_config with tls_minor 2 (mbedTLS 2.28 has no TLS 1.3).
 * Promises: mb_ctx_init returns TC_OK with a ready config, or
 * TC_ERR_UNSUPPORTED (TLS 1.3, a cipher the shim does not know: the run
 * is a skip), TC_ERR_USAGE (a --session-in file mbedTLS cannot load) or
 * TC_ERR_LIBRARY (credentials, random generator). mb_ctx_free releases
 * everything, also after a failed init.
 * Never: verifies the peer's certificate (closure is under test, not PKI). */
#ifndef TLSCLOSE_MBEDTLS_CONTEXT_H
#define TLSCLOSE_MBEDTLS_CONTEXT_H

#include <stdbool.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/x509_crt.h>

#include "shim_driver.h"

typedef struct {
    shim_config cfg;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert;        /* server */
    mbedtls_pk_context key;       /* server */
    mbedtls_ssl_cache_context cache; /* server: TLS 1.2 session IDs */
    int suites[2];                /* --cipher: one suite id and 0 */
    mbedtls_ssl_session saved;    /* client: the session a `resume` offers */
    bool have_saved;
    unsigned char prev_master[48]; /* the previous connection's master secret */
    bool have_prev_master;
} mb_ctx;

int mb_ctx_init(mb_ctx *x, const shim_config *cfg);
void mb_ctx_free(mb_ctx *x);

/* Client: keeps a copy of the session of ssl for the next connection and
 * writes it to --session-out when given. The library refusing to copy is
 * its answer (nothing will be offered), not a failure: TC_OK then. */
int mb_ctx_save_session(mb_ctx *x, const mbedtls_ssl_context *ssl);

/* Records the master secret of the session of ssl (both roles), which a
 * resumed next connection shares. */
void mb_ctx_note_master(mb_ctx *x, const mbedtls_ssl_context *ssl);

/* Server: does the session cache hold the session of ssl? */
bool mb_ctx_cache_holds(mb_ctx *x, const mbedtls_ssl_context *ssl);

#endif
