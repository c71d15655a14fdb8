#include "handshake.h"

#include "openssl_creds.h"
#include "tc_err.h"
#include "transcript.h"
#include "transport.h"

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

/* Without --cipher, only suites the peer's record layer can take over. */
static const char default_tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
static const char default_tls13_ciphers[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/* The library's error queue as one message; empties the queue. */
static int library_error(const char *what)
{
    char text[400];
    size_t used = 0;
    unsigned long e;
    text[0] = '\0';
    while ((e = ERR_get_error()) != 0 && used + 2 < sizeof text) {
        if (used)
            text[used++] = ';';
        ERR_error_string_n(e, text + used, sizeof text - used);
        used += strlen(text + used);
    }
    return tc_err_set(TC_ERR_LIBRARY, "%s: %s", what, used ? text : "no detail from OpenSSL");
}

int hs_bytes_append(hs_bytes *b, const uint8_t *data, size_t len)
{
    if (b->cap - b->len < len) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < len)
            cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown)
            return tc_err_set(TC_ERR_SYS, "out of memory");
        b->data = grown;
        b->cap = cap;
    }
    if (len == 0)
        return TC_OK; /* data may be NULL then, and memcpy must not see NULL */
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return TC_OK;
}

static void bytes_free(hs_bytes *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* The library reports a client session it would cache; keep the newest so
 * the next connection can offer it (TLS 1.3 tickets arrive only this way).
 * A copy, because the library marks the session it holds not resumable
 * when the connection is freed without SSL_shutdown, which is always the
 * case here: after the takeover the library never closes anything. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    hs_ctx *h = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    SSL_SESSION *copy = SSL_SESSION_dup(sess);
    if (copy) {
        SSL_SESSION_free(h->session);
        h->session = copy;
    }
    return 0;
}

static int hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (hex_len % 2 || hex_len / 2 > cap)
        return -1;
    for (size_t i = 0; i < hex_len / 2; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]);
        int lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = hex_len / 2;
    return 0;
}

/* Key-log lines are "LABEL <client_random hex> <secret hex>"; only the
 * first application traffic secrets matter (later ones we derive). */
static void on_keylog(const SSL *ssl, const char *line)
{
    hs_conn *c = SSL_get_app_data(ssl);
    const char *sp1 = strchr(line, ' ');
    const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!c || !sp2)
        return;
    size_t label_len = (size_t)(sp1 - line);
    const char *secret = sp2 + 1;
    if (label_len == 23 && strncmp(line, "CLIENT_TRAFFIC_SECRET_0", 23) == 0)
        hex_decode(secret, strlen(secret), c->client_secret, TC_MAX_SECRET, &c->client_secret_len);
    else if (label_len == 23 && strncmp(line, "SERVER_TRAFFIC_SECRET_0", 23) == 0)
        hex_decode(secret, strlen(secret), c->server_secret, TC_MAX_SECRET, &c->server_secret_len);
}

static int set_ciphers(SSL_CTX *ctx, bool tls13, const char *cipher)
{
    if (!cipher)
        return (tls13 ? SSL_CTX_set_ciphersuites(ctx, default_tls13_ciphers)
                      : SSL_CTX_set_cipher_list(ctx, default_tls12_ciphers))
                   ? TC_OK
                   : library_error("default cipher list");
    const tc_suite *suite = tc_suite_by_name(cipher);
    if (!suite)
        return tc_err_set(TC_ERR_USAGE, "--cipher: '%s' is not a suite the peer's record layer supports", cipher);
    if (suite->tls13 != (int)tls13)
        return tc_err_set(TC_ERR_USAGE, "--cipher: '%s' is not a TLS %s suite", cipher, tls13 ? "1.3" : "1.2");
    if (tls13)
        return SSL_CTX_set_ciphersuites(ctx, suite->name) ? TC_OK : library_error("--cipher");
    const char *openssl_name = OPENSSL_cipher_name(suite->name);
    if (!openssl_name || strcmp(openssl_name, "(NONE)") == 0)
        return tc_err_set(TC_ERR_USAGE, "--cipher: OpenSSL has no name for '%s'", suite->name);
    return SSL_CTX_set_cipher_list(ctx, openssl_name) ? TC_OK : library_error("--cipher");
}

