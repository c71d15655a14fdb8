/* peer_script: the peer's script (docs/peer.md "The script"), parsed and
 * checked completely before anything touches the network.
 *
 * A script is a JSON object with either "actions" (a list) or "personality"
 * (a named preset and its parameters), plus "answer_keyupdate". A
 * personality is expanded here into the same JSON actions a script could
 * have spelt out, and those are parsed like any other, so the transcript's
 * "action" events show what a personality really does.
 *
 * Every field is checked with the strict getters of common/jsonio.h: an
 * unknown key, a wrong type or an out-of-range value is TC_ERR_USAGE with a
 * message naming the action and field, e.g.
 * "action 2 (send_alert): field 'level': expected ...". Nothing is
 * defaulted silently except what docs/peer.md documents. */
#ifndef TLSCLOSE_PEER_SCRIPT_H
#define TLSCLOSE_PEER_SCRIPT_H

#include "hs_messages.h"
#include "http.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    ACT_SEND_DATA,
    ACT_SEND_ALERT,
    ACT_SEND_KEYUPDATE,
    ACT_SEND_HANDSHAKE,
    ACT_SEND_PARTIAL_RECORD,
    ACT_SEND_RAW,
    ACT_SEND_PLAINTEXT,
    ACT_FIN,
    ACT_RST,
    ACT_EXPECT_DATA,
    ACT_EXPECT_CLOSE_NOTIFY,
    ACT_EXPECT_EOF,
    ACT_EXPECT_RST,
    ACT_EXPECT_PLAINTEXT,
    ACT_EXPECT_SILENCE,
    ACT_READ_ALL,
    ACT_STOP_READING,
    ACT_SIGNAL_SUT,
    ACT_WAIT_MARKER,
    ACT_CLOSE,
    ACT_NEXT_CONNECTION,
    ACT_HTTP_READ_REQUEST,
    ACT_HTTP_SEND_RESPONSE,
    ACT_HTTP_SEND_REQUEST,
    ACT_HTTP_READ_RESPONSE,
} action_kind;

#define ACTION_DEFAULT_TIMEOUT_MS 5000
#define HTTP_DEFAULT_CHUNK 4096

/* http_send_response / http_send_request: the message (http.h) and how it
 * goes out. Checked at parse time by building it, so a cut that does not
 * apply is a script error, never a surprise on the wire. */
typedef struct {
    int status;            /* response */
    const char *method;    /* request: "GET" or "POST" */
    const char *target;
    const char *host;
    http_framing framing;
    uint64_t body_bytes;
    size_t chunk;          /* chunked: body bytes per chunk */
    size_t record;         /* most message bytes per TLS record */
    http_cut cut;
    bool cut_in_record;    /* the bytes after the cut start a record sent in part */
} peer_http;

typedef struct {
    action_kind kind;
    const char *name;      /* the "do" value */
    json_object *json;     /* the action as written or expanded (borrowed) */
    int64_t timeout_ms;
    size_t bytes;          /* send_data, expect_data, send_partial_record */
    size_t *records;       /* send_data: record sizes */
    size_t n_records;
    uint8_t *data;         /* send_alert: the alert content; send_raw: the bytes;
                              send_plaintext, expect_plaintext: the text */
    size_t data_len;
    size_t fragment;       /* send_alert: bytes per record, 0 = one record */
    bool request;          /* send_keyupdate */
    hs_msg_kind msg;       /* send_handshake: the message */
    size_t part;           /* send_handshake: bytes of the message sent, 0 = all */
    bool hold;             /* a sending action: its bytes wait for the next
                              sending action's, to leave in one write */
    const char *marker;    /* signal_sut, wait_marker */
    peer_http http;        /* http_send_response, http_send_request */
} peer_action;

typedef struct {
    json_object *root;     /* the parsed file (owned) */
    json_object *expanded; /* a personality's actions (owned), or NULL */
    peer_action *actions;
    size_t n;
    bool answer_keyupdate;
    bool session_tickets;  /* false: the library neither offers nor issues tickets */
    bool handshake_may_fail; /* a first handshake that fails ends the script well */
    const char *handshake_marker; /* the first handshake starts only once the SUT sent
                                     this marker (NULL: at once) */
} peer_script;

/* Builds the message an http_send_* action sends (it was checked when the
 * script was parsed). */
int peer_http_message(const peer_action *a, http_out *m);

/* Loads and checks the script file. tls13 rejects send_keyupdate under
 * TLS 1.2 and a send_handshake message of the other version. On failure
 * nothing needs freeing. */
int peer_script_load(peer_script *s, const char *path, bool tls13);

/* The same from a JSON value, whose ownership passes to s (also on failure). */
int peer_script_parse(peer_script *s, json_object *root, bool tls13);

void peer_script_free(peer_script *s);

#endif
