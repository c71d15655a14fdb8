#include "key_schedule.h"

#include "tc_err.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <string.h>
#include <strings.h>

typedef struct {
    tc_suite suite;
    const char *openssl_name;
} suite_entry;

/* TLS 1.2 AEAD suites carry a 4-byte implicit salt for GCM (RFC 5288 §3) but
 * a full 12-byte IV for ChaCha20-Poly1305 (RFC 7905 §2). */
static const suite_entry suites[] = {
    {{0x1301, "TLS_AES_128_GCM_SHA256", 1, TC_AEAD_AES_128_GCM, "SHA256", 16, 12},
     "TLS_AES_128_GCM_SHA256"},
    {{0x1302, "TLS_AES_256_GCM_SHA384", 1, TC_AEAD_AES_256_GCM, "SHA384", 32, 12},
     "TLS_AES_256_GCM_SHA384"},
    {{0x1303, "TLS_CHACHA20_POLY1305_SHA256", 1, TC_AEAD_CHACHA20_POLY1305, "SHA256", 32, 12},
     "TLS_CHACHA20_POLY1305_SHA256"},
    {{0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0, TC_AEAD_AES_128_GCM, "SHA256", 16, 4},
     "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0, TC_AEAD_AES_128_GCM, "SHA256", 16, 4},
     "ECDHE-RSA-AES128-GCM-SHA256"},
    {{0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0, TC_AEAD_AES_256_GCM, "SHA384", 32, 4},
     "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {{0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0, TC_AEAD_AES_256_GCM, "SHA384", 32, 4},
     "ECDHE-RSA-AES256-GCM-SHA384"},
    {{0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0, TC_AEAD_CHACHA20_POLY1305,
      "SHA256", 32, 12},
     "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {{0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0, TC_AEAD_CHACHA20_POLY1305,
      "SHA256", 32, 12},
     "ECDHE-RSA-CHACHA20-POLY1305"},
};

#define SUITE_COUNT (sizeof suites / sizeof suites[0])
#define TLS13_LABEL_PREFIX "tls13 "
#define TLS12_MASTER_LEN 48
#define TLS12_RANDOM_LEN 32
#define PRF_SEED_MAX 512

const tc_suite *tc_suite_by_id(uint16_t id)
{
    for (size_t i = 0; i < SUITE_COUNT; i++)
        if (suites[i].suite.id == id)
            return &suites[i].suite;
    return NULL;
}

const tc_suite *tc_suite_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < SUITE_COUNT; i++)
        if (strcasecmp(name, suites[i].suite.name) == 0
            || strcasecmp(name, suites[i].openssl_name) == 0)
            return &suites[i].suite;
    return NULL;
}

/* The OpenSSL error queue is per thread and shared with libssl: a stale entry
 * left here would later be read by SSL_get_error() as if the handshake
 * library had failed, so the reason is moved into our message and cleared. */
static int crypto_fail(const char *what)
{
    char reason[160] = "no OpenSSL error recorded";
    unsigned long e = ERR_peek_error();
    if (e != 0)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    return tc_err_set(TC_ERR_CRYPTO, "%s: %s", what, reason);
}

static int kdf_derive(const char *kdf_name, const OSSL_PARAM *params, uint8_t *out,
                      size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, kdf_name, NULL);
    if (kdf == NULL)
        return crypto_fail(kdf_name);
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (kctx == NULL)
        return crypto_fail(kdf_name);
    int rc = EVP_KDF_derive(kctx, out, out_len, params) == 1 ? TC_OK : crypto_fail(kdf_name);
    EVP_KDF_CTX_free(kctx);
    return rc;
}

static int digest_size(const char *digest, size_t *len)
{
    const EVP_MD *md = digest ? EVP_get_digestbyname(digest) : NULL;
    if (md == NULL)
        return tc_err_set(TC_ERR_USAGE, "unknown digest '%s'", digest ? digest : "(null)");
    *len = (size_t)EVP_MD_get_size(md);
    return TC_OK;
}

