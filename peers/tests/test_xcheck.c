/* Cross-check of the peer's record layer against OpenSSL's, one suite per
 * run (argv[1], IANA name).
 *
 * Client and server are OpenSSL SSL objects in this process, talking over
 * memory BIOs, with an ephemeral key and self-signed certificate made here
 * (no files). After the handshake the test derives the traffic keys the way
 * the mock peer does (TLS 1.3: key-log secrets; TLS 1.2: master secret and
 * randoms) and then, in both directions: opens what OpenSSL wrote, and
 * writes records of its own that OpenSSL must accept, keeping the sequence
 * numbers of the shared stream exact. TLS 1.3 adds a KeyUpdate each way and
 * both sides' close_notify. */
#include "record_layer.h"
#include "tc_err.h"
#include "testutil.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPENED 8
#define WIRE_CAP (8 * TC_MAX_RECORD)

typedef struct {
    uint8_t client[TC_MAX_SECRET], server[TC_MAX_SECRET];
    size_t client_len, server_len;
} keylog_secrets;

typedef struct {
    const tc_suite *suite;
    SSL_CTX *sctx, *cctx;
    SSL *c, *s;
    BIO *c_in, *c_out, *s_in, *s_out;
    keylog_secrets secrets;
    tc_direction cw, sw; /* client->server and server->client, as the peer sees them */
} pair;

typedef struct {
    uint8_t type;
    unsigned epoch;
    uint64_t seq;
    size_t len;
    uint8_t data[TC_MAX_PLAINTEXT];
    uint8_t explicit_nonce[8];
} opened;

static opened recs[MAX_OPENED];
static uint8_t wire[WIRE_CAP];

static void fill(uint8_t *p, size_t n, uint8_t salt)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + salt);
}

static X509 *self_signed(EVP_PKEY *key)
{
    X509 *x = X509_new();
    if (x == NULL)
        return NULL;
    X509_NAME *name = X509_get_subject_name(x);
    int ok = X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 1)
             && X509_gmtime_adj(X509_getm_notBefore(x), -60)
             && X509_gmtime_adj(X509_getm_notAfter(x), 3600) && X509_set_pubkey(x, key)
             && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                           (const unsigned char *)"localhost", -1, -1, 0)
             && X509_set_issuer_name(x, name) && X509_sign(x, key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int from_hex(const char *hex, size_t hex_len, uint8_t *out, size_t cap, size_t *len)
{
    if (hex_len % 2 != 0 || hex_len / 2 > cap)
        return 0;
    for (size_t i = 0; i < hex_len / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (uint8_t)v;
    }
    *len = hex_len / 2;
    return 1;
}

/* "LABEL <client_random> <secret>" (NSS key log format). */
static void keylog_cb(const SSL *ssl, const char *line)
{
    keylog_secrets *ks = SSL_get_app_data(ssl);
    const char *secret = strrchr(line, ' ');
    if (ks == NULL || secret == NULL)
        return;
    secret++;
    if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0)
        from_hex(secret, strlen(secret), ks->client, sizeof ks->client, &ks->client_len);
    else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0)
        from_hex(secret, strlen(secret), ks->server, sizeof ks->server, &ks->server_len);
}

static SSL_CTX *make_ctx(const tc_suite *suite, const char *openssl_name, int server,
                         EVP_PKEY *key, X509 *cert)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL)
        return NULL;
    int v = suite->tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    int ok = SSL_CTX_set_min_proto_version(ctx, v) && SSL_CTX_set_max_proto_version(ctx, v);
    ok = ok && (suite->tls13 ? SSL_CTX_set_ciphersuites(ctx, openssl_name)
                             : SSL_CTX_set_cipher_list(ctx, openssl_name));
    if (ok && server)
        ok = SSL_CTX_use_certificate(ctx, cert) && SSL_CTX_use_PrivateKey(ctx, key);
    if (!server)
        SSL_CTX_set_keylog_callback(ctx, keylog_cb);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* TLS 1.2 OpenSSL names differ from IANA names; the table maps both. */
