#include "nss_context.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <secitem.h>
#include <ssl.h>
#include <sslexp.h>
#include <sslproto.h>

#include "tc_err.h"

/* The nickname pk12util gives the imported pair (stacks/nss/CMakeLists.txt). */
#define NSSDB_NICKNAME "tlsclose"
/* PEM certificates and session tokens are small; anything larger is not
 * one of ours. */
#define SMALL_FILE_MAX 65536

static int nss_error(const char *what)
{
    PRErrorCode code = PR_GetError();
    const char *name = PR_ErrorToName(code);
    return tc_err_set(TC_ERR_LIBRARY, "%s: %s (%s)", what,
                      PR_ErrorToString(code, PR_LANGUAGE_I_DEFAULT), name ? name : "?");
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tc_err_set(TC_ERR_LIBRARY, "%s: cannot open", path);
    uint8_t *buf = malloc(SMALL_FILE_MAX);
    size_t n = buf ? fread(buf, 1, SMALL_FILE_MAX, f) : 0;
    int bad = !buf || ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        free(buf);
        return tc_err_set(TC_ERR_LIBRARY, "%s: cannot read (or larger than %d bytes)", path,
                          SMALL_FILE_MAX);
    }
    *data = buf;
    *len = n;
    return TC_OK;
}

/* ---- the database and the server's credentials --------------------------- */

/* $TLSCLOSE_NSS_DB, else the directory "nssdb" beside --cert. */
static int database_dir(const char *cert, char *dir, size_t cap)
{
    const char *env = getenv("TLSCLOSE_NSS_DB");
    int n;
    if (env && env[0])
        n = snprintf(dir, cap, "%s", env);
    else {
        const char *slash = strrchr(cert, '/');
        int dirlen = slash ? (int)(slash - cert) : 1;
        n = snprintf(dir, cap, "%.*s/nssdb", dirlen, slash ? cert : ".");
    }
    if (n < 0 || (size_t)n >= cap)
        return tc_err_set(TC_ERR_USAGE, "%s: path too long for the NSS database", cert);
    return TC_OK;
}

/* The database must hold the very certificate the harness gave: a database
 * left from older credentials would present another one. */
static int check_same_cert(const char *path, CERTCertificate *db_cert, const char *dir)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    int rc = read_file(path, &pem, &len);
    if (rc < 0)
        return rc;
    CERTCertificate *given = CERT_DecodeCertFromPackage((char *)pem, (int)len);
    free(pem);
    if (!given)
        return nss_error(path);
    bool same = SECITEM_ItemsAreEqual(&given->derCert, &db_cert->derCert);
    CERT_DestroyCertificate(given);
    if (!same)
        return tc_err_set(TC_ERR_LIBRARY,
                          "%s: the certificate \"%s\" is not the one in %s (rebuild the "
                          "NSS database from the current credentials)",
                          dir, NSSDB_NICKNAME, path);
    return TC_OK;
}

static int open_server_database(nss_ctx *x)
{
    char dir[PATH_MAX], config[PATH_MAX + 8];
    int rc = database_dir(x->cfg.cert, dir, sizeof dir);
    if (rc < 0)
        return rc;
    snprintf(config, sizeof config, "sql:%s", dir);
    if (NSS_Initialize(config, "", "", SECMOD_DB, NSS_INIT_READONLY | NSS_INIT_NOROOTINIT) !=
        SECSuccess)
        return nss_error(config);
    x->nss_up = true;
    x->cert = PK11_FindCertFromNickname(NSSDB_NICKNAME, NULL);
    if (!x->cert)
        return nss_error(dir);
    x->key = PK11_FindKeyByAnyCert(x->cert, NULL);
    if (!x->key)
        return nss_error("the private key of " NSSDB_NICKNAME);
    rc = check_same_cert(x->cfg.cert, x->cert, dir);
    if (rc < 0)
        return rc;
    /* Defaults: 10000 entries, 24 h lifetimes; in-process (no shared
     * memory between processes is configured). */
    if (SSL_ConfigServerSessionIDCache(0, 0, 0, NULL) != SECSuccess)
        return nss_error("SSL_ConfigServerSessionIDCache");
    x->server_cache = true;
    return TC_OK;
}

/* ---- --cipher -------------------------------------------------------------- */

/* OpenSSL's names of the TLS 1.2 suites the mock peer speaks; TLS 1.3 names
 * are the IANA ones everywhere. */