/* HkdfLabel (RFC 8446 §7.1): uint16 length, opaque label<7..255> with the
 * "tls13 " prefix, opaque context<0..255>. */
static int build_hkdf_label(const char *label, const uint8_t *context, size_t context_len,
                            size_t out_len, uint8_t *info, size_t *info_len)
{
    size_t prefix_len = strlen(TLS13_LABEL_PREFIX);
    size_t label_len = strlen(label);
    if (label_len == 0 || prefix_len + label_len > 255)
        return tc_err_set(TC_ERR_USAGE, "HKDF label '%s': length out of range", label);
    if (context_len > 255 || (context_len > 0 && context == NULL))
        return tc_err_set(TC_ERR_USAGE, "HKDF context: %zu bytes out of range", context_len);
    if (out_len == 0 || out_len > 0xFFFF)
        return tc_err_set(TC_ERR_USAGE, "HKDF output: %zu bytes out of range", out_len);
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(prefix_len + label_len);
    memcpy(info + n, TLS13_LABEL_PREFIX, prefix_len);
    n += prefix_len;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = (uint8_t)context_len;
    if (context_len > 0)
        memcpy(info + n, context, context_len);
    *info_len = n + context_len;
    return TC_OK;
}

int tc_hkdf_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
                         const char *label, const uint8_t *context, size_t context_len,
                         uint8_t *out, size_t out_len)
{
    if (digest == NULL || secret == NULL || secret_len == 0 || label == NULL || out == NULL)
        return tc_err_set(TC_ERR_USAGE, "tc_hkdf_expand_label: missing argument");
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t info_len = 0;
    int rc = build_hkdf_label(label, context, context_len, out_len, info, &info_len);
    if (rc != TC_OK)
        return rc;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, info_len),
        OSSL_PARAM_construct_end(),
    };
    return kdf_derive("HKDF", params, out, out_len);
}

/* A traffic secret is always Hash.length bytes (RFC 8446 §7.1); any other
 * length means the caller took the wrong key-log line or the wrong suite. */
static int check_tls13_secret(const tc_suite *suite, size_t secret_len)
{
    if (suite == NULL || !suite->tls13)
        return tc_err_set(TC_ERR_USAGE, "not a TLS 1.3 suite");
    size_t hash_len = 0;
    int rc = digest_size(suite->digest, &hash_len);
    if (rc != TC_OK)
        return rc;
    if (secret_len != hash_len)
        return tc_err_set(TC_ERR_USAGE, "%s: traffic secret of %zu bytes, expected %zu",
                          suite->name, secret_len, hash_len);
    return TC_OK;
}

int tc13_traffic_keys(const tc_suite *suite, const uint8_t *secret, size_t secret_len,
                      tc_traffic_keys *out)
{
    int rc = check_tls13_secret(suite, secret_len);
    if (rc != TC_OK)
        return rc;
    if (out == NULL || suite->key_len > TC_MAX_KEY || suite->fixed_iv_len > TC_MAX_IV)
        return tc_err_set(TC_ERR_USAGE, "tc13_traffic_keys: bad output or suite");
    tc_traffic_keys k = {.key_len = suite->key_len, .iv_len = suite->fixed_iv_len};
    rc = tc_hkdf_expand_label(suite->digest, secret, secret_len, "key", NULL, 0, k.key,
                              k.key_len);
    if (rc == TC_OK)
        rc = tc_hkdf_expand_label(suite->digest, secret, secret_len, "iv", NULL, 0, k.iv,
                                  k.iv_len);
    if (rc == TC_OK)
        *out = k;
    OPENSSL_cleanse(&k, sizeof k);
    return rc;
}