static int configure(hs_ctx *h, const char *cert, const char *key, const char *cipher)
{
    int version = h->tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (!SSL_CTX_set_min_proto_version(h->ctx, version) ||
        !SSL_CTX_set_max_proto_version(h->ctx, version))
        return library_error("protocol version");
    /* Only a server presents them: nobody asks the peer for a client
     * certificate, and loading them costs a client about a millisecond. */
    if (h->server && openssl_creds_use_chain(h->ctx, cert) != 1)
        return library_error(cert);
    if (h->server && openssl_creds_use_key(h->ctx, key) != 1)
        return library_error(key);
    SSL_CTX_set_verify(h->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_keylog_callback(h->ctx, on_keylog);
    SSL_CTX_set_app_data(h->ctx, h);
    if (!h->server) {
        SSL_CTX_set_session_cache_mode(h->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(h->ctx, on_new_session);
    }
    return set_ciphers(h->ctx, h->tls13, cipher);
}

void hs_ctx_disable_tickets(hs_ctx *h)
{
    SSL_CTX_set_options(h->ctx, SSL_OP_NO_TICKET);
}

int hs_ctx_init(hs_ctx *h, bool server, bool tls13, const char *cert, const char *key,
                const char *cipher)
{
    memset(h, 0, sizeof *h);
    h->server = server;
    h->tls13 = tls13;
    h->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!h->ctx)
        return library_error("SSL_CTX_new");
    int rc = configure(h, cert, key, cipher);
    if (rc < 0)
        hs_ctx_free(h);
    return rc;
}

void hs_ctx_free(hs_ctx *h)
{
    SSL_SESSION_free(h->session);
    SSL_CTX_free(h->ctx);
    memset(h, 0, sizeof *h);
}

void hs_conn_free(hs_conn *c)
{
    /* After the takeover the library never shuts anything down, and SSL_free
     * drops the session of a connection without SSL_SENT_SHUTDOWN from the
     * cache (ssl_clear_bad_session). The peer is the permissive side: its
     * server keeps every session it made, so whether a session is resumed is
     * decided by the SUT alone. */
    if (c->ssl)
        SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c->ssl);
    bytes_free(&c->sent);
    bytes_free(&c->consumed);
    bytes_free(&c->leftover);
    OPENSSL_cleanse(c->client_secret, sizeof c->client_secret);
    OPENSSL_cleanse(c->server_secret, sizeof c->server_secret);
    OPENSSL_cleanse(c->master, sizeof c->master);
    memset(c, 0, sizeof *c);
}

/* Alerts are the only records of a handshake the peer reports itself (the
 * rest is the library's business): they tell how a failed one ended. */
static void on_message(int write_p, int version, int content_type, const void *buf,
                       size_t len, SSL *ssl, void *arg)
{
    (void)version, (void)ssl;
    hs_conn *c = arg;
    if (content_type != 21 || !c->in_handshake)
        return;
    tr_record_info info = {.dir = write_p ? "sent" : "recv", .by = write_p ? "library" : "sut",
                           .conn = c->conn_id, .type = 21, .content = buf, .len = len,
                           .in_handshake = true};
    tr_record(&info);
}

static int new_ssl(hs_ctx *h, hs_conn *c)
{
    c->ssl = SSL_new(h->ctx);
    BIO *rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !rbio || !wbio) {
        BIO_free(rbio);
        BIO_free(wbio);
        return library_error("SSL_new");
    }
    SSL_set_bio(c->ssl, rbio, wbio);
    SSL_set_app_data(c->ssl, c);
    SSL_set_msg_callback(c->ssl, on_message);
    SSL_set_msg_callback_arg(c->ssl, c);
    if (h->server) {
        SSL_set_accept_state(c->ssl);
    } else {
        SSL_set_connect_state(c->ssl);
        if (h->session && !SSL_set_session(c->ssl, h->session))
            return library_error("SSL_set_session");
    }
    return TC_OK;
}

/* Moves what the library wrote to the socket, keeping a copy. */
static int flush_output(hs_conn *c, int fd, int64_t deadline)
{
    BIO *wbio = SSL_get_wbio(c->ssl);
    uint8_t buf[16384];
    int n;
    while ((n = BIO_read(wbio, buf, sizeof buf)) > 0) {
        int rc = hs_bytes_append(&c->sent, buf, (size_t)n);
        if (rc == TC_OK)
            rc = tc_write_all(fd, buf, (size_t)n, deadline);
        if (rc < 0)
            return rc;
    }
    return TC_OK;
}

