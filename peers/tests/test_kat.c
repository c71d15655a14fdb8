/* Known-answer tests of the peer's key schedule and record layer.
 *
 * TLS 1.3 values are from RFC 8448 §3 ("Simple 1-RTT Handshake"): the
 * handshake and application traffic secrets, the keys and IVs derived from
 * them, and the protected records of the trace. The TLS 1.2 PRF vectors are
 * the P_SHA256 / P_SHA384 "test label" vectors published on the IETF TLS
 * working group list (mail-archive/web/tls/current/msg03416.html), which
 * GnuTLS's PRF tests also use. There is no published vector for the
 * KeyUpdate ratchet, so it is checked against an independent computation:
 * the HkdfLabel bytes written out by hand and fed to EVP_KDF "HKDF". The
 * OpenSSL cross-check (test_xcheck.c) covers it end to end as well. */
#include "record_layer.h"
#include "tc_err.h"
#include "testutil.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <string.h>

/* RFC 8448 §3 */
#define EARLY_SECRET "33 ad 0a 1c 60 7e c0 3b 09 e6 cd 98 93 68 0c e2" \
                     "10 ad f3 00 aa 1f 26 60 e1 b2 2e 10 f1 70 f9 2a"
#define EMPTY_HASH "e3 b0 c4 42 98 fc 1c 14 9a fb f4 c8 99 6f b9 24" \
                   "27 ae 41 e4 64 9b 93 4c a4 95 99 1b 78 52 b8 55"
#define DERIVED "6f 26 15 a1 08 c7 02 c5 67 8f 54 fc 9d ba b6 97" \
                "16 c0 76 18 9c 48 25 0c eb ea c3 57 6c 36 11 ba"
#define C_HS_SECRET "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f" \
                    "3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21"
#define C_HS_KEY "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01"
#define C_HS_IV "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"
#define S_HS_SECRET "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4" \
                    "e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38"
#define S_HS_KEY "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc"
#define S_HS_IV "5d 31 3e b2 67 12 76 ee 13 00 0b 30"
#define C_AP_SECRET "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52" \
                    "87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5"
#define C_AP_KEY "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51"
#define C_AP_IV "5b 78 92 3d ee 08 57 90 33 e5 23 d9"
#define S_AP_SECRET "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32" \
                    "82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43"
#define S_AP_KEY "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56"
#define S_AP_IV "cf 78 2b 88 dd 83 54 9a ad f1 e9 84"

/* {client} send handshake record: the client Finished, under the client
 * handshake traffic key, sequence 0. */
#define C_FINISHED_PLAIN "14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03" \
                         "9e c1 76 94 fa c6 e9 85 27 b6 42 f2 ed d5 ce 61"
#define C_FINISHED_RECORD "17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c" \
                          "56 cc 77 b0 51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac" \
                          "98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7 26 c4 05 46"
/* {server} NewSessionTicket, the first record under the server application
 * key (sequence 0). */
#define S_NST_RECORD "17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5" \
    "13 4a 2b 24 0e 6c ff ac 11 6e 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a" \
    "01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 8e fb cf 57 53 ad 8e f1 70 ad 3c" \
    "73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0 9c 30 ba 1e 62 97" \
    "2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15 13 98 91 d5 e4 c5 b4 06 f1" \
    "6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77 f8 1b 5a b0 5b 94 c0 13 46 75 5f 69" \
    "23 2c 86 51 9d 86 cb ee ac 87 aa c3 47 d1 43 f9 60 5d 64 f6 50 db 4d 02 3e 70 e9" \
    "52 ca 49 fe 51 37 12 1c 74 bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96" \
    "12 9c 81 53 55 6b 3b 6c 67 79 b3 7b f1 59 85 68 4f"
/* {client}/{server} send application_data record: 50 bytes 00..31. */
#define APP_PAYLOAD "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17" \
                    "18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31"
#define C_APP_RECORD "17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55" \
    "cb ef ac ea 42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b" \
    "62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4"
#define S_APP_RECORD "17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4" \
    "a4 69 32 fc 32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8" \
    "fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d"
/* {client}/{server} send alert record: close_notify (01 00). */
#define C_ALERT_RECORD "17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3"
#define S_ALERT_RECORD "17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9"

