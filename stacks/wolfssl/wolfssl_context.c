#include "wolfssl_context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc_err.h"

/* Session files are small (a ticket, a secret, an ID); anything larger is
 * not one of ours. */
#define SESSION_FILE_MAX 65536

static int library_error(const char *what, int code)
{
    return tc_err_set(TC_ERR_LIBRARY, "%s: %s (%d)", what,
                      wolfSSL_ERR_reason_error_string((unsigned long)code), code);
}

static WOLFSSL_METHOD *pick_method(const shim_config *cfg)
{
    if (cfg->tls_minor == 2)
        return cfg->server ? wolfTLSv1_2_server_method() : wolfTLSv1_2_client_method();
    return cfg->server ? wolfTLSv1_3_server_method() : wolfTLSv1_3_client_method();
}

/* wolfSSL's cipher list takes its own names and the IANA ones
 * (SetCipherList compares both), so --cipher is passed on unchanged. */
static int set_cipher(wf_ctx *x)
{
    if (wolfSSL_CTX_set_cipher_list(x->ctx, x->cfg.cipher) != WOLFSSL_SUCCESS)
        return tc_err_set(TC_ERR_UNSUPPORTED, "cipher %s: not known to wolfSSL %s for TLS 1.%d",
                          x->cfg.cipher, wolfSSL_lib_version(), x->cfg.tls_minor);
    return TC_OK;
}

static int set_server_credentials(wf_ctx *x)
{
    int rc = wolfSSL_CTX_use_certificate_chain_file(x->ctx, x->cfg.cert);
    if (rc != WOLFSSL_SUCCESS)
        return library_error(x->cfg.cert, rc);
    rc = wolfSSL_CTX_use_PrivateKey_file(x->ctx, x->cfg.key, WOLFSSL_FILETYPE_PEM);
    if (rc != WOLFSSL_SUCCESS)
        return library_error(x->cfg.key, rc);
    return TC_OK;
}

static int read_file(const char *path, unsigned char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tc_err_set(TC_ERR_LIBRARY, "%s: cannot open", path);
    *len = fread(buf, 1, cap, f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    if (bad)
        return tc_err_set(TC_ERR_LIBRARY, "%s: cannot read (or larger than %zu bytes)", path, cap);
    return TC_OK;
}

static int load_session(wf_ctx *x)
{
    unsigned char *buf = malloc(SESSION_FILE_MAX);
    if (!buf)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    size_t len = 0;
    int rc = read_file(x->cfg.session_in, buf, SESSION_FILE_MAX, &len);
    if (rc == TC_OK) {
        const unsigned char *p = buf;
        x->saved = wolfSSL_d2i_SSL_SESSION(NULL, &p, (long)len);
        if (!x->saved)
            rc = tc_err_set(TC_ERR_LIBRARY, "%s: wolfSSL_d2i_SSL_SESSION refused it",
                            x->cfg.session_in);
    }
    free(buf);
    return rc;
}

static int configure(wf_ctx *x)
{
    if (x->cfg.cipher) {
        int rc = set_cipher(x);
        if (rc < 0)
            return rc;
    }
    if (x->cfg.server)
        return set_server_credentials(x);
    wolfSSL_CTX_set_verify(x->ctx, WOLFSSL_VERIFY_NONE, NULL);
    return x->cfg.session_in ? load_session(x) : TC_OK;
}

int wf_ctx_init(const shim_config *cfg, wf_ctx *x)
{
    memset(x, 0, sizeof *x);
    x->cfg = *cfg;
    WOLFSSL_METHOD *method = pick_method(cfg);
    if (!method)
        return tc_err_set(TC_ERR_SYS, "out of memory (wolfSSL method)");
    x->ctx = wolfSSL_CTX_new(method); /* takes the method */
    if (!x->ctx)
        return tc_err_set(TC_ERR_LIBRARY, "wolfSSL_CTX_new failed");
    return configure(x);
}

void wf_ctx_free(wf_ctx *x)
{
    if (x->saved)
        wolfSSL_SESSION_free(x->saved);
    if (x->ctx)
        wolfSSL_CTX_free(x->ctx);
    memset(x, 0, sizeof *x);
}

static int write_session(const char *path, WOLFSSL_SESSION *sess)
{
    int len = wolfSSL_i2d_SSL_SESSION(sess, NULL);
    if (len <= 0)
        return tc_err_set(TC_ERR_LIBRARY, "wolfSSL_i2d_SSL_SESSION: %d", len);
    unsigned char *buf = malloc((size_t)len);
    if (!buf)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    unsigned char *p = buf; /* filled in place: wolfSSL does not move p */
    int rc = TC_OK;
    FILE *f = NULL;
    if (wolfSSL_i2d_SSL_SESSION(sess, &p) != len)
        rc = tc_err_set(TC_ERR_LIBRARY, "wolfSSL_i2d_SSL_SESSION changed its size");
    else if (!(f = fopen(path, "wb")))
        rc = tc_err_set(TC_ERR_SYS, "%s: cannot create", path);
    else if (fwrite(buf, 1, (size_t)len, f) != (size_t)len)
        rc = tc_err_set(TC_ERR_SYS, "%s: cannot write the session", path);
    if (f && fclose(f) != 0 && rc == TC_OK)
        rc = tc_err_set(TC_ERR_SYS, "%s: cannot write the session", path);
    free(buf);
    return rc;
}

int wf_ctx_save_session(wf_ctx *x, WOLFSSL_SESSION *sess)
{
    if (x->saved)
        wolfSSL_SESSION_free(x->saved);
    x->saved = sess;
    if (!x->cfg.session_out || !sess)
        return TC_OK;
    return write_session(x->cfg.session_out, sess);
}