static const char *openssl_name_of(const tc_suite *s)
{
    static const struct { uint16_t id; const char *name; } map[] = {
        {0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256"}, {0xC02F, "ECDHE-RSA-AES128-GCM-SHA256"},
        {0xC02C, "ECDHE-ECDSA-AES256-GCM-SHA384"}, {0xC030, "ECDHE-RSA-AES256-GCM-SHA384"},
        {0xCCA9, "ECDHE-ECDSA-CHACHA20-POLY1305"}, {0xCCA8, "ECDHE-RSA-CHACHA20-POLY1305"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].id == s->id)
            return map[i].name;
    return s->name;
}

static int pair_open(pair *p, const tc_suite *suite)
{
    memset(p, 0, sizeof *p);
    p->suite = suite;
    int rsa = strstr(suite->name, "_RSA_") != NULL;
    EVP_PKEY *key = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                        : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *cert = key ? self_signed(key) : NULL;
    const char *name = openssl_name_of(suite);
    if (CHECK(cert != NULL)) {
        p->sctx = make_ctx(suite, name, 1, key, cert);
        p->cctx = make_ctx(suite, name, 0, key, cert);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!CHECK(p->sctx != NULL && p->cctx != NULL))
        return 0;
    p->c = SSL_new(p->cctx);
    p->s = SSL_new(p->sctx);
    p->c_in = BIO_new(BIO_s_mem());
    p->c_out = BIO_new(BIO_s_mem());
    p->s_in = BIO_new(BIO_s_mem());
    p->s_out = BIO_new(BIO_s_mem());
    if (!CHECK(p->c && p->s && p->c_in && p->c_out && p->s_in && p->s_out))
        return 0;
    SSL_set_bio(p->c, p->c_in, p->c_out);
    SSL_set_bio(p->s, p->s_in, p->s_out);
    SSL_set_app_data(p->c, &p->secrets);
    SSL_set_connect_state(p->c);
    SSL_set_accept_state(p->s);
    return 1;
}

static void pair_close(pair *p)
{
    tc_direction_free(&p->cw);
    tc_direction_free(&p->sw);
    SSL_free(p->c); /* frees its BIOs */
    SSL_free(p->s);
    SSL_CTX_free(p->cctx);
    SSL_CTX_free(p->sctx);
}

static size_t take_all(BIO *from, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    int r;
    while (n < cap && (r = BIO_read(from, buf + n, (int)(cap - n))) > 0)
        n += (size_t)r;
    return n;
}

static void move_bytes(BIO *from, BIO *to)
{
    size_t n = take_all(from, wire, sizeof wire);
    if (n > 0)
        CHECK(BIO_write(to, wire, (int)n) == (int)n);
}

static int step_handshake(SSL *ssl, int *done)
{
    if (*done)
        return 1;
    int r = SSL_do_handshake(ssl);
    if (r == 1) {
        *done = 1;
        return 1;
    }
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return 1;
    fprintf(stderr, "handshake: SSL_get_error %d\n", e);
    ERR_print_errors_fp(stderr);
    return 0;
}

/* Bytes move only towards a side still in its handshake, so whatever a side
 * writes after finishing (TLS 1.3 tickets) stays in its BIO for the test to
 * open, exactly as the peer sees it first. */
static int handshake(pair *p)
{
    int cdone = 0, sdone = 0;
    for (int round = 0; round < 16 && !(cdone && sdone); round++) {
        if (!step_handshake(p->c, &cdone) || !step_handshake(p->s, &sdone))
            return 0;
        if (!sdone)
            move_bytes(p->c_out, p->s_in);
        if (!cdone)
            move_bytes(p->s_out, p->c_in);
    }
    return CHECK(cdone && sdone);
}

static int check_negotiated(pair *p)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(p->c);
    if (!CHECK(c != NULL))
        return 0;
    uint16_t id = SSL_CIPHER_get_protocol_id(c);
    CHECK(tc_suite_by_id(id) == p->suite);
    CHECK(tc_suite_by_name(SSL_CIPHER_get_name(c)) == p->suite);
    CHECK(tc_suite_by_name(SSL_CIPHER_standard_name(c)) == p->suite);
    return CHECK(SSL_version(p->c) == (p->suite->tls13 ? TLS1_3_VERSION : TLS1_2_VERSION));
}