static const tc_suite *aes128(void)
{
    return tc_suite_by_id(0x1301);
}

static void check_traffic_keys(const char *secret_hex, const char *key_hex, const char *iv_hex)
{
    uint8_t secret[TC_MAX_SECRET];
    size_t n = tu_hex(secret_hex, secret, sizeof secret);
    tc_traffic_keys k;
    if (CHECK_RC(tc13_traffic_keys(aes128(), secret, n, &k), TC_OK)) {
        CHECK_BYTES(k.key, k.key_len, key_hex);
        CHECK_BYTES(k.iv, k.iv_len, iv_hex);
    }
}

static void rfc8448_keys(void)
{
    uint8_t early[32], empty_hash[32], out[32];
    tu_hex(EARLY_SECRET, early, sizeof early);
    tu_hex(EMPTY_HASH, empty_hash, sizeof empty_hash);
    /* Derive-Secret(early, "derived", "") exercises a non-empty context. */
    if (CHECK_RC(tc_hkdf_expand_label("SHA256", early, 32, "derived", empty_hash, 32, out, 32),
                 TC_OK))
        CHECK_BYTES(out, sizeof out, DERIVED);
    check_traffic_keys(C_HS_SECRET, C_HS_KEY, C_HS_IV);
    check_traffic_keys(S_HS_SECRET, S_HS_KEY, S_HS_IV);
    check_traffic_keys(C_AP_SECRET, C_AP_KEY, C_AP_IV);
    check_traffic_keys(S_AP_SECRET, S_AP_KEY, S_AP_IV);

    /* A secret of the wrong length for the suite's hash is refused. */
    tc_traffic_keys k;
    CHECK_RC(tc13_traffic_keys(tc_suite_by_id(0x1302), early, 32, &k), TC_ERR_USAGE);
    CHECK_RC(tc13_traffic_keys(tc_suite_by_id(0xC02B), early, 32, &k), TC_ERR_USAGE);
    CHECK_RC(tc_hkdf_expand_label("SHA256", early, 32, "", NULL, 0, out, 32), TC_ERR_USAGE);
}

static int init_from_hex(tc_direction *d, const char *secret_hex)
{
    uint8_t secret[TC_MAX_SECRET];
    size_t n = tu_hex(secret_hex, secret, sizeof secret);
    return CHECK_RC(tc_direction_init13(d, aes128(), secret, n), TC_OK);
}

/* Unprotects one trace record at the direction's current seq and checks the
 * inner type and content. */
static void open_record(tc_direction *d, const char *record_hex, uint8_t want_type,
                        const char *want_hex)
{
    static uint8_t rec[TC_MAX_RECORD], out[TC_MAX_PLAINTEXT];
    size_t rec_len = tu_hex(record_hex, rec, sizeof rec), out_len = 0;
    uint8_t type = 0;
    uint64_t seq = d->seq;
    if (!CHECK_RC(tc_record_unprotect(d, rec, rec_len, &type, out, sizeof out, &out_len), TC_OK))
        return;
    CHECK(type == want_type);
    CHECK(d->seq == seq + 1);
    if (want_hex)
        CHECK_BYTES(out, out_len, want_hex);
}

static void seal_record(tc_direction *d, uint8_t type, const char *content_hex,
                        const char *want_record_hex)
{
    static uint8_t content[TC_MAX_PLAINTEXT], rec[TC_MAX_RECORD];
    size_t len = tu_hex(content_hex, content, sizeof content), rec_len = 0;
    if (CHECK_RC(tc_record_protect(d, type, content, len, 0, rec, sizeof rec, &rec_len), TC_OK))
        CHECK_BYTES(rec, rec_len, want_record_hex);
}

