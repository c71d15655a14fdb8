/* nss_context: the process-wide NSS state of the shim and the setup of each
 * connection's SSL socket.
 *
 * Needs: nothing initialised: nss_ctx_init initialises NSS itself (the
 * driver's init, never at load time, so a runner that forks before init
 * gets a clean child).
 * Promises: nss_ctx_init opens NSS: a server reads its certificate and key
 * from the NSS database beside --cert (DIR/nssdb for --cert DIR/cert.pem,
 * or $TLSCLOSE_NSS_DB), read-only, and checks that the database's
 * certificate "tlsclose" is the one in --cert (a stale database is an
 * error, never a silent other certificate); it configures NSS's server
 * session-ID cache (SSL_ConfigServerSessionIDCache). A client needs no
 * database (NSS_NoDB_Init) and loads --session-in (a resumption token).
 * nss_ctx_configure sets up one SSL socket for the run's role and version
 * (min = max), session tickets on, --cipher as the only suite; a client
 * accepts any certificate. Returns TC_OK, TC_ERR_UNSUPPORTED (a --cipher
 * NSS does not know for this version: the run is a skip) or
 * TC_ERR_LIBRARY (NSS, the database or a session file failed).
 * nss_ctx_free releases everything and shuts NSS down, also after a failed
 * init.
 * Never: verifies the peer's certificate (closure is under test, not PKI). */
#ifndef TLSCLOSE_NSS_CONTEXT_H
#define TLSCLOSE_NSS_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include <cert.h>
#include <keyhi.h>
#include <prio.h>

#include "shim_driver.h"

/* A resumption token (NSS's external session cache: sslexp.h,
 * SSL_SetResumptionTokenCallback / SSL_SetResumptionToken). */
typedef struct {
    uint8_t *data;
    unsigned len;
} nss_token;

typedef struct {
    shim_config cfg;
    bool nss_up;              /* NSS initialised: NSS_Shutdown owed */
    bool server_cache;        /* SSL_ConfigServerSessionIDCache done */
    CERTCertificate *cert;    /* server */
    SECKEYPrivateKey *key;    /* server */
    PRUint16 cipher;          /* --cipher as NSS's suite id, 0 for NSS's choice */
    nss_token latest;         /* client: the newest token NSS handed out */
} nss_ctx;

int nss_ctx_init(const shim_config *cfg, nss_ctx *x);
void nss_ctx_free(nss_ctx *x);

/* Role, version, options, credentials and cipher of a socket SSL_ImportFD
 * just made. TC_OK or TC_ERR_LIBRARY. */
int nss_ctx_configure(nss_ctx *x, PRFileDesc *ssl);

/* Keeps a copy of a token NSS handed out as the one to offer next. */
int nss_ctx_keep_token(nss_ctx *x, const uint8_t *data, unsigned len);

/* Writes the newest token to --session-out (nothing without one). */
int nss_ctx_write_session(nss_ctx *x);

#endif
