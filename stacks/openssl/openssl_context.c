#include "openssl_context.h"
#include "openssl_creds.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "tc_err.h"

#ifdef OPENSSL_IS_BORINGSSL
#include "boringssl_glue.h" /* stacks/boringssl: sessions come from a callback */
#endif

#if OPENSSL_VERSION_NUMBER < 0x30000000L && !defined(OPENSSL_IS_BORINGSSL)
/* OpenSSL 1.1.1 (cmake/openssl_roots.cmake): OPENSSL_VERSION_STR is 3.0's;
 * 1.1.1's version text serves the messages as well. */
#define OPENSSL_VERSION_STR OPENSSL_VERSION_TEXT
#endif

/* The oldest queued error, for messages about setup failures. */
static int library_error(const char *what)
{
    unsigned long e = ERR_get_error();
    char text[256] = "failed";
    if (e)
        ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    return tc_err_set(TC_ERR_LIBRARY, "%s: %s", what, text);
}

/* --cipher takes IANA names ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") as
 * well as OpenSSL's ("ECDHE-ECDSA-AES128-GCM-SHA256"); TLS 1.2 cipher lists
 * only know the latter. */
static const char *openssl_cipher_name(SSL_CTX *ctx, const char *name)
{
    STACK_OF(SSL_CIPHER) *all = SSL_CTX_get_ciphers(ctx);
    for (int i = 0; i < (int)sk_SSL_CIPHER_num(all); i++) { /* BoringSSL: a size_t */
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, i);
        const char *std = SSL_CIPHER_standard_name(c);
        if (std && strcmp(std, name) == 0)
            return SSL_CIPHER_get_name(c);
    }
    return name;
}

static int set_cipher(ossl_ctx *x)
{
    const char *name = x->cfg.cipher;
#ifdef OPENSSL_IS_BORINGSSL
    /* BoringSSL always enables its three TLS 1.3 suites and has no
     * SSL_CTX_set_ciphersuites to restrict them. */
    if (x->cfg.tls_minor == 3)
        return tc_err_set(TC_ERR_UNSUPPORTED, "cipher %s: BoringSSL cannot restrict the TLS 1.3 "
                          "cipher suites", name);
#define SSL_CTX_set_ciphersuites(ctx, list) 0
#define OPENSSL_VERSION_STR "(BoringSSL)"
#endif
    int ok = x->cfg.tls_minor == 3
                 ? SSL_CTX_set_ciphersuites(x->ctx, name)
                 : SSL_CTX_set_cipher_list(x->ctx, openssl_cipher_name(x->ctx, name));
    if (!ok) {
        ERR_clear_error();
        return tc_err_set(TC_ERR_UNSUPPORTED, "cipher %s: not known to OpenSSL %s for TLS 1.%d",
                          name, OPENSSL_VERSION_STR, x->cfg.tls_minor);
    }
    return TC_OK;
}

static int set_server_credentials(ossl_ctx *x)
{
    static const unsigned char sid_ctx[] = "tlsclose";
    if (openssl_creds_use_chain(x->ctx, x->cfg.cert) != 1)
        return library_error(x->cfg.cert);
    if (openssl_creds_use_key(x->ctx, x->cfg.key) != 1)
        return library_error(x->cfg.key);
    if (SSL_CTX_check_private_key(x->ctx) != 1)
        return library_error("certificate and key do not match");
    if (SSL_CTX_set_session_id_context(x->ctx, sid_ctx, sizeof sid_ctx - 1) != 1)
        return library_error("session id context");
    return TC_OK;
}

static int load_session(ossl_ctx *x)
{
    FILE *f = fopen(x->cfg.session_in, "r");
    if (!f)
        return tc_err_set(TC_ERR_LIBRARY, "%s: cannot open", x->cfg.session_in);
    x->saved = PEM_read_SSL_SESSION(f, NULL, NULL, NULL);
    fclose(f);
    return x->saved ? TC_OK : library_error(x->cfg.session_in);
}

static int configure(ossl_ctx *x)
{
    int v = x->cfg.tls_minor == 2 ? TLS1_2_VERSION : TLS1_3_VERSION;
    if (SSL_CTX_set_min_proto_version(x->ctx, v) != 1 ||
        SSL_CTX_set_max_proto_version(x->ctx, v) != 1)
        return library_error("protocol version");
    if (x->cfg.io != SHIM_IO_BLOCKING)
        SSL_CTX_clear_mode(x->ctx, SSL_MODE_AUTO_RETRY);
    if (x->cfg.cipher) {
        int rc = set_cipher(x);
        if (rc < 0)
            return rc;
    }
    if (x->cfg.server)
        return set_server_credentials(x);
#ifdef OPENSSL_IS_BORINGSSL
    bssl_glue_keep_sessions(x->ctx);
#endif
    SSL_CTX_set_verify(x->ctx, SSL_VERIFY_NONE, NULL);
    return x->cfg.session_in ? load_session(x) : TC_OK;
}

int ossl_ctx_init(const shim_config *cfg, ossl_ctx *x)
{
    memset(x, 0, sizeof *x);
    x->cfg = *cfg;
    x->ctx = SSL_CTX_new(TLS_method());
    if (!x->ctx)
        return library_error("SSL_CTX_new");
    return configure(x);
}

void ossl_ctx_free(ossl_ctx *x)
{
    SSL_SESSION_free(x->saved);
    SSL_CTX_free(x->ctx);
    memset(x, 0, sizeof *x);
}

int ossl_ctx_save_session(ossl_ctx *x, SSL_SESSION *sess)
{
    SSL_SESSION_free(x->saved);
    x->saved = sess;
    if (!x->cfg.session_out || !sess)
        return TC_OK;
    FILE *f = fopen(x->cfg.session_out, "w");
    if (!f)
        return tc_err_set(TC_ERR_SYS, "%s: cannot create", x->cfg.session_out);
    int ok = PEM_write_SSL_SESSION(f, sess);
    if (fclose(f) != 0 || !ok)
        return tc_err_set(TC_ERR_SYS, "%s: cannot write the session", x->cfg.session_out);
    return TC_OK;
}