static const struct {
    const char *openssl;
    const char *iana;
} OPENSSL_NAMES[] = {
    {"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {"ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {"ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
};

static const char *iana_name(const char *name)
{
    for (size_t i = 0; i < sizeof OPENSSL_NAMES / sizeof OPENSSL_NAMES[0]; i++)
        if (strcmp(name, OPENSSL_NAMES[i].openssl) == 0)
            return OPENSSL_NAMES[i].iana;
    return name;
}

/* NSS names its suites by their IANA names (SSLCipherSuiteInfo); a TLS 1.3
 * suite has the key exchange ssl_kea_tls13_any and fits no other version. */
static int pick_cipher(nss_ctx *x)
{
    const char *want = iana_name(x->cfg.cipher);
    for (PRUint16 i = 0; i < SSL_NumImplementedCiphers; i++) {
        SSLCipherSuiteInfo info;
        if (SSL_GetCipherSuiteInfo(SSL_ImplementedCiphers[i], &info, sizeof info) != SECSuccess ||
            strcmp(info.cipherSuiteName, want) != 0)
            continue;
        bool tls13_suite = info.keaType == ssl_kea_tls13_any;
        if (tls13_suite == (x->cfg.tls_minor == 3)) {
            x->cipher = info.cipherSuite;
            return TC_OK;
        }
    }
    return tc_err_set(TC_ERR_UNSUPPORTED, "cipher %s: not known to NSS %s for TLS 1.%d",
                      x->cfg.cipher, NSS_GetVersion(), x->cfg.tls_minor);
}

/* ---- sessions ------------------------------------------------------------- */

int nss_ctx_keep_token(nss_ctx *x, const uint8_t *data, unsigned len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    memcpy(copy, data, len);
    free(x->latest.data);
    x->latest.data = copy;
    x->latest.len = len;
    return TC_OK;
}

/* A file that is no token NSS can read is an error (exit 4); a token NSS
 * reads but refuses to offer is the connection's business (it does not
 * resume). */
static int load_session(nss_ctx *x)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = read_file(x->cfg.session_in, &data, &len);
    if (rc < 0)
        return rc;
    SSLResumptionTokenInfo info;
    if (len == 0 ||
        SSL_GetResumptionTokenInfo(data, (unsigned)len, &info, sizeof info) != SECSuccess)
        rc = nss_error(x->cfg.session_in);
    else {
        SSL_DestroyResumptionTokenInfo(&info);
        rc = nss_ctx_keep_token(x, data, (unsigned)len);
    }
    free(data);
    return rc;
}

int nss_ctx_write_session(nss_ctx *x)
{
    if (!x->cfg.session_out || !x->latest.data)
        return TC_OK;
    FILE *f = fopen(x->cfg.session_out, "wb");
    if (!f)
        return tc_err_set(TC_ERR_SYS, "%s: cannot create", x->cfg.session_out);
    bool bad = fwrite(x->latest.data, 1, x->latest.len, f) != x->latest.len;
    bad = fclose(f) != 0 || bad;
    return bad ? tc_err_set(TC_ERR_SYS, "%s: cannot write the session", x->cfg.session_out)
               : TC_OK;
}

/* ---- the context ------------------------------------------------------------ */

int nss_ctx_init(const shim_config *cfg, nss_ctx *x)
{
    memset(x, 0, sizeof *x);
    x->cfg = *cfg;
    int rc = TC_OK;
    if (cfg->server)
        rc = open_server_database(x);
    else if (NSS_NoDB_Init(NULL) != SECSuccess)
        rc = nss_error("NSS_NoDB_Init");
    else
        x->nss_up = true;
    if (rc == TC_OK && NSS_SetDomesticPolicy() != SECSuccess)
        rc = nss_error("NSS_SetDomesticPolicy");
    if (rc == TC_OK && cfg->cipher)
        rc = pick_cipher(x);
    if (rc == TC_OK && !cfg->server && cfg->session_in)
        rc = load_session(x);
    return rc;
}

void nss_ctx_free(nss_ctx *x)
{
    free(x->latest.data);
    if (x->key)
        SECKEY_DestroyPrivateKey(x->key);
    if (x->cert)
        CERT_DestroyCertificate(x->cert);
    if (x->server_cache)
        SSL_ShutdownServerSessionIDCache();
    if (x->nss_up && NSS_Shutdown() != SECSuccess)
        fprintf(stderr, "nss shim: NSS_Shutdown: %s\n", PR_ErrorToName(PR_GetError()));
    memset(x, 0, sizeof *x);
}

/* ---- one socket ----------------------------------------------------------- */

/* Closure is under test, not PKI: every server certificate is accepted. */
static SECStatus accept_any_certificate(void *arg, PRFileDesc *fd, PRBool check_sig,
                                        PRBool is_server)
{
    (void)arg;
    (void)fd;
    (void)check_sig;
    (void)is_server;
    return SECSuccess;
}

static int set_cipher(nss_ctx *x, PRFileDesc *ssl)
{
    for (PRUint16 i = 0; i < SSL_NumImplementedCiphers; i++) {
        PRUint16 id = SSL_ImplementedCiphers[i];
        if (SSL_CipherPrefSet(ssl, id, id == x->cipher) != SECSuccess)
            return nss_error("SSL_CipherPrefSet");
    }
    return TC_OK;
}

static int set_role(nss_ctx *x, PRFileDesc *ssl)
{
    if (x->cfg.server) {
        if (SSL_ConfigServerCert(ssl, x->cert, x->key, NULL, 0) != SECSuccess)
            return nss_error("SSL_ConfigServerCert");
        return TC_OK;
    }
    /* SSL_SetURL names the server (SNI, and the key of NSS's own client
     * session cache, which the shim replaces by resumption tokens). */
    if (SSL_AuthCertificateHook(ssl, accept_any_certificate, NULL) != SECSuccess ||
        SSL_SetURL(ssl, "localhost") != SECSuccess)
        return nss_error("client setup");
    return TC_OK;
}

int nss_ctx_configure(nss_ctx *x, PRFileDesc *ssl)
{
    PRUint16 v = x->cfg.tls_minor == 3 ? SSL_LIBRARY_VERSION_TLS_1_3
                                       : SSL_LIBRARY_VERSION_TLS_1_2;
    SSLVersionRange range = {v, v};
    if (SSL_OptionSet(ssl, SSL_SECURITY, PR_TRUE) != SECSuccess ||
        SSL_OptionSet(ssl, SSL_HANDSHAKE_AS_SERVER, x->cfg.server) != SECSuccess ||
        SSL_OptionSet(ssl, SSL_HANDSHAKE_AS_CLIENT, !x->cfg.server) != SECSuccess ||
        SSL_OptionSet(ssl, SSL_ENABLE_SESSION_TICKETS, PR_TRUE) != SECSuccess ||
        SSL_VersionRangeSet(ssl, &range) != SECSuccess)
        return nss_error("SSL_OptionSet / SSL_VersionRangeSet");
    int rc = x->cipher ? set_cipher(x, ssl) : TC_OK;
    return rc == TC_OK ? set_role(x, ssl) : rc;
}