static int feed_input(hs_conn *c, int fd, int64_t deadline)
{
    uint8_t buf[16384];
    ssize_t n = tc_read_some(fd, buf, sizeof buf, deadline);
    if (n < 0)
        return (int)n;
    int rc = hs_bytes_append(&c->consumed, buf, (size_t)n);
    if (rc < 0)
        return rc;
    if (BIO_write(SSL_get_rbio(c->ssl), buf, (int)n) != (int)n)
        return library_error("BIO_write");
    return TC_OK;
}

static int drive(hs_conn *c, int fd, int64_t deadline)
{
    for (;;) {
        ERR_clear_error();
        int r = SSL_do_handshake(c->ssl);
        int err = SSL_get_error(c->ssl, r);
        int rc = flush_output(c, fd, deadline);
        if (rc == TC_ERR_RESET && r == 1) {
            c->reset_after_handshake = true;
            return TC_OK;
        }
        if (rc < 0)
            return rc;
        if (r == 1)
            return TC_OK;
        if (err != SSL_ERROR_WANT_READ)
            return library_error("handshake");
        rc = feed_input(c, fd, deadline);
        if (rc < 0)
            return rc;
    }
}

/* The bytes the library has not read yet are the start of the peer's own
 * input: move them out of the library and off the "consumed" copy. */
static int split_leftover(hs_conn *c)
{
    BIO *rbio = SSL_get_rbio(c->ssl);
    size_t pending = BIO_ctrl_pending(rbio);
    if (pending > c->consumed.len)
        return tc_err_set(TC_ERR_LIBRARY, "the library holds more input than it was given");
    int rc = hs_bytes_append(&c->leftover, c->consumed.data + c->consumed.len - pending, pending);
    if (rc < 0)
        return rc;
    c->consumed.len -= pending;
    uint8_t sink[4096];
    while (BIO_read(rbio, sink, sizeof sink) > 0)
        ;
    return TC_OK;
}

static int collect(hs_ctx *h, hs_conn *c)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
    c->suite = cipher ? tc_suite_by_id(SSL_CIPHER_get_protocol_id(cipher)) : NULL;
    if (!c->suite)
        return tc_err_set(TC_ERR_LIBRARY, "negotiated suite %s is not supported by the record layer",
                          cipher ? SSL_CIPHER_get_name(cipher) : "(none)");
    c->resumed = SSL_session_reused(c->ssl);
    c->ticket_sync = h->tls13 && !h->server;
    if (h->tls13) {
        if (!c->client_secret_len || c->client_secret_len != c->server_secret_len)
            return tc_err_set(TC_ERR_LIBRARY, "the key log gave no application traffic secrets");
        return TC_OK;
    }
    SSL_get_client_random(c->ssl, c->client_random, sizeof c->client_random);
    SSL_get_server_random(c->ssl, c->server_random, sizeof c->server_random);
    if (SSL_SESSION_get_master_key(SSL_get_session(c->ssl), c->master, sizeof c->master) != 48)
        return tc_err_set(TC_ERR_LIBRARY, "no TLS 1.2 master secret");
    return TC_OK;
}

int hs_run(hs_ctx *h, int fd, int conn_id, int64_t deadline, hs_conn *c)
{
    memset(c, 0, sizeof *c);
    c->conn_id = conn_id;
    c->in_handshake = true;
    int rc = new_ssl(h, c);
    if (rc == TC_OK)
        rc = drive(c, fd, deadline);
    if (rc == TC_OK)
        rc = split_leftover(c);
    if (rc == TC_OK)
        rc = collect(h, c);
    c->in_handshake = false;
    if (rc < 0)
        hs_conn_free(c);
    return rc;
}

void hs_feed_record(hs_conn *c, const uint8_t *rec, size_t len, bool is_ticket)
{
    if (!c->ticket_sync)
        return;
    if (!is_ticket) {
        c->ticket_sync = false;
        return;
    }
    uint8_t sink[256];
    ERR_clear_error();
    if (BIO_write(SSL_get_rbio(c->ssl), rec, (int)len) != (int)len) {
        c->ticket_sync = false;
    } else {
        int r = SSL_read(c->ssl, sink, sizeof sink);
        if (r > 0 || SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ)
            c->ticket_sync = false;
    }
    ERR_clear_error();
    /* Anything the library wants to say now is not the peer's to send. */
    (void)BIO_reset(SSL_get_wbio(c->ssl));
}
