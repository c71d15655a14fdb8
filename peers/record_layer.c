#include "record_layer.h"

#include "tc_err.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <string.h>

#define TAG_LEN 16
#define NONCE_LEN 12
#define GCM12_EXPLICIT_LEN 8
#define TLS12_AAD_LEN 13
#define LEGACY_VERSION 0x0303
/* RFC 8446 §5.4: content + type + padding never exceeds 2^14 + 1. */
#define TLS13_MAX_INNER (TC_MAX_PLAINTEXT + 1)
#define TLS12_MAX_CIPHERTEXT (TC_MAX_PLAINTEXT + 2048)

/* See key_schedule.c: a stale OpenSSL error would be misread by libssl. */
static int crypto_fail(const char *what)
{
    char reason[160] = "no OpenSSL error recorded";
    unsigned long e = ERR_peek_error();
    if (e != 0)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    return tc_err_set(TC_ERR_CRYPTO, "%s: %s", what, reason);
}

static const EVP_CIPHER *aead_cipher(tc_aead aead)
{
    switch (aead) {
    case TC_AEAD_AES_128_GCM: return EVP_aes_128_gcm();
    case TC_AEAD_AES_256_GCM: return EVP_aes_256_gcm();
    case TC_AEAD_CHACHA20_POLY1305: return EVP_chacha20_poly1305();
    }
    return NULL;
}

