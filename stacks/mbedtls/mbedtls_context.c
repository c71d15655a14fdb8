#include "mbedtls_context.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/error.h>

#include "tc_err.h"

#define MB_SESSION_FILE_MAX (64 * 1024)

static int mb_lib_fail(const char *what, int code)
{
    char text[160];
    mbedtls_strerror(code, text, sizeof text);
    return tc_err_set(TC_ERR_LIBRARY, "%s: %s (-0x%04X)", what, text, (unsigned)-code);
}

/* ---- --cipher ------------------------------------------------------------ */

/* OpenSSL spellings of the TLS 1.2 suites the mock peer knows; IANA names
 * become mbedTLS's by turning '_' into '-'. */
static const char *const mb_openssl_names[][2] = {
    {"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"},
    {"ECDHE-ECDSA-AES256-GCM-SHA384", "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"},
    {"ECDHE-ECDSA-CHACHA20-POLY1305", "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256"},
};

static int mb_suite_id(const char *name)
{
    for (size_t i = 0; i < sizeof mb_openssl_names / sizeof mb_openssl_names[0]; i++)
        if (strcmp(mb_openssl_names[i][0], name) == 0)
            return mbedtls_ssl_get_ciphersuite_id(mb_openssl_names[i][1]);
    char mbed[128];
    snprintf(mbed, sizeof mbed, "%s", name);
    for (char *p = mbed; *p; p++)
        if (*p == '_')
            *p = '-';
    return mbedtls_ssl_get_ciphersuite_id(mbed);
}

static int mb_conf_cipher(mb_ctx *x)
{
    if (!x->cfg.cipher)
        return TC_OK;
    int id = mb_suite_id(x->cfg.cipher);
    if (id == 0)
        return tc_err_set(TC_ERR_UNSUPPORTED, "cipher %s: not known to mbedTLS", x->cfg.cipher);
    x->suites[0] = id;
    x->suites[1] = 0;
    mbedtls_ssl_conf_ciphersuites(&x->conf, x->suites);
    return TC_OK;
}

/* ---- session files --------------------------------------------------------- */

static int mb_read_file(const char *path, unsigned char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tc_err_set(TC_ERR_USAGE, "--session-in %s: %s", path, strerror(errno));
    *len = fread(buf, 1, cap, f);
    bool too_big = *len == cap && fgetc(f) != EOF;
    fclose(f);
    if (too_big)
        return tc_err_set(TC_ERR_USAGE, "--session-in %s: larger than %zu bytes", path, cap);
    return TC_OK;
}

static int mb_load_session_file(mb_ctx *x)
{
    unsigned char *buf = malloc(MB_SESSION_FILE_MAX);
    if (!buf)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    size_t len = 0;
    int rc = mb_read_file(x->cfg.session_in, buf, MB_SESSION_FILE_MAX, &len);
    if (rc == TC_OK) {
        int r = mbedtls_ssl_session_load(&x->saved, buf, len);
        if (r != 0)
            rc = tc_err_set(TC_ERR_USAGE, "--session-in %s: mbedtls_ssl_session_load -0x%04X",
                            x->cfg.session_in, (unsigned)-r);
        x->have_saved = r == 0;
    }
    free(buf);
    return rc;
}

static int mb_write_file(const char *path, const unsigned char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return tc_err_set(TC_ERR_SYS, "--session-out %s: %s", path, strerror(errno));
    size_t n = fwrite(buf, 1, len, f);
    if (fclose(f) != 0 || n != len)
        return tc_err_set(TC_ERR_SYS, "--session-out %s: write failed", path);
    return TC_OK;
}

static int mb_write_session_file(const char *path, const mbedtls_ssl_session *s)
{
    size_t len = 0;
    mbedtls_ssl_session_save(s, NULL, 0, &len); /* only asks for the size */
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    int r = mbedtls_ssl_session_save(s, buf, len, &len);
    int rc = r == 0 ? mb_write_file(path, buf, len) : mb_lib_fail("mbedtls_ssl_session_save", r);
    free(buf);
    return rc;
}

/* ---- setup ------------------------------------------------------------------ */

static int mb_rng_init(mb_ctx *x)
{
    static const unsigned char personal[] = "tlsclose-shim-mbedtls";
    int r = mbedtls_ctr_drbg_seed(&x->drbg, mbedtls_entropy_func, &x->entropy, personal,
                                  sizeof personal - 1);
    return r == 0 ? TC_OK : mb_lib_fail("mbedtls_ctr_drbg_seed", r);
}