int tc13_next_secret(const tc_suite *suite, const uint8_t *secret, size_t secret_len,
                     uint8_t *next)
{
    int rc = check_tls13_secret(suite, secret_len);
    if (rc != TC_OK)
        return rc;
    if (next == NULL)
        return tc_err_set(TC_ERR_USAGE, "tc13_next_secret: no output");
    return tc_hkdf_expand_label(suite->digest, secret, secret_len, "traffic upd", NULL, 0,
                                next, secret_len);
}

int tc12_prf(const char *digest, const uint8_t *secret, size_t secret_len,
             const char *label, const uint8_t *seed, size_t seed_len,
             uint8_t *out, size_t out_len)
{
    if (digest == NULL || secret == NULL || secret_len == 0 || label == NULL || out == NULL
        || out_len == 0 || (seed == NULL && seed_len > 0))
        return tc_err_set(TC_ERR_USAGE, "tc12_prf: missing argument");
    size_t label_len = strlen(label);
    if (label_len + seed_len > PRF_SEED_MAX)
        return tc_err_set(TC_ERR_USAGE, "tc12_prf: label and seed exceed %d bytes",
                          PRF_SEED_MAX);
    uint8_t full_seed[PRF_SEED_MAX];
    memcpy(full_seed, label, label_len);
    if (seed_len > 0)
        memcpy(full_seed + label_len, seed, seed_len);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full_seed,
                                          label_len + seed_len),
        OSSL_PARAM_construct_end(),
    };
    return kdf_derive("TLS1-PRF", params, out, out_len);
}

/* AEAD suites have no MAC keys, so the block is client key, server key,
 * client IV, server IV (RFC 5246 §6.3 with zero-length MAC keys). */
static void split_key_block(const uint8_t *block, const tc_suite *suite,
                            tc_traffic_keys *client_write, tc_traffic_keys *server_write)
{
    size_t kl = suite->key_len, il = suite->fixed_iv_len;
    memset(client_write, 0, sizeof *client_write);
    memset(server_write, 0, sizeof *server_write);
    client_write->key_len = server_write->key_len = kl;
    client_write->iv_len = server_write->iv_len = il;
    memcpy(client_write->key, block, kl);
    memcpy(server_write->key, block + kl, kl);
    memcpy(client_write->iv, block + 2 * kl, il);
    memcpy(server_write->iv, block + 2 * kl + il, il);
}

int tc12_key_block(const tc_suite *suite, const uint8_t master[48],
                   const uint8_t client_random[32], const uint8_t server_random[32],
                   tc_traffic_keys *client_write, tc_traffic_keys *server_write)
{
    if (suite == NULL || suite->tls13)
        return tc_err_set(TC_ERR_USAGE, "tc12_key_block: not a TLS 1.2 suite");
    if (master == NULL || client_random == NULL || server_random == NULL
        || client_write == NULL || server_write == NULL)
        return tc_err_set(TC_ERR_USAGE, "tc12_key_block: missing argument");
    if (suite->key_len > TC_MAX_KEY || suite->fixed_iv_len > TC_MAX_IV)
        return tc_err_set(TC_ERR_USAGE, "%s: key or IV too long", suite->name);
    /* The key block seed puts the server random first, unlike the master
     * secret's seed (RFC 5246 §6.3 vs §8.1). */
    uint8_t seed[2 * TLS12_RANDOM_LEN];
    memcpy(seed, server_random, TLS12_RANDOM_LEN);
    memcpy(seed + TLS12_RANDOM_LEN, client_random, TLS12_RANDOM_LEN);
    uint8_t block[2 * TC_MAX_KEY + 2 * TC_MAX_IV];
    size_t block_len = 2 * suite->key_len + 2 * suite->fixed_iv_len;
    int rc = tc12_prf(suite->digest, master, TLS12_MASTER_LEN, "key expansion", seed,
                      sizeof seed, block, block_len);
    if (rc == TC_OK)
        split_key_block(block, suite, client_write, server_write);
    OPENSSL_cleanse(block, sizeof block);
    return rc;
}