static void put_u16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static size_t get_u16(const uint8_t *p)
{
    return (size_t)p[0] << 8 | p[1];
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put_header(uint8_t *out, uint8_t type, size_t body_len)
{
    out[0] = type;
    put_u16(out + 1, LEGACY_VERSION);
    put_u16(out + 3, body_len);
}

/* The key goes in once; each record only sets its nonce, so one context per
 * direction serves the whole connection (and is rekeyed by KeyUpdate). */
static int direction_start(tc_direction *d, const tc_suite *suite,
                           const tc_traffic_keys *keys)
{
    const EVP_CIPHER *cipher = aead_cipher(suite->aead);
    if (cipher == NULL || keys->key_len != (size_t)EVP_CIPHER_get_key_length(cipher))
        return tc_err_set(TC_ERR_USAGE, "%s: key length %zu does not fit the AEAD",
                          suite->name, keys->key_len);
    d->ctx = EVP_CIPHER_CTX_new();
    if (d->ctx == NULL)
        return crypto_fail("EVP_CIPHER_CTX_new");
    if (EVP_CipherInit_ex(d->ctx, cipher, NULL, keys->key, NULL, 1) != 1) {
        int rc = crypto_fail("EVP_CipherInit_ex");
        EVP_CIPHER_CTX_free(d->ctx);
        d->ctx = NULL;
        return rc;
    }
    d->suite = suite;
    d->keys = *keys;
    return TC_OK;
}

int tc_direction_init13(tc_direction *d, const tc_suite *suite,
                        const uint8_t *secret, size_t secret_len)
{
    if (d == NULL)
        return tc_err_set(TC_ERR_USAGE, "tc_direction_init13: no direction");
    /* Zeroed first, so a caller may free a direction whose init failed. */
    memset(d, 0, sizeof *d);
    if (secret == NULL || secret_len > TC_MAX_SECRET)
        return tc_err_set(TC_ERR_USAGE, "tc_direction_init13: bad secret");
    tc_traffic_keys keys;
    int rc = tc13_traffic_keys(suite, secret, secret_len, &keys);
    if (rc == TC_OK)
        rc = direction_start(d, suite, &keys);
    OPENSSL_cleanse(&keys, sizeof keys);
    if (rc != TC_OK)
        return rc;
    d->version = 0x0304;
    memcpy(d->secret, secret, secret_len);
    d->secret_len = secret_len;
    return TC_OK;
}

int tc_direction_init12(tc_direction *d, const tc_suite *suite,
                        const tc_traffic_keys *keys, uint64_t seq)
{
    if (d == NULL)
        return tc_err_set(TC_ERR_USAGE, "tc_direction_init12: no direction");
    memset(d, 0, sizeof *d);
    if (keys == NULL || suite == NULL || suite->tls13)
        return tc_err_set(TC_ERR_USAGE, "tc_direction_init12: not a TLS 1.2 suite or no keys");
    if (keys->key_len != suite->key_len || keys->iv_len != suite->fixed_iv_len)
        return tc_err_set(TC_ERR_USAGE, "%s: keys of %zu/%zu bytes, expected %zu/%zu",
                          suite->name, keys->key_len, keys->iv_len, suite->key_len,
                          suite->fixed_iv_len);
    int rc = direction_start(d, suite, keys);
    if (rc != TC_OK)
        return rc;
    d->version = LEGACY_VERSION;
    d->seq = seq;
    return TC_OK;
}

int tc_direction_update(tc_direction *d)
{
    if (d == NULL || d->ctx == NULL || d->suite == NULL || !d->suite->tls13)
        return tc_err_set(TC_ERR_USAGE, "KeyUpdate needs a TLS 1.3 direction");
    uint8_t next[TC_MAX_SECRET];
    tc_traffic_keys keys;
    /* The derivations run before anything changes, so a KDF failure leaves
     * the direction as it was. */
    int rc = tc13_next_secret(d->suite, d->secret, d->secret_len, next);
    if (rc == TC_OK)
        rc = tc13_traffic_keys(d->suite, next, d->secret_len, &keys);
    if (rc == TC_OK && EVP_CipherInit_ex(d->ctx, NULL, NULL, keys.key, NULL, -1) != 1)
        rc = crypto_fail("EVP_CipherInit_ex (KeyUpdate)");
    if (rc == TC_OK) {
        memcpy(d->secret, next, d->secret_len);
        d->keys = keys;
        d->seq = 0;
        d->epoch++;
    }
    OPENSSL_cleanse(next, sizeof next);
    OPENSSL_cleanse(&keys, sizeof keys);
    return rc;
}

void tc_direction_free(tc_direction *d)
{
    if (d == NULL)
        return;
    EVP_CIPHER_CTX_free(d->ctx);
    OPENSSL_cleanse(d, sizeof *d);
    d->ctx = NULL;
}

/* RFC 8446 §5.3 and RFC 7905 §2: the 64-bit sequence number, left-padded,
 * XORed into the 12-byte IV. */
static void xor_nonce(const tc_direction *d, uint8_t nonce[NONCE_LEN])
{
    memcpy(nonce, d->keys.iv, NONCE_LEN);
    uint8_t seq[8];
    put_u64(seq, d->seq);
    for (int i = 0; i < 8; i++)
        nonce[NONCE_LEN - 8 + i] ^= seq[i];
}

static int gcm12(const tc_direction *d)
{
    return !d->suite->tls13 && d->suite->aead != TC_AEAD_CHACHA20_POLY1305;
}

/* RFC 5288 §3: salt from the key block, then the 8 explicit bytes. */
static void gcm12_nonce(const tc_direction *d, const uint8_t explicit_part[8],
                        uint8_t nonce[NONCE_LEN])
{
    memcpy(nonce, d->keys.iv, NONCE_LEN - GCM12_EXPLICIT_LEN);
    memcpy(nonce + NONCE_LEN - GCM12_EXPLICIT_LEN, explicit_part, GCM12_EXPLICIT_LEN);
}

/* RFC 5246 §6.2.3.3: seq || type || version || plaintext length. */
static void tls12_aad(uint64_t seq, uint8_t type, size_t plain_len,
                      uint8_t aad[TLS12_AAD_LEN])
{
    put_u64(aad, seq);
    aad[8] = type;
    put_u16(aad + 9, LEGACY_VERSION);
    put_u16(aad + 11, plain_len);
}

static int aead_seal(EVP_CIPHER_CTX *ctx, const uint8_t nonce[NONCE_LEN], const uint8_t *aad,
                     size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[TAG_LEN])
{
    int n = 0, fin = 0;
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 1) != 1
        || EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1
        || (len > 0 && EVP_CipherUpdate(ctx, buf, &n, buf, (int)len) != 1)
        || EVP_CipherFinal_ex(ctx, buf + n, &fin) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, tag) != 1)
        return crypto_fail("AEAD seal");
    return TC_OK;
}

