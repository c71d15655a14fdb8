/* transcript: the peer's JSON-lines report on standard output.
 *
 * One event per line, printed and flushed the moment it happens (through
 * common/jsonio.h), so a peer killed at its deadline has still reported
 * everything it did. The events and their fields are exactly those of
 * docs/peer.md "The transcript"; every event carries "ms", the time since
 * tr_init() (the start of the run, or of the cell in persistent mode). Records are decoded here (alert level and name, handshake
 * message, data prefix) so that sent and received records read the same.
 *
 * Never fails: a line that cannot be built is a bug, not an outcome.
 * Holds no state besides the start time. */
#ifndef TLSCLOSE_TRANSCRIPT_H
#define TLSCLOSE_TRANSCRIPT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Starts the clock that "ms" counts from. */
void tr_init(void);

void tr_start(const char *role, const char *tls);
void tr_handshake(int conn, const char *tls, const char *cipher, bool resumed);
void tr_handshake_error(int conn, const char *message);

/* One TLS record, sent or received, as its content reads after decryption. */
typedef struct {
    const char *dir;      /* "sent" or "recv" */
    const char *by;       /* "peer", "library" or "sut": who made it */
    int conn;
    uint8_t type;         /* the real content type (TLS 1.3: the inner one) */
    bool unprotected;     /* a plaintext record where a protected one belongs */
    unsigned epoch;       /* key generation (TLS 1.3 KeyUpdates), 0 for TLS 1.2 */
    uint64_t seq;
    const uint8_t *content;
    size_t len;
    size_t partial;       /* > 0: only this many bytes of the record went out */
    bool takeover;        /* handled by the library before the takeover */
    bool in_handshake;    /* an alert the library sent or read during the
                             handshake: no epoch or seq of the peer's own */
} tr_record_info;

void tr_record(const tr_record_info *r);

/* A record (or bytes) the peer could not authenticate or frame. */
void tr_bad_record(const char *dir, int conn, const char *why, const uint8_t *bytes, size_t len);

/* A transport event; drained < 0 leaves the field out. */
void tr_tcp(const char *dir, const char *what, int conn, long long drained);

void tr_plaintext(const char *dir, int conn, const uint8_t *text, size_t len);
void tr_raw(const char *dir, int conn, const uint8_t *bytes, size_t len);
void tr_marker(const char *dir, const char *name);
void tr_expect(const char *what, bool ok, const char *detail);

/* "http": one HTTP message sent or received (http_actions.h builds the
 * fields, in the order they are to be printed). Takes ownership of fields. */
void tr_http(json_object *fields);

/* "action": the action's own JSON fields plus its 1-based index. Does not
 * take ownership of action. */
void tr_action(size_t n, json_object *action);

/* The last event. A cell of persistent mode adds "exit" (exit_code) and
 * "cell" (common/serve.h). */
void tr_end(const char *status, const char *message, int exit_code);

/* Persistent mode: the end event the server prints for a cell (a bad
 * request, a crashed child): "status", "message" (unless NULL), "signal",
 * "exit" (null when exit_code < 0) and "cell". */
void tr_server_end(const char *status, const char *message, int exit_code, const char *signal);

/* --listen: the port the peer accepts on (the first event). */
void tr_listen(int port);

#endif
