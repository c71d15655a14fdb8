/* handshake: the TLS handshake of the mock peer, done by OpenSSL over
 * memory BIOs so that the peer sees every byte the library reads or writes.
 *
 * The peer reads the socket and feeds the library's read BIO, and writes
 * what the library put into its write BIO to the socket. When the handshake
 * is done, hs_conn holds everything the takeover needs: the negotiated suite,
 * the secrets (TLS 1.3: the application traffic secrets from the key-log
 * callback; TLS 1.2: master secret and both randoms), the bytes the library
 * wrote, the bytes it consumed, and the bytes read from the socket that it
 * did not consume (those belong to the peer's own record layer: none may be
 * lost).
 *
 * hs_ctx lives for the whole run, so its session cache and ticket keys
 * survive from one connection to the next: a client offers the newest
 * session of the previous connection, a server can resume it. In
 * persistent mode each cell builds its own hs_ctx; only the parsed
 * certificate and key may come from the server (common/openssl_creds.h).
 *
 * Functions return TC_OK or a negative tc_err (tc_err.h): TC_ERR_USAGE for a
 * bad --cipher, TC_ERR_LIBRARY for a failed handshake or bad credentials
 * (message from OpenSSL's error queue), TC_ERR_TIMEOUT, TC_ERR_EOF,
 * TC_ERR_RESET, TC_ERR_SYS from the transport. Never closes the socket. */
#ifndef TLSCLOSE_HANDSHAKE_H
#define TLSCLOSE_HANDSHAKE_H

#include "key_schedule.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    SSL_CTX *ctx;
    bool server;
    bool tls13;
    SSL_SESSION *session; /* client: newest session the library reported */
} hs_ctx;

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} hs_bytes;

typedef struct {
    SSL *ssl;
    const tc_suite *suite;
    bool resumed;
    /* TLS 1.3 */
    uint8_t client_secret[TC_MAX_SECRET];
    uint8_t server_secret[TC_MAX_SECRET];
    size_t client_secret_len;
    size_t server_secret_len;
    /* TLS 1.2 */
    uint8_t master[48];
    uint8_t client_random[32];
    uint8_t server_random[32];
    hs_bytes sent;     /* every byte the library wrote, in order */
    hs_bytes consumed; /* every byte the library read, in order */
    hs_bytes leftover; /* read from the socket after what the library consumed */
    /* The library's read state still matches the peer's, so TLS 1.3 tickets
     * the SUT sends can be handed to it for the next connection. */
    bool ticket_sync;
    /* The SUT reset the connection while the library's last flight (e.g.
     * TLS 1.3 tickets) was being sent: the handshake itself completed. */
    bool reset_after_handshake;
    int conn_id;       /* for the transcript */
    bool in_handshake; /* alerts the library sends or reads are logged */
} hs_conn;

/* Builds the context: exactly one TLS version, credentials loaded, the
 * cipher restricted to `cipher` (IANA or OpenSSL name; NULL: every suite the
 * record layer supports). */
int hs_ctx_init(hs_ctx *h, bool server, bool tls13, const char *cert, const char *key,
                const char *cipher);
void hs_ctx_free(hs_ctx *h);

/* Switches session tickets off (SSL_OP_NO_TICKET): a TLS 1.2 client then
 * resumes by session ID alone, so only the server's session cache decides
 * whether a resumption succeeds. */
void hs_ctx_disable_tickets(hs_ctx *h);

/* Handshakes on fd before the deadline. On TC_OK *c is filled (free with
 * hs_conn_free); on failure *c holds nothing to free. Alerts the library
 * wrote on failure are sent before returning. Every alert the library sends
 * or reads during the handshake is logged as a "record" event with
 * "in_handshake": true (conn_id names the connection), so that a handshake
 * the SUT abandons still shows how it ended. *c must not move while it
 * lives: the library's callbacks hold its address. */
int hs_run(hs_ctx *h, int fd, int conn_id, int64_t deadline, hs_conn *c);

void hs_conn_free(hs_conn *c);

/* Called with every protected record the peer receives after the takeover,
 * in order. While the first ones are TLS 1.3 NewSessionTickets (and only
 * then) they are given to the library, so that it caches the session for
 * the next connection; the first other record ends that. */
void hs_feed_record(hs_conn *c, const uint8_t *rec, size_t len, bool is_ticket);

/* Appends to a byte buffer: TC_OK or TC_ERR_SYS (out of memory). */
int hs_bytes_append(hs_bytes *b, const uint8_t *data, size_t len);

#endif
