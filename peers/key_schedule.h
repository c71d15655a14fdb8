/* key_schedule: traffic keys for the record layer the mock peer takes over.
 *
 * TLS 1.3 (RFC 8446 §7.1, §7.3): HKDF-Expand-Label over the application
 * traffic secrets the library exported, and the KeyUpdate ratchet
 * ("traffic upd"). TLS 1.2 (RFC 5246 §6.3, RFC 5288, RFC 7905): the key block
 * from the master secret and both randoms through the TLS 1.2 PRF.
 *
 * All derivations go through OpenSSL 3 EVP_KDF ("HKDF" in expand-only mode,
 * "TLS1-PRF"); nothing here implements a hash or a cipher by hand.
 * Functions return TC_OK or a negative tc_err (see tc_err.h). */
#ifndef TLSCLOSE_KEY_SCHEDULE_H
#define TLSCLOSE_KEY_SCHEDULE_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define TC_MAX_SECRET 48 /* SHA-384 */
#define TC_MAX_KEY 32
#define TC_MAX_IV 12

typedef enum {
    TC_AEAD_AES_128_GCM,
    TC_AEAD_AES_256_GCM,
    TC_AEAD_CHACHA20_POLY1305,
} tc_aead;

/* A cipher suite as far as the record layer cares. */
typedef struct {
    uint16_t id;          /* IANA value, e.g. 0x1301 */
    const char *name;     /* IANA name, e.g. "TLS_AES_128_GCM_SHA256" */
    int tls13;            /* 1 for a TLS 1.3 suite */
    tc_aead aead;
    const char *digest;   /* "SHA256" or "SHA384": HKDF / PRF hash */
    size_t key_len;       /* 16 or 32 */
    size_t fixed_iv_len;  /* TLS 1.3: 12; TLS 1.2 GCM: 4 (salt); ChaCha20: 12 */
} tc_suite;

/* Looks up a supported suite by IANA id: the three TLS 1.3 suites and
 * TLS 1.2 ECDHE-{ECDSA,RSA} with AES-128-GCM, AES-256-GCM,
 * ChaCha20-Poly1305. NULL if unsupported. */
const tc_suite *tc_suite_by_id(uint16_t id);

/* The same by IANA name or OpenSSL name ("ECDHE-ECDSA-AES128-GCM-SHA256"). */
const tc_suite *tc_suite_by_name(const char *name);

/* Key and IV of one direction. */
typedef struct {
    uint8_t key[TC_MAX_KEY];
    size_t key_len;
    uint8_t iv[TC_MAX_IV];
    size_t iv_len;
} tc_traffic_keys;

/* HKDF-Expand-Label(secret, label, context, out_len) with "tls13 " prefixed
 * to label (RFC 8446 §7.1). */
int tc_hkdf_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
                         const char *label, const uint8_t *context, size_t context_len,
                         uint8_t *out, size_t out_len);

/* TLS 1.3: [sender]_write_key and _iv from a traffic secret (§7.3). */
int tc13_traffic_keys(const tc_suite *suite, const uint8_t *secret, size_t secret_len,
                      tc_traffic_keys *out);

/* TLS 1.3: application_traffic_secret_N+1 from _N (§7.2), into next
 * (secret_len bytes). */
int tc13_next_secret(const tc_suite *suite, const uint8_t *secret, size_t secret_len,
                     uint8_t *next);

/* TLS 1.2: client and server write keys and fixed IVs from the key block
 * PRF(master_secret, "key expansion", server_random + client_random). AEAD
 * suites have no MAC keys. */
int tc12_key_block(const tc_suite *suite, const uint8_t master[48],
                   const uint8_t client_random[32], const uint8_t server_random[32],
                   tc_traffic_keys *client_write, tc_traffic_keys *server_write);

/* TLS 1.2 PRF (RFC 5246 §5): P_<digest>(secret, label + seed), out_len
 * bytes. Exposed so the PRF itself can be checked against published vectors;
 * tc12_key_block is this with label "key expansion". */
int tc12_prf(const char *digest, const uint8_t *secret, size_t secret_len,
             const char *label, const uint8_t *seed, size_t seed_len,
             uint8_t *out, size_t out_len);

#endif
