/* Robustness of framing and unprotection against bytes a misbehaving or
 * fuzzed SUT could send: truncated, extended, oversized, zero-length,
 * bit-flipped and random records. Every input lives in a heap block of
 * exactly its size, so an over-read is caught by AddressSanitizer; outputs
 * carry a guard area that must stay untouched. Every failure must leave the
 * sequence number where it was, and the direction must still open the next
 * genuine record afterwards. Random cases come from fixed seeds. */
#include "record_layer.h"
#include "tc_err.h"
#include "testutil.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANDOM_CASES 3000
#define GUARD 64
#define GUARD_BYTE 0xA5

static uint8_t out_buf[TC_MAX_CIPHERTEXT + GUARD];

/* A copy of bytes in a block of exactly len bytes. */
static uint8_t *exact_copy(const uint8_t *p, size_t len)
{
    uint8_t *q = malloc(len > 0 ? len : 1);
    if (q == NULL) {
        perror("malloc");
        exit(2);
    }
    if (len > 0)
        memcpy(q, p, len);
    return q;
}

/* Unprotects a copy of rec with an output of out_cap bytes followed by a
 * guard; checks the guard, and that seq moved only on success. */
static int try_open(tc_direction *d, const uint8_t *rec, size_t rec_len, size_t out_cap,
                    uint8_t *type, size_t *out_len)
{
    uint8_t *copy = exact_copy(rec, rec_len);
    memset(out_buf, GUARD_BYTE, sizeof out_buf);
    uint64_t seq = d->seq;
    int rc = tc_record_unprotect(d, copy, rec_len, type, out_buf, out_cap, out_len);
    free(copy);
    for (size_t i = out_cap; i < out_cap + GUARD; i++)
        if (!CHECK(out_buf[i] == GUARD_BYTE))
            break;
    CHECK(d->seq == (rc == TC_OK ? seq + 1 : seq));
    return rc;
}

static int open_rc(tc_direction *d, const uint8_t *rec, size_t rec_len)
{
    uint8_t type;
    size_t out_len;
    return try_open(d, rec, rec_len, TC_MAX_PLAINTEXT, &type, &out_len);
}

static const uint8_t secret48[TC_MAX_SECRET] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48};

/* A writer and a reader with the same keys; TLS 1.2 starts at seq 1. */
static int make_pair(const tc_suite *s, tc_direction *w, tc_direction *r)
{
    if (s->tls13) {
        size_t len = strcmp(s->digest, "SHA384") == 0 ? 48 : 32;
        return CHECK_RC(tc_direction_init13(w, s, secret48, len), TC_OK)
               && CHECK_RC(tc_direction_init13(r, s, secret48, len), TC_OK);
    }
    tc_traffic_keys k = {.key_len = s->key_len, .iv_len = s->fixed_iv_len};
    memcpy(k.key, secret48, k.key_len);
    memcpy(k.iv, secret48 + 32, k.iv_len);
    return CHECK_RC(tc_direction_init12(w, s, &k, 1), TC_OK)
           && CHECK_RC(tc_direction_init12(r, s, &k, 1), TC_OK);
}

static size_t seal(tc_direction *w, uint8_t type, size_t len, size_t pad, uint8_t *rec,
                   size_t cap)
{
    static uint8_t content[TC_MAX_PLAINTEXT];
    for (size_t i = 0; i < len; i++)
        content[i] = (uint8_t)(i + 1);
    size_t rec_len = 0;
    CHECK_RC(tc_record_protect(w, type, content, len, pad, rec, cap, &rec_len), TC_OK);
    return rec_len;
}

/* Every prefix, one extra byte, and every single-bit flip of a genuine
 * record fail; the genuine record then still opens. */