static int keys13(pair *p)
{
    keylog_secrets *ks = &p->secrets;
    if (!CHECK(ks->client_len > 0 && ks->server_len > 0))
        return 0;
    return CHECK_RC(tc_direction_init13(&p->cw, p->suite, ks->client, ks->client_len), TC_OK)
           && CHECK_RC(tc_direction_init13(&p->sw, p->suite, ks->server, ks->server_len), TC_OK);
}

/* TLS 1.2: each side's Finished used sequence 0, so the first application
 * record in either direction is sequence 1. */
static int keys12(pair *p)
{
    uint8_t master[48], cr[32], sr[32], master_s[48];
    SSL_SESSION *sess = SSL_get_session(p->c);
    if (!CHECK(sess != NULL && SSL_SESSION_get_master_key(sess, master, 48) == 48))
        return 0;
    CHECK(SSL_SESSION_get_master_key(SSL_get_session(p->s), master_s, 48) == 48
          && memcmp(master, master_s, 48) == 0);
    if (!CHECK(SSL_get_client_random(p->c, cr, 32) == 32
               && SSL_get_server_random(p->c, sr, 32) == 32))
        return 0;
    tc_traffic_keys cwk, swk;
    return CHECK_RC(tc12_key_block(p->suite, master, cr, sr, &cwk, &swk), TC_OK)
           && CHECK_RC(tc_direction_init12(&p->cw, p->suite, &cwk, 1), TC_OK)
           && CHECK_RC(tc_direction_init12(&p->sw, p->suite, &swk, 1), TC_OK);
}

static int is_key_update(const opened *r)
{
    return r->type == TC_CT_HANDSHAKE && r->len == 5 && r->data[0] == 24;
}

/* Opens every record OpenSSL wrote into `out`, in order, updating the read
 * key after a KeyUpdate as the peer does, then forwards the same bytes to
 * the other side. Returns the number of records, -1 on a failure. */
static int drain(BIO *out, BIO *forward, tc_direction *d)
{
    size_t n = take_all(out, wire, sizeof wire), off = 0, rec_len = 0;
    int count = 0;
    while (off < n) {
        int f = tc_record_frame(wire + off, n - off, &rec_len);
        if (!CHECK(f == 1) || !CHECK(count < MAX_OPENED))
            return -1;
        opened *r = &recs[count++];
        r->epoch = d->epoch;
        r->seq = d->seq;
        if (rec_len >= 13)
            memcpy(r->explicit_nonce, wire + off + 5, 8);
        if (!CHECK_RC(tc_record_unprotect(d, wire + off, rec_len, &r->type, r->data,
                                          sizeof r->data, &r->len), TC_OK))
            return -1;
        if (is_key_update(r) && !CHECK_RC(tc_direction_update(d), TC_OK))
            return -1;
        off += rec_len;
    }
    if (n > 0 && forward != NULL)
        CHECK(BIO_write(forward, wire, (int)n) == (int)n);
    return count;
}

static int check_app(const opened *r, const uint8_t *want, size_t len)
{
    return CHECK(r->type == TC_CT_APPLICATION_DATA && r->len == len
                 && memcmp(r->data, want, len) == 0);
}

/* SSL_read must return exactly want[0..len). */
static int expect_read(SSL *ssl, const uint8_t *want, size_t len)
{
    static uint8_t buf[TC_MAX_PLAINTEXT];
    int r = SSL_read(ssl, buf, sizeof buf);
    if (r <= 0) {
        fprintf(stderr, "SSL_read: %d, SSL_get_error %d\n", r, SSL_get_error(ssl, r));
        ERR_print_errors_fp(stderr);
    }
    return CHECK(r == (int)len && memcmp(buf, want, len) == 0);
}