static int mb_server_init(mb_ctx *x)
{
    int r = mbedtls_x509_crt_parse_file(&x->cert, x->cfg.cert);
    if (r != 0)
        return mb_lib_fail(x->cfg.cert, r);
    r = mbedtls_pk_parse_keyfile(&x->key, x->cfg.key, NULL);
    if (r != 0)
        return mb_lib_fail(x->cfg.key, r);
    r = mbedtls_ssl_conf_own_cert(&x->conf, &x->cert, &x->key);
    if (r != 0)
        return mb_lib_fail("mbedtls_ssl_conf_own_cert", r);
    mbedtls_ssl_conf_session_cache(&x->conf, &x->cache, mbedtls_ssl_cache_get,
                                   mbedtls_ssl_cache_set);
    return TC_OK;
}

static int mb_conf_init(mb_ctx *x)
{
    int endpoint = x->cfg.server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT;
    int r = mbedtls_ssl_config_defaults(&x->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    if (r != 0)
        return mb_lib_fail("mbedtls_ssl_config_defaults", r);
    mbedtls_ssl_conf_rng(&x->conf, mbedtls_ctr_drbg_random, &x->drbg);
    mbedtls_ssl_conf_min_version(&x->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&x->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_authmode(&x->conf, MBEDTLS_SSL_VERIFY_NONE);
    return mb_conf_cipher(x);
}

static void mb_ctx_zero(mb_ctx *x, const shim_config *cfg)
{
    memset(x, 0, sizeof *x);
    x->cfg = *cfg;
    mbedtls_entropy_init(&x->entropy);
    mbedtls_ctr_drbg_init(&x->drbg);
    mbedtls_ssl_config_init(&x->conf);
    mbedtls_x509_crt_init(&x->cert);
    mbedtls_pk_init(&x->key);
    mbedtls_ssl_cache_init(&x->cache);
    mbedtls_ssl_session_init(&x->saved);
}

int mb_ctx_init(mb_ctx *x, const shim_config *cfg)
{
    mb_ctx_zero(x, cfg);
    if (cfg->tls_minor != 2)
        return tc_err_set(TC_ERR_UNSUPPORTED, "mbedTLS 2.28 has no TLS 1.3");
    int rc = mb_rng_init(x);
    if (rc == TC_OK)
        rc = mb_conf_init(x);
    if (rc == TC_OK && cfg->server)
        rc = mb_server_init(x);
    if (rc == TC_OK && !cfg->server && cfg->session_in)
        rc = mb_load_session_file(x);
    return rc;
}

void mb_ctx_free(mb_ctx *x)
{
    mbedtls_ssl_session_free(&x->saved);
    mbedtls_ssl_cache_free(&x->cache);
    mbedtls_pk_free(&x->key);
    mbedtls_x509_crt_free(&x->cert);
    mbedtls_ssl_config_free(&x->conf);
    mbedtls_ctr_drbg_free(&x->drbg);
    mbedtls_entropy_free(&x->entropy);
}

/* ---- sessions ------------------------------------------------------------------ */

int mb_ctx_save_session(mb_ctx *x, const mbedtls_ssl_context *ssl)
{
    mbedtls_ssl_session s;
    mbedtls_ssl_session_init(&s);
    int r = mbedtls_ssl_get_session(ssl, &s);
    if (r != 0) {
        fprintf(stderr, "mbedtls_ssl_get_session: -0x%04X\n", (unsigned)-r);
        mbedtls_ssl_session_free(&s);
        return TC_OK;
    }
    mbedtls_ssl_session_free(&x->saved);
    x->saved = s;
    x->have_saved = true;
    return x->cfg.session_out ? mb_write_session_file(x->cfg.session_out, &x->saved) : TC_OK;
}

void mb_ctx_note_master(mb_ctx *x, const mbedtls_ssl_context *ssl)
{
    const mbedtls_ssl_session *cur = mbedtls_ssl_get_session_pointer(ssl);
    x->have_prev_master = cur != NULL;
    if (cur)
        memcpy(x->prev_master, cur->master, sizeof x->prev_master);
}

bool mb_ctx_cache_holds(mb_ctx *x, const mbedtls_ssl_context *ssl)
{
    const mbedtls_ssl_session *cur = mbedtls_ssl_get_session_pointer(ssl);
    if (!cur || cur->id_len == 0)
        return false;
    /* mbedtls_ssl_cache_get looks an entry up by session ID only
     * (library/ssl_cache.c) and copies it into the probe. */
    mbedtls_ssl_session probe;
    mbedtls_ssl_session_init(&probe);
    probe.id_len = cur->id_len;
    memcpy(probe.id, cur->id, cur->id_len);
    bool found = mbedtls_ssl_cache_get(&x->cache, &probe) == 0;
    mbedtls_ssl_session_free(&probe);
    return found;
}