/* Decrypts into out (len bytes). A failed tag is TC_ERR_DECRYPT and the
 * unauthenticated plaintext is wiped so no caller can act on it. */
static int aead_open(EVP_CIPHER_CTX *ctx, const uint8_t nonce[NONCE_LEN], const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t len, const uint8_t *tag,
                     uint8_t *out)
{
    int n = 0, fin = 0;
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 0) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag) != 1
        || EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1
        || (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1))
        return crypto_fail("AEAD open");
    if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1) {
        ERR_clear_error();
        OPENSSL_cleanse(out, len);
        return tc_err_set(TC_ERR_DECRYPT, "record failed authentication");
    }
    return TC_OK;
}

static int check_direction(const tc_direction *d)
{
    if (d == NULL || d->ctx == NULL || d->suite == NULL)
        return tc_err_set(TC_ERR_USAGE, "record layer: direction not initialised");
    /* Never reuse a nonce: a wrapped counter must end the connection or
     * rekey (RFC 8446 §5.3, RFC 5246 §6.1). */
    if (d->seq == UINT64_MAX)
        return tc_err_set(TC_ERR_USAGE, "record layer: sequence number exhausted");
    return TC_OK;
}

static int protect13(tc_direction *d, uint8_t type, const uint8_t *content, size_t len,
                     size_t pad, uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (type == 0)
        return tc_err_set(TC_ERR_USAGE, "TLS 1.3 inner content type 0 is reserved for padding");
    if (len > TC_MAX_PLAINTEXT || pad > TLS13_MAX_INNER - 1 - len)
        return tc_err_set(TC_ERR_MALFORMED, "TLS 1.3 record: %zu bytes + %zu padding exceed 2^14",
                          len, pad);
    size_t inner_len = len + 1 + pad;
    size_t rec_len = TC_RECORD_HEADER + inner_len + TAG_LEN;
    if (out_cap < rec_len)
        return tc_err_set(TC_ERR_USAGE, "record needs %zu bytes, buffer has %zu", rec_len, out_cap);
    put_header(out, TC_CT_APPLICATION_DATA, inner_len + TAG_LEN);
    uint8_t *inner = out + TC_RECORD_HEADER;
    if (len > 0)
        memmove(inner, content, len);
    inner[len] = type;
    memset(inner + len + 1, 0, pad);
    uint8_t nonce[NONCE_LEN];
    xor_nonce(d, nonce);
    int rc = aead_seal(d->ctx, nonce, out, TC_RECORD_HEADER, inner, inner_len, inner + inner_len);
    if (rc != TC_OK)
        return rc;
    *out_len = rec_len;
    return TC_OK;
}

static int protect12(tc_direction *d, uint8_t type, const uint8_t *content, size_t len,
                     uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (len > TC_MAX_PLAINTEXT)
        return tc_err_set(TC_ERR_MALFORMED, "TLS 1.2 record: %zu bytes exceed 2^14", len);
    size_t explicit_len = gcm12(d) ? GCM12_EXPLICIT_LEN : 0;
    size_t body_len = explicit_len + len + TAG_LEN;
    if (out_cap < TC_RECORD_HEADER + body_len)
        return tc_err_set(TC_ERR_USAGE, "record needs %zu bytes, buffer has %zu",
                          TC_RECORD_HEADER + body_len, out_cap);
    put_header(out, type, body_len);
    uint8_t nonce[NONCE_LEN];
    if (explicit_len > 0) {
        /* The sequence number is a nonce that is never repeated under
         * this key, which is all RFC 5288 §3 asks of the explicit part. */
        put_u64(out + TC_RECORD_HEADER, d->seq);
        gcm12_nonce(d, out + TC_RECORD_HEADER, nonce);
    } else {
        xor_nonce(d, nonce);
    }
    uint8_t *body = out + TC_RECORD_HEADER + explicit_len;
    if (len > 0)
        memmove(body, content, len);
    uint8_t aad[TLS12_AAD_LEN];
    tls12_aad(d->seq, type, len, aad);
    int rc = aead_seal(d->ctx, nonce, aad, sizeof aad, body, len, body + len);
    if (rc != TC_OK)
        return rc;
    *out_len = TC_RECORD_HEADER + body_len;
    return TC_OK;
}