/* Seals one record with the peer's keys and hands it to an OpenSSL side. */
static int forge(tc_direction *d, BIO *to, uint8_t type, const uint8_t *content, size_t len,
                 size_t pad)
{
    size_t rec_len = 0;
    if (!CHECK_RC(tc_record_protect(d, type, content, len, pad, wire, sizeof wire, &rec_len),
                  TC_OK))
        return 0;
    return CHECK(BIO_write(to, wire, (int)rec_len) == (int)rec_len);
}

/* TLS 1.3 servers write their NewSessionTickets after the handshake; the
 * peer must count them in its read sequence. */
static int post_handshake(pair *p)
{
    int n = drain(p->s_out, p->c_in, &p->sw);
    if (n < 0)
        return 0;
    for (int i = 0; i < n; i++)
        CHECK(recs[i].type == TC_CT_HANDSHAKE && recs[i].len > 0 && recs[i].data[0] == 4);
    printf("observed: %d record(s) from the server after its handshake (%s)\n", n,
           p->suite->tls13 ? "NewSessionTicket" : "none expected");
    if (!p->suite->tls13)
        CHECK(n == 0);
    return CHECK(p->sw.seq == (uint64_t)n + (p->suite->tls13 ? 0 : 1));
}

static void note_explicit_nonce(const tc_suite *suite, const opened *r)
{
    if (suite->tls13 || suite->aead == TC_AEAD_CHACHA20_POLY1305)
        return;
    printf("observed: OpenSSL's TLS 1.2 GCM explicit nonce at seq %llu:",
           (unsigned long long)r->seq);
    for (int i = 0; i < 8; i++)
        printf(" %02x", r->explicit_nonce[i]);
    printf("\n");
}

/* The library writes len bytes; we open its record(s) (the last must be
 * the data) and forward them; the other side must read the data. Returns
 * the number of records, 0 on a failure. */
static int library_write(SSL *writer, BIO *writer_out, SSL *reader, BIO *reader_in,
                         tc_direction *d, const uint8_t *m, size_t len)
{
    if (!CHECK(SSL_write(writer, m, (int)len) == (int)len))
        return 0;
    int n = drain(writer_out, reader_in, d);
    if (!CHECK(n >= 1) || !check_app(&recs[n - 1], m, len) || !expect_read(reader, m, len))
        return 0;
    note_explicit_nonce(d->suite, &recs[n - 1]);
    return n;
}

/* The library's close_notify is opened but not delivered: the peer, having
 * taken over, replaces the library in that direction, so the reader's
 * sequence number never counted it. */
static int library_close_notify(SSL *ssl, BIO *out, tc_direction *d)
{
    if (!CHECK(SSL_shutdown(ssl) == 0))
        return 0;
    int n = drain(out, NULL, d);
    if (!CHECK(n == 1) || !CHECK(recs[0].type == TC_CT_ALERT && recs[0].len == 2
                                 && recs[0].data[0] == 1 && recs[0].data[1] == 0))
        return 0;
    note_explicit_nonce(d->suite, &recs[0]);
    d->seq--;
    return 1;
}

static uint8_t m1[TC_MAX_PLAINTEXT], m2[TC_MAX_PLAINTEXT];

/* Everything OpenSSL writes after the handshake, both ways, opened by the
 * peer's record layer. TLS 1.3: the server's KeyUpdate asks for one back,
 * which OpenSSL's client sends before its next record. */
static int library_phase(pair *p)
{
    fill(m1, TC_MAX_PLAINTEXT, 1);
    if (!library_write(p->c, p->c_out, p->s, p->s_in, &p->cw, m1, TC_MAX_PLAINTEXT)
        || !library_write(p->s, p->s_out, p->c, p->c_in, &p->sw, m1 + 3, 1))
        return 0;
    if (p->suite->tls13) {
        if (!CHECK(SSL_key_update(p->s, SSL_KEY_UPDATE_REQUESTED) == 1)
            || !CHECK(library_write(p->s, p->s_out, p->c, p->c_in, &p->sw, m1 + 5, 100) == 2)
            || !CHECK(is_key_update(&recs[0]) && recs[0].data[4] == 1)
            || !CHECK(recs[1].epoch == 1 && recs[1].seq == 0))
            return 0;
        if (!CHECK(library_write(p->c, p->c_out, p->s, p->s_in, &p->cw, m1 + 6, 200) == 2)
            || !CHECK(is_key_update(&recs[0]) && recs[0].data[4] == 0)
            || !CHECK(recs[1].epoch == 1 && recs[1].seq == 0))
            return 0;
    }
    return library_close_notify(p->c, p->c_out, &p->cw)
           && library_close_notify(p->s, p->s_out, &p->sw);
}

