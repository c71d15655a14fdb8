/* libFuzzer target: the mock peer's record framing and unprotect path
 * (peers/record_layer.h), the code that parses whatever a SUT sends.
 *
 * Input: byte 0 picks the suite (three TLS 1.3, three TLS 1.2 AEADs), byte 1
 * the mode, the rest is data.
 *   mode even: the data is a byte stream from the network: it is framed
 *   record by record and each complete record is unprotected, as the peer
 *   does. Nothing may read or write out of bounds, and a result other than
 *   TC_OK, TC_ERR_DECRYPT or TC_ERR_MALFORMED is a bug.
 *   mode odd: bytes 2..4 are a content type, a padding length and a byte
 *   position to corrupt (0xff: none); the rest is content. It is protected,
 *   optionally corrupted, then framed and unprotected, so the code after a
 *   successful decryption (inner type, padding) is reached too: an intact
 *   record must come back exactly (a TLS 1.2 type outside 20..23 must be
 *   refused as malformed), a corrupted one must be refused.
 *
 * The keys are fixed (derived once per suite): what is fuzzed is parsing,
 * not cryptography. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record_layer.h"
#include "tc_err.h"

#define N_SUITES 6

static const uint16_t suite_ids[N_SUITES] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xcca9};

typedef struct {
    tc_direction send, recv;
    int ready;
} fuzz_pair;

static fuzz_pair pairs[N_SUITES];
static uint8_t out[TC_MAX_RECORD + 64];
static uint8_t rec[TC_MAX_RECORD + 64];

static void die_if(int bad)
{
    if (bad)
        abort();
}

/* One protect direction and one unprotect direction with the same keys. */
static fuzz_pair *pair_for(uint8_t pick)
{
    int i = pick % N_SUITES;
    fuzz_pair *p = &pairs[i];
    if (p->ready)
        return p;
    const tc_suite *suite = tc_suite_by_id(suite_ids[i]);
    die_if(suite == NULL);
    if (suite->tls13) {
        uint8_t secret[TC_MAX_SECRET];
        size_t len = strcmp(suite->digest, "SHA384") == 0 ? 48 : 32;
        memset(secret, 0x5a, sizeof secret);
        die_if(tc_direction_init13(&p->send, suite, secret, len) != TC_OK);
        die_if(tc_direction_init13(&p->recv, suite, secret, len) != TC_OK);
    } else {
        tc_traffic_keys keys = {.key_len = suite->key_len, .iv_len = suite->fixed_iv_len};
        memset(keys.key, 0x3c, sizeof keys.key);
        memset(keys.iv, 0xc3, sizeof keys.iv);
        die_if(tc_direction_init12(&p->send, suite, &keys, 1) != TC_OK);
        die_if(tc_direction_init12(&p->recv, suite, &keys, 1) != TC_OK);
    }
    p->ready = 1;
    return p;
}

static int expected(int rc)
{
    return rc == TC_OK || rc == TC_ERR_DECRYPT || rc == TC_ERR_MALFORMED;
}

static void stream(tc_direction *d, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        size_t rec_len = 0;
        int r = tc_record_frame(buf + off, len - off, &rec_len);
        if (r != 1) {
            die_if(r != 0 && r != TC_ERR_MALFORMED);
            return;
        }
        die_if(rec_len < TC_RECORD_HEADER || rec_len > len - off);
        uint8_t type = 0;
        size_t out_len = 0;
        int rc = tc_record_unprotect(d, buf + off, rec_len, &type, out, sizeof out, &out_len);
        die_if(!expected(rc));
        die_if(rc == TC_OK && out_len > TC_MAX_PLAINTEXT + 2048);
        off += rec_len;
    }
}

static void round_trip(fuzz_pair *p, const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    uint8_t type = data[0], pad = data[1], corrupt = data[2];
    const uint8_t *content = data + 3;
    size_t len = size - 3, rec_len = 0;
    int rc = tc_record_protect(&p->send, type, content, len, pad, rec, sizeof rec, &rec_len);
    /* The contract: over-long content is refused as malformed, and TLS 1.3's
     * inner type 0 (reserved for padding) as a caller's error. */
    bool tls13 = p->send.version == 0x0304;
    die_if(rc == TC_ERR_USAGE && !(tls13 && type == 0));
    die_if(rc != TC_OK && rc != TC_ERR_MALFORMED && rc != TC_ERR_USAGE);
    if (rc != TC_OK)
        return;
    die_if(rec_len > sizeof rec);
    if (corrupt != 0xff)
        rec[corrupt % rec_len] ^= 0x01;
    size_t framed = 0;
    int r = tc_record_frame(rec, rec_len, &framed);
    die_if(corrupt == 0xff && (r != 1 || framed != rec_len));
    if (r != 1 || framed != rec_len)
        return;
    uint8_t got_type = 0;
    size_t out_len = 0;
    rc = tc_record_unprotect(&p->recv, rec, rec_len, &got_type, out, sizeof out, &out_len);
    die_if(!expected(rc));
    if (corrupt != 0xff) {
        /* A flipped bit in the header's length is caught by framing above;
         * anywhere else authentication must fail. */
        die_if(rc == TC_OK);
        return;
    }
    /* The peer may send any outer type, but a TLS 1.2 record it receives
     * must carry one of the four types (20..23); anything else is malformed. */
    if (!tls13 && (type < TC_CT_CHANGE_CIPHER_SPEC || type > TC_CT_APPLICATION_DATA)) {
        die_if(rc != TC_ERR_MALFORMED);
        return;
    }
    die_if(rc != TC_OK || got_type != type || out_len != len || memcmp(out, content, len) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fuzz_pair *p = pair_for(data[0]);
    p->send.seq = p->recv.seq = 1;
    if (data[1] & 1)
        round_trip(p, data + 2, size - 2);
    else
        stream(&p->recv, data + 2, size - 2);
    return 0;
}