int tc_record_protect(tc_direction *d, uint8_t type, const uint8_t *content, size_t len,
                      size_t pad, uint8_t *out, size_t out_cap, size_t *out_len)
{
    int rc = check_direction(d);
    if (rc != TC_OK)
        return rc;
    if ((content == NULL && len > 0) || out == NULL || out_len == NULL)
        return tc_err_set(TC_ERR_USAGE, "tc_record_protect: missing buffer");
    rc = d->suite->tls13 ? protect13(d, type, content, len, pad, out, out_cap, out_len)
                         : protect12(d, type, content, len, out, out_cap, out_len);
    if (rc == TC_OK)
        d->seq++;
    return rc;
}

/* The header checks shared by both versions: a complete record whose length
 * field matches what we were given, with the legacy version. */
static int check_header(const uint8_t *rec, size_t rec_len, size_t *body_len)
{
    if (rec_len < TC_RECORD_HEADER)
        return tc_err_set(TC_ERR_MALFORMED, "record of %zu bytes has no complete header", rec_len);
    *body_len = get_u16(rec + 3);
    if (*body_len != rec_len - TC_RECORD_HEADER)
        return tc_err_set(TC_ERR_MALFORMED, "record header says %zu bytes, record has %zu",
                          *body_len, rec_len - TC_RECORD_HEADER);
    if (get_u16(rec + 1) != LEGACY_VERSION)
        return tc_err_set(TC_ERR_MALFORMED, "record version 0x%04zx, expected 0x0303",
                          get_u16(rec + 1));
    return TC_OK;
}

/* Padding is all zeros after the real type (RFC 8446 §5.4); an inner
 * plaintext with no non-zero byte has no type at all. */
static int strip_padding(const uint8_t *inner, size_t inner_len, size_t *content_len)
{
    size_t i = inner_len;
    while (i > 0 && inner[i - 1] == 0)
        i--;
    if (i == 0)
        return tc_err_set(TC_ERR_MALFORMED, "TLS 1.3 inner plaintext is all zeros");
    *content_len = i - 1;
    return TC_OK;
}

static int unprotect13(tc_direction *d, const uint8_t *rec, size_t body_len, uint8_t *type,
                       uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (rec[0] != TC_CT_APPLICATION_DATA)
        return tc_err_set(TC_ERR_MALFORMED, "TLS 1.3 protected record with outer type %u",
                          rec[0]);
    if (body_len < TAG_LEN + 1 || body_len > TC_MAX_CIPHERTEXT)
        return tc_err_set(TC_ERR_MALFORMED, "TLS 1.3 record body of %zu bytes", body_len);
    /* Decrypted into our own buffer: the padding may make the inner
     * plaintext larger than any content the caller has to make room for. */
    uint8_t inner[TC_MAX_CIPHERTEXT];
    size_t inner_len = body_len - TAG_LEN;
    uint8_t nonce[NONCE_LEN];
    xor_nonce(d, nonce);
    int rc = aead_open(d->ctx, nonce, rec, TC_RECORD_HEADER, rec + TC_RECORD_HEADER, inner_len,
                       rec + TC_RECORD_HEADER + inner_len, inner);
    if (rc != TC_OK)
        return rc;
    size_t content_len = 0;
    if (inner_len > TLS13_MAX_INNER)
        rc = tc_err_set(TC_ERR_MALFORMED, "TLS 1.3 inner plaintext of %zu bytes exceeds 2^14 + 1",
                        inner_len);
    if (rc == TC_OK)
        rc = strip_padding(inner, inner_len, &content_len);
    if (rc == TC_OK && content_len > out_cap)
        rc = tc_err_set(TC_ERR_USAGE, "record content of %zu bytes, buffer has %zu",
                        content_len, out_cap);
    if (rc == TC_OK) {
        if (content_len > 0)
            memcpy(out, inner, content_len);
        *type = inner[content_len];
        *out_len = content_len;
    }
    OPENSSL_cleanse(inner, inner_len);
    return rc;
}

