/* http: the HTTP/1.1 messages of the mock peer (RFC 9112), built for sending
 * and parsed on receipt. No I/O here: the actions (http_actions.h) move the
 * bytes through the record layer.
 *
 * The body. Every body the peer sends is the same deterministic text, so a
 * client that saves it can be compared byte for byte: numbered lines of
 * HTTP_BODY_LINE (64) bytes, line k (from 0) being its number in ten decimal
 * digits, one space, the 52 letters a-z A-Z and a newline:
 *     "0000000000 abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
 * A body of N bytes is the first N bytes of that text (the last line may be
 * cut). Any prefix of it is therefore the body a cut message delivered.
 *
 * Building (http.c). An http_out holds the header section of a request or
 * response and how its body is framed; its wire form is the header section
 * followed by the framed body:
 *   content-length   the body as it is (Content-Length: N);
 *   chunked          chunks of `chunk` body bytes, each "SIZE-IN-HEX\r\n"
 *                    DATA "\r\n", then the last chunk "0\r\n" and the
 *                    empty trailer section "\r\n" (Transfer-Encoding: chunked);
 *   close-delimited  the body as it is, no length (responses only: the
 *                    connection's end delimits it, RFC 9112 §6.3 rule 8);
 *   none             no body, no framing header (a GET request).
 * An http_cursor hands out the wire form in order, any number of bytes at a
 * time, without holding it all (a 16 MiB body in one-byte chunks is six
 * times that on the wire).
 *
 * Completeness (RFC 9112 §8 and §9.8). A receiver holding the first n bytes
 * of the wire form has the whole message when: content-length and none, all
 * bytes; chunked, everything up to and including the last chunk's "0\r\n"
 * (the trailer section's final CRLF may be missing: §8 names only the
 * zero-sized chunk); close-delimited, all bytes, but the receiver can only
 * know that if a valid closure alert follows (§9.8), which is the business
 * of the action after the send, not of the message.
 *
 * Parsing (http_parse.c). An http_parser takes the bytes of one request or
 * response as they arrive, in any pieces, and says when the message ended by
 * its own framing, or that the input is malformed (with the reason). It never
 * reads past the end of the message, never stores the body (it counts and
 * hashes it: SHA-256) and never crashes on input: a malformed message is a
 * result, HTTP_BAD with a reason, never a failure of the peer.
 *
 * Functions return TC_OK or a negative tc_err (tc_err.h): TC_ERR_USAGE for
 * parameters a script cannot ask for, the message naming the parameter by
 * the script field it comes from ("field 'cut': ..."; the caller adds the
 * action), TC_ERR_CRYPTO when OpenSSL's digest fails. */
#ifndef TLSCLOSE_HTTP_H
#define TLSCLOSE_HTTP_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_BODY_LINE 64
#define HTTP_BODY_MAX (16u * 1024 * 1024)  /* largest body a script may send */
#define HTTP_OUT_HEAD_MAX 2048             /* the header sections we build */
#define HTTP_HEAD_MAX 16384                /* the longest header section we parse */
#define HTTP_LINE_MAX 4096                 /* chunk-size lines and trailer fields */
#define HTTP_SHA256_HEX 65                 /* 64 hex digits and the NUL */
#define HTTP_TARGET_MAX 1024
#define HTTP_HOST_MAX 255
#define HTTP_LAST_CHUNK "0\r\n\r\n"        /* the last chunk and the empty trailer section */

typedef enum {
    HTTP_FRAMING_NONE,
    HTTP_FRAMING_LENGTH,
    HTTP_FRAMING_CHUNKED,
    HTTP_FRAMING_CLOSE,
} http_framing;

typedef enum {
    HTTP_CUT_NONE,
    HTTP_CUT_AFTER_HEADERS,  /* the header section, no body byte */
    HTTP_CUT_MID_BODY,       /* up to body byte N/2 (excluded) */
    HTTP_CUT_CHUNK_BOUNDARY, /* every data chunk, not the last chunk (chunked only) */
    HTTP_CUT_BEFORE_LAST_BYTE, /* the whole wire form but its last byte */
} http_cut;

/* "none", "content-length", "chunked", "close-delimited". */
const char *http_framing_name(http_framing f);
/* The three a script may name (not "none"); TC_ERR_USAGE otherwise. */
int http_framing_parse(const char *name, http_framing *out);

/* "none", "after-headers", "mid-body", "chunk-boundary", "before-last-byte". */
const char *http_cut_name(http_cut c);
int http_cut_parse(const char *name, http_cut *out);

/* ---- the body ---- */

/* out[0..len) = body bytes offset .. offset+len. */
void http_body_fill(uint8_t *out, uint64_t offset, size_t len);

/* Lowercase hex SHA-256 of the first len body bytes. */
int http_body_sha256(uint64_t len, char hex[HTTP_SHA256_HEX]);

/* Lowercase hex of a SHA-256 digest context so far; ctx itself is left
 * as it was, so more bytes can follow. */
int http_digest_hex(EVP_MD_CTX *ctx, char hex[HTTP_SHA256_HEX]);

/* ---- building ---- */

