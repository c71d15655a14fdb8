/* record_layer: protect and unprotect TLS records with our own keys.
 *
 * One tc_direction holds the state of one direction of one connection: the
 * AEAD, key, IV and the 64-bit sequence number, and for TLS 1.3 the current
 * traffic secret and its generation ("epoch": 0 for
 * application_traffic_secret_0, +1 per KeyUpdate).
 *
 * Contract:
 * - tc_record_protect() builds one complete record (5-byte header + body)
 *   and increments seq only when it returns TC_OK.
 * - tc_record_unprotect() takes one complete record; on TC_ERR_DECRYPT it
 *   leaves seq unchanged (so a caller may try the same record under another
 *   key), on TC_OK it increments seq.
 * - Neither ever reads or writes outside the buffers given; both refuse
 *   lengths the RFCs forbid with TC_ERR_MALFORMED rather than guess.
 * - Only protected records go through here; plaintext records (handshake
 *   before keys, change_cipher_spec) are framed with tc_record_frame().
 *
 * TLS 1.3 (RFC 8446 §5.2): outer type application_data, legacy version
 * 0x0303, inner plaintext = content || type || zero padding, nonce = iv XOR
 * seq, additional data = the record header.
 * TLS 1.2 AES-GCM (RFC 5288): explicit 8-byte nonce (we send seq) after the
 * header, nonce = salt || explicit, AAD = seq || type || version || length.
 * TLS 1.2 ChaCha20-Poly1305 (RFC 7905): no explicit nonce, nonce = iv XOR
 * seq, same AAD. */
#ifndef TLSCLOSE_RECORD_LAYER_H
#define TLSCLOSE_RECORD_LAYER_H

#include "key_schedule.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define TC_RECORD_HEADER 5
#define TC_MAX_PLAINTEXT 16384                   /* 2^14 */
#define TC_MAX_CIPHERTEXT (TC_MAX_PLAINTEXT + 256) /* 8446 §5.2 bound; 1.2 allows 2048 more */
#define TC_MAX_RECORD (TC_RECORD_HEADER + TC_MAX_PLAINTEXT + 2048)

enum {
    TC_CT_CHANGE_CIPHER_SPEC = 20,
    TC_CT_ALERT = 21,
    TC_CT_HANDSHAKE = 22,
    TC_CT_APPLICATION_DATA = 23,
};

typedef struct {
    const tc_suite *suite;
    uint16_t version;          /* 0x0303 (TLS 1.2) or 0x0304 (TLS 1.3) */
    tc_traffic_keys keys;
    uint64_t seq;
    unsigned epoch;            /* TLS 1.3 key generation; 0 for TLS 1.2 */
    uint8_t secret[TC_MAX_SECRET]; /* TLS 1.3 only */
    size_t secret_len;
    EVP_CIPHER_CTX *ctx;
} tc_direction;

/* TLS 1.3 direction from an application traffic secret; seq 0, epoch 0. */
int tc_direction_init13(tc_direction *d, const tc_suite *suite,
                        const uint8_t *secret, size_t secret_len);

/* TLS 1.2 direction from a write key and fixed IV; seq as given (the
 * handshake's Finished already used seq 0). */
int tc_direction_init12(tc_direction *d, const tc_suite *suite,
                        const tc_traffic_keys *keys, uint64_t seq);

/* TLS 1.3 KeyUpdate: next secret, new key and IV, seq 0, epoch + 1. */
int tc_direction_update(tc_direction *d);

void tc_direction_free(tc_direction *d);

/* Protects `len` bytes of content type `type` into out (out_cap bytes) as
 * one record; TLS 1.3 appends `pad` zero bytes of padding to the inner
 * plaintext (ignored for TLS 1.2). *out_len gets the record size. */
int tc_record_protect(tc_direction *d, uint8_t type, const uint8_t *content, size_t len,
                      size_t pad, uint8_t *out, size_t out_cap, size_t *out_len);

/* Unprotects one complete record rec[0..rec_len). On TC_OK *type is the real
 * content type (the inner type for TLS 1.3, padding removed) and the content
 * is in out[0..*out_len). TC_ERR_DECRYPT: authentication failed.
 * TC_ERR_MALFORMED: wrong outer type or version, too short, too long, or a
 * TLS 1.3 inner plaintext of all zeros. */
int tc_record_unprotect(tc_direction *d, const uint8_t *rec, size_t rec_len,
                        uint8_t *type, uint8_t *out, size_t out_cap, size_t *out_len);

/* Framing: if buf[0..len) starts with a complete record, returns 1 and sets
 * *rec_len (header included); 0 if more bytes are needed; TC_ERR_MALFORMED
 * if the header's length exceeds what any version allows (2^14 + 2048). */
int tc_record_frame(const uint8_t *buf, size_t len, size_t *rec_len);

#endif