static void rfc8448_server_records(void)
{
    tc_direction d;
    if (!init_from_hex(&d, S_AP_SECRET))
        return;
    uint8_t rec[512], out[512], type = 0;
    size_t rec_len = tu_hex(S_APP_RECORD, rec, sizeof rec), out_len;
    /* The application data record is sequence 1: at 0 it must not open,
     * and the failure must leave seq where it was. */
    CHECK_RC(tc_record_unprotect(&d, rec, rec_len, &type, out, sizeof out, &out_len),
             TC_ERR_DECRYPT);
    CHECK(d.seq == 0);

    open_record(&d, S_NST_RECORD, TC_CT_HANDSHAKE, NULL);
    open_record(&d, S_APP_RECORD, TC_CT_APPLICATION_DATA, APP_PAYLOAD);
    open_record(&d, S_ALERT_RECORD, TC_CT_ALERT, "01 00");
    tc_direction_free(&d);

    /* The NewSessionTicket's first bytes: type 4, length 0xc9 (201), lifetime 30 s. */
    if (!init_from_hex(&d, S_AP_SECRET))
        return;
    rec_len = tu_hex(S_NST_RECORD, rec, sizeof rec);
    if (CHECK_RC(tc_record_unprotect(&d, rec, rec_len, &type, out, sizeof out, &out_len), TC_OK))
        CHECK_BYTES(out, 12, "04 00 00 c9 00 00 00 1e fa d6 aa c5");
    CHECK(out_len == 205);
    /* Protecting the same content at seq 1 and 2 reproduces the trace. */
    seal_record(&d, TC_CT_APPLICATION_DATA, APP_PAYLOAD, S_APP_RECORD);
    seal_record(&d, TC_CT_ALERT, "01 00", S_ALERT_RECORD);
    tc_direction_free(&d);
}

static void rfc8448_client_records(void)
{
    tc_direction d;
    if (init_from_hex(&d, C_HS_SECRET)) {
        seal_record(&d, TC_CT_HANDSHAKE, C_FINISHED_PLAIN, C_FINISHED_RECORD);
        tc_direction_free(&d);
    }
    if (init_from_hex(&d, C_HS_SECRET)) {
        open_record(&d, C_FINISHED_RECORD, TC_CT_HANDSHAKE, C_FINISHED_PLAIN);
        tc_direction_free(&d);
    }
    if (init_from_hex(&d, C_AP_SECRET)) {
        seal_record(&d, TC_CT_APPLICATION_DATA, APP_PAYLOAD, C_APP_RECORD);
        seal_record(&d, TC_CT_ALERT, "01 00", C_ALERT_RECORD);
        CHECK(d.seq == 2 && d.epoch == 0);
        tc_direction_free(&d);
    }
    if (init_from_hex(&d, C_AP_SECRET)) {
        open_record(&d, C_APP_RECORD, TC_CT_APPLICATION_DATA, APP_PAYLOAD);
        open_record(&d, C_ALERT_RECORD, TC_CT_ALERT, "01 00");
        tc_direction_free(&d);
    }
}

/* HKDF-Expand with the info bytes given, straight through EVP_KDF. */
static int raw_expand(const char *digest, const uint8_t *secret, size_t secret_len,
                      const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
        OSSL_PARAM_construct_end(),
    };
    int ok = kctx != NULL && EVP_KDF_derive(kctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(kctx);
    return ok;
}

/* The next secret per RFC 8446 §7.2, HkdfLabel spelled out byte by byte:
 * length, label length 17, "tls13 traffic upd", empty context. */
static int independent_next(const tc_suite *s, const uint8_t *secret, size_t len, uint8_t *next)
{
    uint8_t info[] = {0, (uint8_t)len, 17, 't', 'l', 's', '1', '3', ' ', 't', 'r', 'a', 'f',
                      'f', 'i', 'c', ' ', 'u', 'p', 'd', 0};
    return raw_expand(s->digest, secret, len, info, sizeof info, next, len);
}