typedef struct {
    char head[HTTP_OUT_HEAD_MAX]; /* the header section, final CRLF included */
    size_t head_len;
    http_framing framing;
    uint64_t body_len;
    size_t chunk;                 /* chunked: body bytes per chunk (>= 1) */
} http_out;

/* A response: status 200..599 but 204 and 304 (whose responses have no body,
 * RFC 9112 §6.3 rule 1), with Server: tlsclose-peer, Content-Type:
 * text/plain, Connection: close and the framing's header. body_len <=
 * HTTP_BODY_MAX; chunk >= 1 for chunked. */
int http_out_response(http_out *m, int status, http_framing framing, uint64_t body_len,
                      size_t chunk);

/* A request: method "GET" (framing none, no body) or "POST" (content-length
 * or chunked), target and host printable ASCII without spaces, with Host,
 * User-Agent: tlsclose-peer, an Accept field taking any type,
 * Connection: close, and for POST
 * Content-Type: text/plain and the framing's header. */
int http_out_request(http_out *m, const char *method, const char *target, const char *host,
                     http_framing framing, uint64_t body_len, size_t chunk);

/* Length of the whole wire form. */
uint64_t http_out_total(const http_out *m);

/* Where `cut` ends the wire form (a byte count from its start). TC_ERR_USAGE
 * when the cut does not apply: mid-body needs a body of at least 2 bytes,
 * chunk-boundary needs chunked framing. */
int http_out_cut(const http_out *m, http_cut cut, uint64_t *offset);

/* Whether a receiver holding the first n bytes has the whole message
 * (see "Completeness" above). */
bool http_out_complete_at(const http_out *m, uint64_t n);

/* Body bytes wholly within the first n bytes of the wire form. */
uint64_t http_out_body_within(const http_out *m, uint64_t n);

typedef struct {
    const http_out *m;
    uint64_t pos;        /* bytes handed out so far */
    uint64_t body_pos;   /* body bytes handed out so far */
    int seg;             /* where pos is: header section, chunk header, ... */
    uint64_t seg_left;   /* bytes left in that segment */
    char chunk_head[24]; /* the current chunk's size line */
    size_t chunk_head_len;
} http_cursor;

void http_cursor_init(http_cursor *c, const http_out *m);

/* Copies the next min(cap, what is left) bytes of the wire form into out
 * and returns how many. */
size_t http_cursor_next(http_cursor *c, uint8_t *out, size_t cap);

/* ---- parsing ---- */

typedef enum { HTTP_REQUEST, HTTP_RESPONSE } http_kind;
typedef enum { HTTP_NEED_MORE, HTTP_DONE, HTTP_BAD } http_result;

#define HTTP_MAX_FIELDS 32 /* header fields kept for the transcript */
#define HTTP_FIELD_SHOWN 128

typedef struct {
    http_kind kind;
    int state;                     /* parse_state in http_parse.c */
    char head[HTTP_HEAD_MAX + 1];  /* the header section being read */
    size_t head_len;
    char line[HTTP_LINE_MAX + 1];  /* a chunk-size line or trailer field being read */
    size_t line_len;
    /* the start line */
    char method[32];
    char target[HTTP_TARGET_MAX + 1];
    char version[16];
    int status;
    char reason[64];
    /* the header fields, printable, each cut to HTTP_FIELD_SHOWN bytes */
    char fields[HTTP_MAX_FIELDS][HTTP_FIELD_SHOWN + 1];
    size_t n_fields;
    size_t head_bytes;             /* length of the (final) header section */
    size_t interim;                /* 1xx responses passed over */
    /* framing and body */
    http_framing framing;
    bool has_length;
    uint64_t content_length;
    uint64_t body;                 /* body bytes received (chunked: decoded) */
    uint64_t left;                 /* of the Content-Length or the current chunk */
    size_t chunks;                 /* data chunks received whole or in part */
    bool last_chunk;               /* the zero-sized chunk arrived */
    size_t trailers;
    char error[160];               /* why the input is malformed */
    EVP_MD_CTX *sha;
    bool hash_failed;
} http_parser;

int http_parser_init(http_parser *p, http_kind kind);
void http_parser_free(http_parser *p);

/* Takes bytes of the message. *used is how many it consumed: all of them
 * unless the message ended (HTTP_DONE) or went bad (HTTP_BAD, reason in
 * p->error) inside them. After DONE or BAD, further calls consume nothing
 * and return the same. */
http_result http_parser_feed(http_parser *p, const uint8_t *data, size_t len, size_t *used);

/* The connection ended before the framing said the message did. Returns
 * whether the message is nevertheless complete (RFC 9112 §8, §9.8): a
 * close-delimited body whose header section arrived whole, when the end
 * was a closure alert (closure_alert); a chunked body whose zero-sized
 * chunk arrived. Also true for a message already DONE. */
bool http_parser_complete(const http_parser *p, bool closure_alert);

/* Where the parser stands: "head", "body", "chunk-size", "chunk-data",
 * "chunk-end", "trailer", "done" or "bad". */
const char *http_parser_state_name(const http_parser *p);

/* Hex SHA-256 of the body bytes received so far. */
int http_parser_body_sha256(const http_parser *p, char hex[HTTP_SHA256_HEX]);

#endif