static int unprotect12(tc_direction *d, const uint8_t *rec, size_t body_len, uint8_t *type,
                       uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (rec[0] < TC_CT_CHANGE_CIPHER_SPEC || rec[0] > TC_CT_APPLICATION_DATA)
        return tc_err_set(TC_ERR_MALFORMED, "TLS 1.2 record with content type %u", rec[0]);
    size_t explicit_len = gcm12(d) ? GCM12_EXPLICIT_LEN : 0;
    if (body_len < explicit_len + TAG_LEN || body_len > TLS12_MAX_CIPHERTEXT)
        return tc_err_set(TC_ERR_MALFORMED, "TLS 1.2 record body of %zu bytes", body_len);
    /* AEAD output length is fixed by the input, so an oversized plaintext
     * (record_overflow, RFC 5246 §6.2.3) is known before decrypting. */
    size_t plain_len = body_len - explicit_len - TAG_LEN;
    if (plain_len > TC_MAX_PLAINTEXT)
        return tc_err_set(TC_ERR_MALFORMED, "TLS 1.2 plaintext of %zu bytes exceeds 2^14",
                          plain_len);
    if (plain_len > out_cap)
        return tc_err_set(TC_ERR_USAGE, "record content of %zu bytes, buffer has %zu",
                          plain_len, out_cap);
    const uint8_t *body = rec + TC_RECORD_HEADER;
    uint8_t nonce[NONCE_LEN];
    if (explicit_len > 0)
        gcm12_nonce(d, body, nonce);
    else
        xor_nonce(d, nonce);
    uint8_t aad[TLS12_AAD_LEN];
    tls12_aad(d->seq, rec[0], plain_len, aad);
    int rc = aead_open(d->ctx, nonce, aad, sizeof aad, body + explicit_len, plain_len,
                       body + explicit_len + plain_len, out);
    if (rc != TC_OK)
        return rc;
    *type = rec[0];
    *out_len = plain_len;
    return TC_OK;
}

int tc_record_unprotect(tc_direction *d, const uint8_t *rec, size_t rec_len,
                        uint8_t *type, uint8_t *out, size_t out_cap, size_t *out_len)
{
    int rc = check_direction(d);
    if (rc != TC_OK)
        return rc;
    if ((rec == NULL && rec_len > 0) || type == NULL || out == NULL || out_len == NULL)
        return tc_err_set(TC_ERR_USAGE, "tc_record_unprotect: missing buffer");
    *out_len = 0;
    size_t body_len = 0;
    rc = check_header(rec, rec_len, &body_len);
    if (rc != TC_OK)
        return rc;
    rc = d->suite->tls13 ? unprotect13(d, rec, body_len, type, out, out_cap, out_len)
                         : unprotect12(d, rec, body_len, type, out, out_cap, out_len);
    if (rc == TC_OK)
        d->seq++;
    return rc;
}

int tc_record_frame(const uint8_t *buf, size_t len, size_t *rec_len)
{
    if ((buf == NULL && len > 0) || rec_len == NULL)
        return tc_err_set(TC_ERR_USAGE, "tc_record_frame: missing buffer");
    if (len < TC_RECORD_HEADER)
        return 0;
    size_t body_len = get_u16(buf + 3);
    if (body_len > TLS12_MAX_CIPHERTEXT)
        return tc_err_set(TC_ERR_MALFORMED, "record header announces %zu bytes (max %d)",
                          body_len, TLS12_MAX_CIPHERTEXT);
    if (len < TC_RECORD_HEADER + body_len)
        return 0;
    *rec_len = TC_RECORD_HEADER + body_len;
    return 1;
}