static void keyupdate_one(const tc_suite *s, size_t len)
{
    uint8_t secret[TC_MAX_SECRET], next[TC_MAX_SECRET], want[TC_MAX_SECRET];
    for (size_t i = 0; i < len; i++)
        secret[i] = (uint8_t)(0xA0 + i);
    CHECK(independent_next(s, secret, len, want));
    if (CHECK_RC(tc13_next_secret(s, secret, len, next), TC_OK))
        CHECK(memcmp(next, want, len) == 0);

    /* Two ratchets on a direction: epoch counts, seq restarts, the keys are
     * those of the new secret. */
    tc_direction d;
    if (!CHECK_RC(tc_direction_init13(&d, s, secret, len), TC_OK))
        return;
    d.seq = 7;
    for (unsigned gen = 1; gen <= 2; gen++) {
        uint8_t expect[TC_MAX_SECRET];
        CHECK(independent_next(s, d.secret, len, expect));
        if (!CHECK_RC(tc_direction_update(&d), TC_OK))
            break;
        CHECK(d.epoch == gen && d.seq == 0 && d.secret_len == len);
        CHECK(memcmp(d.secret, expect, len) == 0);
        tc_traffic_keys k;
        if (CHECK_RC(tc13_traffic_keys(s, expect, len, &k), TC_OK))
            CHECK(memcmp(k.key, d.keys.key, k.key_len) == 0
                  && memcmp(k.iv, d.keys.iv, k.iv_len) == 0);
    }
    tc_direction_free(&d);
}

/* A record sealed after the update opens only for a reader that updated
 * too; the stale reader fails cleanly and keeps its seq. */
static void keyupdate_roundtrip(const tc_suite *s, size_t len)
{
    uint8_t secret[TC_MAX_SECRET], rec[256], out[256], type;
    memset(secret, 0x5C, len);
    tc_direction w, r_new, r_old;
    if (!CHECK_RC(tc_direction_init13(&w, s, secret, len), TC_OK)
        || !CHECK_RC(tc_direction_init13(&r_new, s, secret, len), TC_OK)
        || !CHECK_RC(tc_direction_init13(&r_old, s, secret, len), TC_OK))
        return;
    size_t rec_len, out_len;
    CHECK_RC(tc_direction_update(&w), TC_OK);
    CHECK_RC(tc_direction_update(&r_new), TC_OK);
    CHECK_RC(tc_record_protect(&w, TC_CT_ALERT, (const uint8_t *)"\x01\x00", 2, 3, rec,
                               sizeof rec, &rec_len), TC_OK);
    CHECK_RC(tc_record_unprotect(&r_old, rec, rec_len, &type, out, sizeof out, &out_len),
             TC_ERR_DECRYPT);
    CHECK(r_old.seq == 0);
    if (CHECK_RC(tc_record_unprotect(&r_new, rec, rec_len, &type, out, sizeof out, &out_len),
                 TC_OK))
        CHECK(type == TC_CT_ALERT && out_len == 2 && out[0] == 1 && out[1] == 0);
    tc_direction_free(&w);
    tc_direction_free(&r_new);
    tc_direction_free(&r_old);
}

static void keyupdate(void)
{
    keyupdate_one(tc_suite_by_id(0x1301), 32);
    keyupdate_one(tc_suite_by_id(0x1302), 48);
    keyupdate_one(tc_suite_by_id(0x1303), 32);
    keyupdate_roundtrip(tc_suite_by_id(0x1301), 32);
    keyupdate_roundtrip(tc_suite_by_id(0x1302), 48);
    keyupdate_roundtrip(tc_suite_by_id(0x1303), 32);
    /* TLS 1.2 has no KeyUpdate. */
    tc_direction d;
    tc_traffic_keys k = {.key_len = 16, .iv_len = 4};
    if (CHECK_RC(tc_direction_init12(&d, tc_suite_by_id(0xC02B), &k, 1), TC_OK)) {
        CHECK_RC(tc_direction_update(&d), TC_ERR_USAGE);
        tc_direction_free(&d);
    }
}