/* Seals len bytes (+pad) as the peer and checks the reader gets them. */
static int peer_write(tc_direction *d, BIO *reader_in, SSL *reader, const uint8_t *m, size_t len,
                      size_t pad)
{
    return forge(d, reader_in, TC_CT_APPLICATION_DATA, m, len, pad)
           && expect_read(reader, m, len);
}

/* The peer's KeyUpdate (update_not_requested), then data under the new key. */
static int peer_key_update(tc_direction *d, BIO *reader_in, SSL *reader, const uint8_t *m,
                           size_t len)
{
    static const uint8_t ku[] = {24, 0, 0, 1, 0};
    return forge(d, reader_in, TC_CT_HANDSHAKE, ku, sizeof ku, 0)
           && CHECK_RC(tc_direction_update(d), TC_OK) && peer_write(d, reader_in, reader, m, len, 0);
}

/* The peer's close_notify must end the reader's stream cleanly. */
static int peer_close_notify(tc_direction *d, BIO *reader_in, SSL *reader)
{
    static const uint8_t cn[] = {1, 0};
    uint8_t buf[16];
    if (!forge(d, reader_in, TC_CT_ALERT, cn, sizeof cn, 0))
        return 0;
    int r = SSL_read(reader, buf, sizeof buf);
    return CHECK(r <= 0 && SSL_get_error(reader, r) == SSL_ERROR_ZERO_RETURN)
           && CHECK(SSL_get_shutdown(reader) == (SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN));
}

/* The peer's own records, both ways, read by OpenSSL. The client already
 * sent (and lost) its close_notify: it must still read (SSL_shutdown closes
 * only the write side). The first record is full size and, in TLS 1.3,
 * padded to the 2^14 + 1 inner-plaintext limit. */
static int peer_phase(pair *p)
{
    size_t pad = p->suite->tls13 ? TC_MAX_PLAINTEXT + 1 - 16000 - 1 : 0;
    fill(m2, TC_MAX_PLAINTEXT, 2);
    if (!peer_write(&p->cw, p->s_in, p->s, m2, 16000, pad)
        || !peer_write(&p->sw, p->c_in, p->c, m2 + 1, 300, 7))
        return 0;
    if (p->suite->tls13
        && (!peer_key_update(&p->sw, p->c_in, p->c, m2 + 2, 60)
            || !peer_key_update(&p->cw, p->s_in, p->s, m2 + 3, 70)
            || !CHECK(p->sw.epoch == 2 && p->cw.epoch == 2)))
        return 0;
    return peer_close_notify(&p->sw, p->c_in, p->c) && peer_close_notify(&p->cw, p->s_in, p->s);
}

static int run(pair *p)
{
    if (!handshake(p) || !check_negotiated(p))
        return 0;
    return (p->suite->tls13 ? keys13(p) : keys12(p)) && post_handshake(p) && library_phase(p)
           && peer_phase(p);
}

int main(int argc, char **argv)
{
    const tc_suite *suite = argc == 2 ? tc_suite_by_name(argv[1]) : NULL;
    if (suite == NULL) {
        fprintf(stderr, "usage: %s SUITE (IANA or OpenSSL name of a supported suite)\n",
                argv[0]);
        return 2;
    }
    pair p;
    int ok = pair_open(&p, suite) && run(&p);
    pair_close(&p);
    if (!ok || tu_failed()) {
        fprintf(stderr, "%s: cross-check failed\n", suite->name);
        return 1;
    }
    printf("%s: OpenSSL %s and the peer's record layer agree\n", suite->name,
           OpenSSL_version(OPENSSL_VERSION_STRING));
    return 0;
}