static void mutations(const tc_suite *s)
{
    tc_direction w, r;
    if (!make_pair(s, &w, &r))
        return;
    uint8_t rec[256];
    size_t rec_len = seal(&w, TC_CT_APPLICATION_DATA, 40, 3, rec, sizeof rec - 1);
    for (size_t n = 0; n < rec_len; n++)
        CHECK_RC(open_rc(&r, rec, n), TC_ERR_MALFORMED);
    rec[rec_len] = 0;
    CHECK_RC(open_rc(&r, rec, rec_len + 1), TC_ERR_MALFORMED);
    for (size_t bit = 0; bit < rec_len * 8; bit++) {
        rec[bit / 8] ^= (uint8_t)(1u << bit % 8);
        int rc = open_rc(&r, rec, rec_len);
        /* Version and length bytes are checked before decryption; a
         * changed TLS 1.2 type that is still a valid type changes the AAD. */
        int want = bit / 8 == 0 && s->tls13 ? TC_ERR_MALFORMED
                   : bit / 8 == 0           ? rc
                   : bit / 8 < 5            ? TC_ERR_MALFORMED
                                            : TC_ERR_DECRYPT;
        CHECK(rc == TC_ERR_DECRYPT || rc == TC_ERR_MALFORMED);
        CHECK_RC(rc, want);
        rec[bit / 8] ^= (uint8_t)(1u << bit % 8);
    }
    CHECK_RC(open_rc(&r, rec, rec_len), TC_OK);
    tc_direction_free(&w);
    tc_direction_free(&r);
}

static void put_header(uint8_t *rec, uint8_t type, uint16_t version, size_t body_len)
{
    rec[0] = type;
    rec[1] = (uint8_t)(version >> 8);
    rec[2] = (uint8_t)version;
    rec[3] = (uint8_t)(body_len >> 8);
    rec[4] = (uint8_t)body_len;
}

/* Headers that are wrong before any decryption, and bodies of the wrong
 * size. The buffer is large enough for the largest record either version
 * allows plus one. */