static void tls12_prf(void)
{
    uint8_t secret[16], seed[16], out[148];
    tu_hex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35", secret, sizeof secret);
    tu_hex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c", seed, sizeof seed);
    if (CHECK_RC(tc12_prf("SHA256", secret, 16, "test label", seed, 16, out, 100), TC_OK))
        CHECK_BYTES(out, 100,
                    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
                    "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
                    "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
                    "87347b66");
    tu_hex("b8 0b 73 3d 6c ee fc dc 71 56 6e a4 8e 55 67 df", secret, sizeof secret);
    tu_hex("cd 66 5c f6 a8 44 7d d6 ff 8b 27 55 5e db 74 65", seed, sizeof seed);
    if (CHECK_RC(tc12_prf("SHA384", secret, 16, "test label", seed, 16, out, 148), TC_OK))
        CHECK_BYTES(out, 148,
                    "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
                    "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
                    "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
                    "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
                    "91c8f3a26854308d5eaa3be85e0990703d73e56f");

    /* The key block is the PRF with "key expansion" over server_random +
     * client_random, cut client key, server key, client IV, server IV. */
    uint8_t master[48], cr[32], sr[32], block[88];
    for (int i = 0; i < 48; i++)
        master[i] = (uint8_t)i;
    memset(cr, 0xC1, sizeof cr);
    memset(sr, 0x5E, sizeof sr);
    uint8_t seed2[64];
    memcpy(seed2, sr, 32);
    memcpy(seed2 + 32, cr, 32);
    const uint16_t ids[] = {0xC02B, 0xC02C, 0xCCA9, 0xC030};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const tc_suite *s = tc_suite_by_id(ids[i]);
        size_t kl = s->key_len, il = s->fixed_iv_len;
        tc_traffic_keys c, sv;
        if (!CHECK_RC(tc12_prf(s->digest, master, 48, "key expansion", seed2, 64, block,
                               2 * kl + 2 * il), TC_OK)
            || !CHECK_RC(tc12_key_block(s, master, cr, sr, &c, &sv), TC_OK))
            continue;
        CHECK(c.key_len == kl && sv.key_len == kl && c.iv_len == il && sv.iv_len == il);
        CHECK(memcmp(c.key, block, kl) == 0 && memcmp(sv.key, block + kl, kl) == 0);
        CHECK(memcmp(c.iv, block + 2 * kl, il) == 0 && memcmp(sv.iv, block + 2 * kl + il, il) == 0);
    }
    tc_traffic_keys c, sv;
    CHECK_RC(tc12_key_block(tc_suite_by_id(0x1301), master, cr, sr, &c, &sv), TC_ERR_USAGE);
}

static void suites(void)
{
    static const struct {
        uint16_t id;
        const char *iana, *openssl;
        int tls13;
        size_t key, iv;
        const char *digest;
    } want[] = {
        {0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 1, 16, 12, "SHA256"},
        {0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", 1, 32, 12, "SHA384"},
        {0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", 1, 32, 12,
         "SHA256"},
        {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", 0,
         16, 4, "SHA256"},
        {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", 0, 16,
         4, "SHA256"},
        {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", 0,
         32, 4, "SHA384"},
        {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", 0, 32,
         4, "SHA384"},
        {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
         "ECDHE-ECDSA-CHACHA20-POLY1305", 0, 32, 12, "SHA256"},
        {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
         0, 32, 12, "SHA256"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const tc_suite *s = tc_suite_by_id(want[i].id);
        if (!CHECK(s != NULL))
            continue;
        CHECK(strcmp(s->name, want[i].iana) == 0);
        CHECK(tc_suite_by_name(want[i].iana) == s);
        CHECK(tc_suite_by_name(want[i].openssl) == s);
        CHECK(s->tls13 == want[i].tls13 && s->key_len == want[i].key && s->fixed_iv_len == want[i].iv);
        CHECK(strcmp(s->digest, want[i].digest) == 0);
    }
    CHECK(tc_suite_by_name("ecdhe-ecdsa-aes128-gcm-sha256") == tc_suite_by_id(0xC02B));
    CHECK(tc_suite_by_id(0x009C) == NULL); /* TLS_RSA_WITH_AES_128_GCM_SHA256 */
    CHECK(tc_suite_by_id(0x1304) == NULL); /* TLS_AES_128_CCM_SHA256 */
    CHECK(tc_suite_by_name("AES128-GCM-SHA256") == NULL);
    CHECK(tc_suite_by_name("") == NULL);
    CHECK(tc_suite_by_name(NULL) == NULL);
}

int main(int argc, char **argv)
{
    static const tu_case cases[] = {
        {"rfc8448_keys", rfc8448_keys},
        {"rfc8448_server_records", rfc8448_server_records},
        {"rfc8448_client_records", rfc8448_client_records},
        {"keyupdate", keyupdate},
        {"tls12_prf", tls12_prf},
        {"suites", suites},
    };
    return tu_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