static void headers_and_sizes(const tc_suite *s)
{
    static uint8_t rec[TC_RECORD_HEADER + 0xFFFF];
    tc_direction w, r;
    if (!make_pair(s, &w, &r))
        return;
    size_t explicit_len = !s->tls13 && s->aead != TC_AEAD_CHACHA20_POLY1305 ? 8 : 0;
    size_t min_body = s->tls13 ? 17 : explicit_len + 16;
    memset(rec, 0x3C, sizeof rec);
    struct { uint8_t type; uint16_t version; size_t body; int want; } cases[] = {
        {23, 0x0303, 0, TC_ERR_MALFORMED},
        {23, 0x0303, min_body - 1, TC_ERR_MALFORMED},
        {23, 0x0303, min_body, TC_ERR_DECRYPT},
        {23, 0x0301, 40, TC_ERR_MALFORMED},
        {23, 0x0304, 40, TC_ERR_MALFORMED},
        {0, 0x0303, 40, TC_ERR_MALFORMED},
        {24, 0x0303, 40, TC_ERR_MALFORMED},
        {255, 0x0303, 40, TC_ERR_MALFORMED},
        {21, 0x0303, 40, s->tls13 ? TC_ERR_MALFORMED : TC_ERR_DECRYPT},
        {22, 0x0303, 40, s->tls13 ? TC_ERR_MALFORMED : TC_ERR_DECRYPT},
        /* The largest body each version allows, then one more. */
        {23, 0x0303, s->tls13 ? TC_MAX_CIPHERTEXT : explicit_len + TC_MAX_PLAINTEXT + 16,
         TC_ERR_DECRYPT},
        {23, 0x0303, s->tls13 ? TC_MAX_CIPHERTEXT + 1 : explicit_len + TC_MAX_PLAINTEXT + 17,
         TC_ERR_MALFORMED},
        {23, 0x0303, TC_MAX_PLAINTEXT + 2048, TC_ERR_MALFORMED},
        {23, 0x0303, TC_MAX_PLAINTEXT + 2049, TC_ERR_MALFORMED},
        {23, 0x0303, 0xFFFF, TC_ERR_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_header(rec, cases[i].type, cases[i].version, cases[i].body);
        if (!CHECK_RC(open_rc(&r, rec, TC_RECORD_HEADER + cases[i].body), cases[i].want))
            fprintf(stderr, "  case %zu: type %u version %04x body %zu\n", i, cases[i].type,
                    cases[i].version, cases[i].body);
    }
    /* A genuine record still opens after all that. */
    size_t n = seal(&w, TC_CT_APPLICATION_DATA, 10, 0, rec, sizeof rec);
    CHECK_RC(open_rc(&r, rec, n), TC_OK);
    tc_direction_free(&w);
    tc_direction_free(&r);
}

/* Too small an output buffer is the caller's problem (TC_ERR_USAGE), is
 * detected without writing past it, and costs no sequence number. */
static void small_output(const tc_suite *s)
{
    tc_direction w, r;
    if (!make_pair(s, &w, &r))
        return;
    uint8_t rec[512], type;
    size_t out_len, n = seal(&w, TC_CT_APPLICATION_DATA, 100, 50, rec, sizeof rec);
    CHECK_RC(try_open(&r, rec, n, 99, &type, &out_len), TC_ERR_USAGE);
    CHECK_RC(try_open(&r, rec, n, 0, &type, &out_len), TC_ERR_USAGE);
    if (CHECK_RC(try_open(&r, rec, n, 100, &type, &out_len), TC_OK))
        CHECK(out_len == 100 && type == TC_CT_APPLICATION_DATA);
    /* Empty content is legal for every type at this layer. */
    n = seal(&w, TC_CT_ALERT, 0, 0, rec, sizeof rec);
    if (CHECK_RC(try_open(&r, rec, n, 0, &type, &out_len), TC_OK))
        CHECK(out_len == 0 && type == TC_CT_ALERT);
    /* Protect refuses what it may not build. */
    static uint8_t big[TC_MAX_RECORD];
    size_t len;
    CHECK_RC(tc_record_protect(&w, 23, big, TC_MAX_PLAINTEXT + 1, 0, big, sizeof big, &len),
             TC_ERR_MALFORMED);
    CHECK_RC(tc_record_protect(&w, 23, big, 10, 0, big, 10, &len), TC_ERR_USAGE);
    if (s->tls13) {
        /* content + type + padding: 2^14 + 1 is the limit, one more is refused. */
        CHECK_RC(tc_record_protect(&w, 23, big, 100, TC_MAX_PLAINTEXT - 100, big, sizeof big,
                                   &len), TC_OK);
        CHECK_RC(tc_record_protect(&w, 23, big, 100, TC_MAX_PLAINTEXT - 99, big, sizeof big,
                                   &len), TC_ERR_MALFORMED);
        CHECK_RC(tc_record_protect(&w, 0, big, 10, 0, big, sizeof big, &len), TC_ERR_USAGE);
    }
    tc_direction_free(&w);
    tc_direction_free(&r);
}

/* TLS 1.3 inner plaintexts our protect would never build, sealed here
 * directly with EVP (RFC 8446 §5.2): all zeros, and one byte over the
 * 2^14 + 1 limit. Both authenticate and must still be refused. */
static size_t raw_seal13(const tc_direction *d, const uint8_t *inner, size_t inner_len,
                         uint8_t *rec)
{
    const EVP_CIPHER *c = d->suite->aead == TC_AEAD_AES_128_GCM   ? EVP_aes_128_gcm()
                          : d->suite->aead == TC_AEAD_AES_256_GCM ? EVP_aes_256_gcm()
                                                                  : EVP_chacha20_poly1305();
    uint8_t nonce[12];
    memcpy(nonce, d->keys.iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (uint8_t)(d->seq >> (56 - 8 * i));
    put_header(rec, 23, 0x0303, inner_len + 16);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, f = 0;
    int ok = ctx && EVP_EncryptInit_ex(ctx, c, NULL, d->keys.key, nonce) == 1
             && EVP_EncryptUpdate(ctx, NULL, &n, rec, 5) == 1
             && EVP_EncryptUpdate(ctx, rec + 5, &n, inner, (int)inner_len) == 1
             && EVP_EncryptFinal_ex(ctx, rec + 5 + n, &f) == 1
             && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, rec + 5 + inner_len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    CHECK(ok);
    return 5 + inner_len + 16;
}

static void inner_plaintext13(const tc_suite *s)
{
    static uint8_t inner[TC_MAX_CIPHERTEXT], rec[TC_MAX_RECORD], mine[TC_MAX_RECORD];
    tc_direction w, r;
    if (!make_pair(s, &w, &r))
        return;
    /* The raw sealer agrees with tc_record_protect on a normal record. */
    memset(inner, 0, sizeof inner);
    for (int i = 0; i < 20; i++)
        inner[i] = (uint8_t)(i + 1);
    inner[20] = TC_CT_APPLICATION_DATA;
    size_t n = raw_seal13(&w, inner, 21 + 4, rec);
    size_t m = 0;
    CHECK_RC(tc_record_protect(&w, TC_CT_APPLICATION_DATA, inner, 20, 4, mine, sizeof mine, &m),
             TC_OK);
    CHECK(m == n && memcmp(rec, mine, n) == 0);
    CHECK_RC(open_rc(&r, rec, n), TC_OK);

    memset(inner, 0, sizeof inner);
    n = raw_seal13(&r, inner, 5, rec);
    CHECK_RC(open_rc(&r, rec, n), TC_ERR_MALFORMED);
    n = raw_seal13(&r, inner, 1, rec);
    CHECK_RC(open_rc(&r, rec, n), TC_ERR_MALFORMED);
    inner[TC_MAX_PLAINTEXT + 1] = TC_CT_APPLICATION_DATA; /* 2^14 + 1 content bytes */
    n = raw_seal13(&r, inner, TC_MAX_PLAINTEXT + 2, rec);
    CHECK_RC(open_rc(&r, rec, n), TC_ERR_MALFORMED);
    /* Exactly at the limit: 2^14 content + type. */
    memset(inner, 0, sizeof inner);
    inner[TC_MAX_PLAINTEXT] = TC_CT_APPLICATION_DATA;
    n = raw_seal13(&r, inner, TC_MAX_PLAINTEXT + 1, rec);
    CHECK_RC(open_rc(&r, rec, n), TC_OK);
    tc_direction_free(&w);
    tc_direction_free(&r);
}

/* Random bodies under a plausible header, then entirely random bytes:
 * never a success, never a crash, never a moved seq. */
static void random_records(const tc_suite *s, uint64_t seed)
{
    static uint8_t rec[TC_RECORD_HEADER + 0xFFFF];
    tc_direction w, r;
    if (!make_pair(s, &w, &r))
        return;
    uint64_t st = seed;
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < RANDOM_CASES; i++) {
        size_t body = (size_t)(tu_rand(&st) % 700);
        for (size_t j = 0; j < TC_RECORD_HEADER + body; j++)
            rec[j] = (uint8_t)tu_rand(&st);
        if (i % 2 == 0)
            put_header(rec, s->tls13 ? 23 : (uint8_t)(20 + tu_rand(&st) % 4), 0x0303, body);
        size_t len = i % 5 == 0 ? (size_t)(tu_rand(&st) % (TC_RECORD_HEADER + body + 1))
                                : TC_RECORD_HEADER + body;
        int rc = open_rc(&r, rec, len);
        if (!CHECK(rc == TC_ERR_DECRYPT || rc == TC_ERR_MALFORMED))
            break;
        counts[rc == TC_ERR_DECRYPT]++;
        size_t fl = 0;
        uint8_t *copy = exact_copy(rec, len);
        int f = tc_record_frame(copy, len, &fl);
        free(copy);
        CHECK(f == 0 || f == TC_ERR_MALFORMED || (f == 1 && fl <= len));
        counts[2] += f == 1;
    }
    printf("%s: %d random records: %d malformed, %d failed authentication, %d framed\n",
           s->name, RANDOM_CASES, counts[0], counts[1], counts[2]);
    size_t n = seal(&w, TC_CT_APPLICATION_DATA, 33, 0, rec, sizeof rec);
    CHECK_RC(open_rc(&r, rec, n), TC_OK);
    tc_direction_free(&w);
    tc_direction_free(&r);
}

static void unprotect_version(int tls13)
{
    static const uint16_t ids13[] = {0x1301, 0x1302, 0x1303};
    static const uint16_t ids12[] = {0xC02B, 0xC02C, 0xCCA9};
    for (size_t i = 0; i < 3; i++) {
        const tc_suite *s = tc_suite_by_id(tls13 ? ids13[i] : ids12[i]);
        mutations(s);
        headers_and_sizes(s);
        small_output(s);
        if (tls13)
            inner_plaintext13(s);
        random_records(s, 0x5EED0000u + s->id);
    }
}

static void unprotect13(void)
{
    unprotect_version(1);
}

static void unprotect12(void)
{
    unprotect_version(0);
}

static int frame_copy(const uint8_t *buf, size_t len, size_t *rec_len)
{
    uint8_t *copy = exact_copy(buf, len);
    int rc = tc_record_frame(copy, len, rec_len);
    free(copy);
    return rc;
}

static void frame(void)
{
    static uint8_t buf[TC_RECORD_HEADER + 0xFFFF];
    size_t rl = 0;
    memset(buf, 0xEE, sizeof buf);
    for (size_t n = 0; n < TC_RECORD_HEADER; n++)
        CHECK_RC(frame_copy(buf, n, &rl), 0);
    CHECK_RC(tc_record_frame(NULL, 0, &rl), 0);
    const size_t bodies[] = {0, 1, 100, TC_MAX_PLAINTEXT + 256, TC_MAX_PLAINTEXT + 2048};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        size_t b = bodies[i];
        put_header(buf, 23, 0x0303, b);
        if (b > 0)
            CHECK_RC(frame_copy(buf, TC_RECORD_HEADER + b - 1, &rl), 0);
        rl = 0;
        if (CHECK_RC(frame_copy(buf, TC_RECORD_HEADER + b, &rl), 1))
            CHECK(rl == TC_RECORD_HEADER + b);
        if (CHECK_RC(frame_copy(buf, TC_RECORD_HEADER + b + 7, &rl), 1))
            CHECK(rl == TC_RECORD_HEADER + b);
    }
    /* Over 2^14 + 2048 is refused from the header alone. */
    const size_t over[] = {TC_MAX_PLAINTEXT + 2049, 0x8000, 0xFFFF};
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        put_header(buf, 23, 0x0303, over[i]);
        CHECK_RC(frame_copy(buf, TC_RECORD_HEADER, &rl), TC_ERR_MALFORMED);
        CHECK_RC(frame_copy(buf, TC_RECORD_HEADER + over[i], &rl), TC_ERR_MALFORMED);
    }
    /* Random prefixes: the answer follows from the header alone. */
    uint64_t st = 0xF4A3E;
    for (int i = 0; i < RANDOM_CASES; i++) {
        size_t len = (size_t)(tu_rand(&st) % 80);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)tu_rand(&st);
        if (len >= TC_RECORD_HEADER && i % 2 == 0)
            buf[3] = 0; /* small lengths often complete */
        int rc = frame_copy(buf, len, &rl);
        size_t body = len >= TC_RECORD_HEADER ? (size_t)buf[3] << 8 | buf[4] : 0;
        int want = len < TC_RECORD_HEADER                ? 0
                   : body > TC_MAX_PLAINTEXT + 2048      ? TC_ERR_MALFORMED
                   : len < TC_RECORD_HEADER + body       ? 0
                                                         : 1;
        if (!CHECK_RC(rc, want))
            break;
        if (rc == 1)
            CHECK(rl == TC_RECORD_HEADER + body);
    }
}

int main(int argc, char **argv)
{
    static const tu_case cases[] = {
        {"frame", frame},
        {"unprotect13", unprotect13},
        {"unprotect12", unprotect12},
    };
    return tu_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
