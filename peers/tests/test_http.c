/* Unit tests of the HTTP module (peers/http.h): the deterministic body,
 * building requests and responses, the cursor and the cuts, and the parser,
 * including chunked edge cases and malformed input, which must be a result
 * (HTTP_BAD with a reason), never a crash. Expected wire bytes are written
 * out literally or built here in the plainest way, independently of the
 * code under test. Random inputs come from fixed seeds. */
#include "http.h"
#include "tc_err.h"
#include "testutil.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG 300000

static uint8_t wire[BIG * 2];
static uint8_t other[BIG * 2];

/* ---- helpers ---- */

/* The body text as http.h describes it, one line at a time. */
static size_t reference_body(char *out, size_t len)
{
    size_t n = 0;
    for (unsigned long k = 0; n < len; k++) {
        char line[80];
        int w = snprintf(line, sizeof line, "%010lu abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n", k);
        size_t take = len - n < (size_t)w ? len - n : (size_t)w;
        memcpy(out + n, line, take);
        n += take;
    }
    return n;
}

static void sha256_hex(const void *data, size_t len, char hex[HTTP_SHA256_HEX])
{
    uint8_t d[32];
    unsigned n = 0;
    EVP_Digest(data, len, d, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* The whole wire form through the cursor in pieces of `step` bytes. */
static size_t wire_form(const http_out *m, size_t step, uint8_t *out)
{
    http_cursor c;
    size_t n = 0, got;
    http_cursor_init(&c, m);
    while ((got = http_cursor_next(&c, out + n, step)) > 0)
        n += got;
    return n;
}

/* Chunked encoding of the reference body, built plainly. */
static size_t reference_chunked(const char *head, size_t body_len, size_t chunk, uint8_t *out)
{
    static char body[BIG];
    reference_body(body, body_len);
    size_t n = (size_t)sprintf((char *)out, "%s", head);
    for (size_t at = 0; at < body_len; at += chunk) {
        size_t size = body_len - at < chunk ? body_len - at : chunk;
        n += (size_t)sprintf((char *)out + n, "%zx\r\n", size);
        memcpy(out + n, body + at, size);
        n += size;
        n += (size_t)sprintf((char *)out + n, "\r\n");
    }
    n += (size_t)sprintf((char *)out + n, "0\r\n\r\n");
    return n;
}

typedef struct {
    http_result result;
    size_t used;
    http_parser p;
} parsed;

/* Feeds text in pieces of `step` bytes (0: all at once). The parser stays
 * in *out for inspection; free with http_parser_free. */
static void parse(http_kind kind, const void *text, size_t len, size_t step, parsed *out)
{
    const uint8_t *b = text;
    CHECK_RC(http_parser_init(&out->p, kind), TC_OK);
    out->used = 0;
    out->result = HTTP_NEED_MORE;
    if (step == 0)
        step = len ? len : 1;
    for (size_t at = 0; at < len && out->result == HTTP_NEED_MORE; at += step) {
        size_t n = len - at < step ? len - at : step, used = 0;
        out->result = http_parser_feed(&out->p, b + at, n, &used);
        out->used += used;
    }
}

static http_result parse_str(http_kind kind, const char *text, parsed *out)
{
    parse(kind, text, strlen(text), 0, out);
    return out->result;
}

static bool error_has(const parsed *p, const char *part)
{
    if (strstr(p->p.error, part))
        return true;
    fprintf(stderr, "  parser error '%s' lacks '%s'\n", p->p.error, part);
    return false;
}

/* ---- the body ---- */

static void test_body(void)
{
    static char ref[BIG];
    static uint8_t got[BIG];
    reference_body(ref, sizeof ref);
    CHECK(memcmp(ref, "0000000000 abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
                      "0000000001 ", 75) == 0);
    static const size_t offsets[] = {0, 1, 63, 64, 65, 1000, 64 * 999 + 5};
    static const size_t lengths[] = {0, 1, 10, 64, 65, 4097};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++)
        for (size_t j = 0; j < sizeof lengths / sizeof lengths[0]; j++) {
            http_body_fill(got, offsets[i], lengths[j]);
            CHECK(memcmp(got, ref + offsets[i], lengths[j]) == 0);
        }
    char hex[HTTP_SHA256_HEX], want[HTTP_SHA256_HEX];
    CHECK_RC(http_body_sha256(0, hex), TC_OK);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    static const size_t sizes[] = {1, 100, 4096, 4097, 250001};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        CHECK_RC(http_body_sha256(sizes[i], hex), TC_OK);
        sha256_hex(ref, sizes[i], want);
        CHECK(strcmp(hex, want) == 0);
    }
}

/* ---- building ---- */

static void check_head(const http_out *m, const char *want)
{
    if (!CHECK(m->head_len == strlen(want) && memcmp(m->head, want, m->head_len) == 0))
        fprintf(stderr, "  got head:\n%.*s\n  want:\n%s\n", (int)m->head_len, m->head, want);
}

static void test_build_response(void)
{
    http_out m;
    CHECK_RC(http_out_response(&m, 200, HTTP_FRAMING_LENGTH, 100, 0), TC_OK);
    check_head(&m, "HTTP/1.1 200 OK\r\nServer: tlsclose-peer\r\nContent-Type: text/plain\r\n"
                   "Connection: close\r\nContent-Length: 100\r\n\r\n");
    CHECK(http_out_total(&m) == m.head_len + 100);
    CHECK_RC(http_out_response(&m, 404, HTTP_FRAMING_CHUNKED, 10, 4), TC_OK);
    check_head(&m, "HTTP/1.1 404 Not Found\r\nServer: tlsclose-peer\r\nContent-Type: text/plain\r\n"
                   "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n");
    CHECK_RC(http_out_response(&m, 599, HTTP_FRAMING_CLOSE, 0, 0), TC_OK);
    check_head(&m, "HTTP/1.1 599 Server Error\r\nServer: tlsclose-peer\r\nContent-Type: text/plain\r\n"
                   "Connection: close\r\n\r\n");
    CHECK(http_out_total(&m) == m.head_len);
    static const int bad_status[] = {199, 204, 304, 600};
    for (size_t i = 0; i < sizeof bad_status / sizeof bad_status[0]; i++) {
        CHECK_RC(http_out_response(&m, bad_status[i], HTTP_FRAMING_LENGTH, 0, 0), TC_ERR_USAGE);
        CHECK(strstr(tc_err_msg(), "field 'status'") != NULL);
    }
    CHECK_RC(http_out_response(&m, 200, HTTP_FRAMING_LENGTH, HTTP_BODY_MAX + 1ull, 0), TC_ERR_USAGE);
    CHECK(strstr(tc_err_msg(), "field 'body_bytes'") != NULL);
    CHECK_RC(http_out_response(&m, 200, HTTP_FRAMING_CHUNKED, 10, 0), TC_ERR_USAGE);
    CHECK(strstr(tc_err_msg(), "field 'chunk'") != NULL);
}

static void test_build_request(void)
{
    http_out m;
    CHECK_RC(http_out_request(&m, "GET", "/index.html", "example.test", HTTP_FRAMING_NONE, 0, 0), TC_OK);
    check_head(&m, "GET /index.html HTTP/1.1\r\nHost: example.test\r\nUser-Agent: tlsclose-peer\r\n"
                   "Accept: */*\r\nConnection: close\r\n\r\n");
    CHECK(http_out_total(&m) == m.head_len);
    CHECK_RC(http_out_request(&m, "POST", "/up", "localhost", HTTP_FRAMING_LENGTH, 7, 0), TC_OK);
    check_head(&m, "POST /up HTTP/1.1\r\nHost: localhost\r\nUser-Agent: tlsclose-peer\r\n"
                   "Accept: */*\r\nConnection: close\r\nContent-Type: text/plain\r\n"
                   "Content-Length: 7\r\n\r\n");
    CHECK_RC(http_out_request(&m, "POST", "/", "h", HTTP_FRAMING_CHUNKED, 0, 16), TC_OK);
    CHECK(http_out_total(&m) == m.head_len + 5); /* only the last chunk */
    struct { const char *method, *target, *host; http_framing f; uint64_t body; const char *field; } bad[] = {
        {"PUT", "/", "h", HTTP_FRAMING_LENGTH, 1, "field 'method'"},
        {"GET", "/", "h", HTTP_FRAMING_NONE, 1, "field 'body_bytes'"},
        {"GET", "/", "h", HTTP_FRAMING_LENGTH, 0, "field 'framing'"},
        {"POST", "/", "h", HTTP_FRAMING_CLOSE, 1, "field 'framing'"},
        {"POST", "/", "h", HTTP_FRAMING_NONE, 1, "field 'framing'"},
        {"GET", "/a b", "h", HTTP_FRAMING_NONE, 0, "field 'target'"},
        {"GET", "", "h", HTTP_FRAMING_NONE, 0, "field 'target'"},
        {"GET", "/", "h\r\nX: y", HTTP_FRAMING_NONE, 0, "field 'host'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RC(http_out_request(&m, bad[i].method, bad[i].target, bad[i].host, bad[i].f,
                                  bad[i].body, 4), TC_ERR_USAGE);
        if (!CHECK(strstr(tc_err_msg(), bad[i].field) != NULL))
            fprintf(stderr, "  case %zu: '%s'\n", i, tc_err_msg());
    }
}

/* ---- the cursor and the cuts ---- */

static void test_cursor(void)
{
    static const size_t bodies[] = {0, 1, 63, 4096, 4097, 100000};
    static const size_t chunks[] = {1, 7, 4096, 16384};
    static const size_t steps[] = {1, 5, 16384};
    static char body[BIG];
    http_out m;
    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
        reference_body(body, bodies[b]);
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            if (bodies[b] > 5000 && chunks[c] == 1)
                continue; /* the byte-wise reference would dominate the run time */
            CHECK_RC(http_out_response(&m, 200, HTTP_FRAMING_CHUNKED, bodies[b], chunks[c]), TC_OK);
            m.head[m.head_len] = '\0';
            size_t want = reference_chunked(m.head, bodies[b], chunks[c], other);
            CHECK(http_out_total(&m) == want);
            for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
                size_t n = wire_form(&m, steps[s], wire);
                if (!CHECK(n == want && memcmp(wire, other, n) == 0))
                    fprintf(stderr, "  body %zu chunk %zu step %zu\n", bodies[b], chunks[c], steps[s]);
            }
        }
        CHECK_RC(http_out_response(&m, 200, HTTP_FRAMING_LENGTH, bodies[b], 0), TC_OK);
        size_t n = wire_form(&m, 3, wire);
        CHECK(n == m.head_len + bodies[b] && n == http_out_total(&m));
        CHECK(memcmp(wire, m.head, m.head_len) == 0 && memcmp(wire + m.head_len, body, bodies[b]) == 0);
    }
}

/* Body bytes among the first n wire bytes, counted by walking the cursor. */
static uint64_t body_within(const http_out *m, uint64_t n)
{
    http_cursor c;
    http_cursor_init(&c, m);
    while (c.pos < n)
        http_cursor_next(&c, wire, (size_t)(n - c.pos < sizeof wire ? n - c.pos : sizeof wire));
    return c.body_pos;
}

static void test_cuts(void)
{
    http_out m;
    uint64_t at = 0;
    CHECK_RC(http_out_response(&m, 200, HTTP_FRAMING_LENGTH, 1000, 0), TC_OK);
    uint64_t total = http_out_total(&m);
    CHECK_RC(http_out_cut(&m, HTTP_CUT_NONE, &at), TC_OK);
    CHECK(at == total && http_out_complete_at(&m, at));
    CHECK_RC(http_out_cut(&m, HTTP_CUT_AFTER_HEADERS, &at), TC_OK);
    CHECK(at == m.head_len && !http_out_complete_at(&m, at));
    CHECK_RC(http_out_cut(&m, HTTP_CUT_MID_BODY, &at), TC_OK);
    CHECK(at == m.head_len + 500 && body_within(&m, at) == 500);
    CHECK_RC(http_out_cut(&m, HTTP_CUT_BEFORE_LAST_BYTE, &at), TC_OK);
    CHECK(at == total - 1 && !http_out_complete_at(&m, at) && body_within(&m, at) == 999);
    CHECK_RC(http_out_cut(&m, HTTP_CUT_CHUNK_BOUNDARY, &at), TC_ERR_USAGE);
    CHECK(strstr(tc_err_msg(), "field 'cut'") != NULL);

    /* chunked, 10000 bytes in chunks of 4096 (0x1000): 4096, 4096, 1808 (0x710) */
    CHECK_RC(http_out_response(&m, 200, HTTP_FRAMING_CHUNKED, 10000, 4096), TC_OK);
    total = http_out_total(&m);
    CHECK(total == m.head_len + 2 * (4 + 2 + 4096 + 2) + (3 + 2 + 1808 + 2) + 5);
    CHECK_RC(http_out_cut(&m, HTTP_CUT_CHUNK_BOUNDARY, &at), TC_OK);
    CHECK(at == total - 5 && body_within(&m, at) == 10000 && !http_out_complete_at(&m, at));
    CHECK_RC(http_out_cut(&m, HTTP_CUT_MID_BODY, &at), TC_OK);
    /* body byte 5000 is byte 904 of the second chunk's data */
    CHECK(at == m.head_len + (4 + 2 + 4096 + 2) + (4 + 2) + 904 && body_within(&m, at) == 5000);
    CHECK_RC(http_out_cut(&m, HTTP_CUT_BEFORE_LAST_BYTE, &at), TC_OK);
    /* the zero-sized chunk is whole: complete by RFC 9112 §8 without the final CRLF */
    CHECK(at == total - 1 && http_out_complete_at(&m, at));
    CHECK(http_out_complete_at(&m, total - 2) && !http_out_complete_at(&m, total - 3));

    CHECK_RC(http_out_response(&m, 200, HTTP_FRAMING_CLOSE, 1, 0), TC_OK);
    CHECK_RC(http_out_cut(&m, HTTP_CUT_MID_BODY, &at), TC_ERR_USAGE);
    CHECK(strstr(tc_err_msg(), "mid-body") != NULL);
    CHECK_RC(http_out_request(&m, "GET", "/", "h", HTTP_FRAMING_NONE, 0, 0), TC_OK);
    CHECK_RC(http_out_cut(&m, HTTP_CUT_BEFORE_LAST_BYTE, &at), TC_OK);
    CHECK(at == m.head_len - 1 && !http_out_complete_at(&m, at));
}

/* ---- parsing: well-formed ---- */

static void test_parse_request(void)
{
    parsed r;
    const char *get = "GET /x?y=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n";
    CHECK(parse_str(HTTP_REQUEST, get, &r) == HTTP_DONE);
    CHECK(r.used == strlen(get) && r.p.framing == HTTP_FRAMING_NONE && r.p.body == 0);
    CHECK(strcmp(r.p.method, "GET") == 0 && strcmp(r.p.target, "/x?y=1") == 0 &&
          strcmp(r.p.version, "HTTP/1.1") == 0);
    CHECK(r.p.n_fields == 2 && strcmp(r.p.fields[1], "User-Agent: t") == 0);
    CHECK(r.p.head_bytes == strlen(get));
    http_parser_free(&r.p);

    /* empty lines before the request line are passed over (RFC 9112 §2.2) */
    CHECK(parse_str(HTTP_REQUEST, "\r\n\r\nGET / HTTP/1.0\n\n", &r) == HTTP_DONE);
    CHECK(strcmp(r.p.version, "HTTP/1.0") == 0);
    http_parser_free(&r.p);

    /* a body by Content-Length, fed one byte at a time; what follows stays */
    static char text[4096];
    char hex[HTTP_SHA256_HEX], want[HTTP_SHA256_HEX];
    int n = snprintf(text, sizeof text, "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello worldGET");
    parse(HTTP_REQUEST, text, (size_t)n, 1, &r);
    CHECK(r.result == HTTP_DONE && r.used == (size_t)n - 3 && r.p.body == 11);
    CHECK_RC(http_parser_body_sha256(&r.p, hex), TC_OK);
    sha256_hex("hello world", 11, want);
    CHECK(strcmp(hex, want) == 0);
    http_parser_free(&r.p);

    /* Transfer-Encoding overrides Content-Length (rule 3) */
    CHECK(parse_str(HTTP_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "2\r\nab\r\n0\r\n\r\n", &r) == HTTP_DONE);
    CHECK(r.p.framing == HTTP_FRAMING_CHUNKED && r.p.body == 2);
    http_parser_free(&r.p);
}

static void test_parse_response(void)
{
    parsed r;
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nabcde", &r) == HTTP_DONE);
    CHECK(r.p.status == 200 && strcmp(r.p.reason, "OK") == 0 && r.p.body == 5);
    http_parser_free(&r.p);

    /* close-delimited: complete only after a closure alert (RFC 9112 §9.8) */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\nsome body", &r) ==
          HTTP_NEED_MORE);
    CHECK(r.p.framing == HTTP_FRAMING_CLOSE && r.p.body == 9);
    CHECK(http_parser_complete(&r.p, true) && !http_parser_complete(&r.p, false));
    http_parser_free(&r.p);

    /* a Transfer-Encoding not ending in chunked: close-delimited (rule 4) */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nx", &r) ==
          HTTP_NEED_MORE);
    CHECK(r.p.framing == HTTP_FRAMING_CLOSE);
    http_parser_free(&r.p);
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
                                   "CHUNKED ;x=1,\r\n\r\n0\r\n\r\n", &r) == HTTP_DONE);
    CHECK(r.p.framing == HTTP_FRAMING_CHUNKED);
    http_parser_free(&r.p);

    /* no body: 204, 304, whatever the fields say; 1xx passed over */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", &r) == HTTP_DONE);
    CHECK(r.p.body == 0 && r.p.framing == HTTP_FRAMING_NONE);
    http_parser_free(&r.p);
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                                   "Content-Length: 2\r\n\r\nokXX", &r) == HTTP_DONE);
    CHECK(r.p.interim == 1 && r.p.status == 200 && r.p.body == 2 && r.used == strlen(
          "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    http_parser_free(&r.p);
    /* a status line without a reason phrase, and LF-only line ends */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200\nContent-Length: 0\n\n", &r) == HTTP_DONE);
    CHECK(r.p.status == 200 && r.p.reason[0] == '\0');
    http_parser_free(&r.p);
}

/* The reference chunked body parses back to the reference body, whatever
 * the piece size, and the parser stops at its last byte. */
static void test_parse_chunked_roundtrip(void)
{
    static char body[BIG];
    static const size_t steps[] = {0, 1, 2, 7, 4099};
    http_out m;
    char want[HTTP_SHA256_HEX], hex[HTTP_SHA256_HEX];
    CHECK_RC(http_out_response(&m, 200, HTTP_FRAMING_CHUNKED, 20000, 333), TC_OK);
    size_t n = wire_form(&m, 16384, wire);
    memcpy(wire + n, "HTTP/1.1", 8);
    reference_body(body, 20000);
    sha256_hex(body, 20000, want);
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        parsed r;
        parse(HTTP_RESPONSE, wire, n + 8, steps[s], &r);
        CHECK(r.result == HTTP_DONE && r.used == n && r.p.body == 20000);
        CHECK(r.p.chunks == (20000 + 332) / 333 && r.p.last_chunk);
        CHECK_RC(http_parser_body_sha256(&r.p, hex), TC_OK);
        CHECK(strcmp(hex, want) == 0);
        http_parser_free(&r.p);
    }
}

static void test_parse_chunked_edges(void)
{
    parsed r;
    /* extensions, upper-case hex, leading zeros, trailer fields */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "00A;name=value\r\n0123456789\r\n1 ; x\r\n!\r\n0;last\r\n"
                                   "Checksum: abc\r\nOther: d\r\n\r\n", &r) == HTTP_DONE);
    CHECK(r.p.body == 11 && r.p.chunks == 2 && r.p.trailers == 2);
    http_parser_free(&r.p);
    /* the zero chunk without the final CRLF: complete by RFC 9112 §8 */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "3\r\nabc\r\n0\r\n", &r) == HTTP_NEED_MORE);
    CHECK(r.p.last_chunk && http_parser_complete(&r.p, false));
    CHECK(strcmp(http_parser_state_name(&r.p), "trailer") == 0);
    http_parser_free(&r.p);
    /* ended at a chunk boundary: incomplete, even after a closure alert */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "3\r\nabc\r\n", &r) == HTTP_NEED_MORE);
    CHECK(!r.p.last_chunk && !http_parser_complete(&r.p, true) && !http_parser_complete(&r.p, false));
    CHECK(strcmp(http_parser_state_name(&r.p), "chunk-size") == 0);
    http_parser_free(&r.p);
    /* mid-chunk */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "10\r\nabc", &r) == HTTP_NEED_MORE);
    CHECK(r.p.body == 3 && r.p.left == 13 && !http_parser_complete(&r.p, true));
    http_parser_free(&r.p);
    /* a Content-Length body cut short is incomplete whatever ended it */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", &r) == HTTP_NEED_MORE);
    CHECK(!http_parser_complete(&r.p, true));
    http_parser_free(&r.p);
    /* the header section cut short */
    CHECK(parse_str(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Len", &r) == HTTP_NEED_MORE);
    CHECK(!http_parser_complete(&r.p, true) && strcmp(http_parser_state_name(&r.p), "head") == 0);
    http_parser_free(&r.p);
}

/* ---- parsing: malformed ---- */

static void test_parse_malformed(void)
{
    struct { http_kind kind; const char *text; const char *why; } cases[] = {
        {HTTP_REQUEST, "GET /\r\n\r\n", "request line"},
        {HTTP_REQUEST, "GET / HTTP/1.1 x\r\n\r\n", "bad version"},
        {HTTP_REQUEST, "G(T / HTTP/1.1\r\n\r\n", "bad method"},
        {HTTP_REQUEST, "GET  HTTP/1.1\r\n\r\n", "bad target"},
        {HTTP_REQUEST, "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "field name"},
        {HTTP_REQUEST, "GET / HTTP/1.1\r\nHost a\r\n\r\n", "without ':'"},
        {HTTP_REQUEST, "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "folding"},
        {HTTP_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "final coding"},
        {HTTP_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "differ"},
        {HTTP_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", "differ"},
        {HTTP_REQUEST, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "not a number"},
        {HTTP_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", "not a number"},
        {HTTP_REQUEST, "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", "not a number"},
        {HTTP_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n", "not a number"},
        {HTTP_RESPONSE, "HTTP/1.1 2000 OK\r\n\r\n", "status line"},
        {HTTP_RESPONSE, "HTTP/1.1 20 OK\r\n\r\n", "status line"},
        {HTTP_RESPONSE, "HTTP/1.1 099 Old\r\n\r\n", "outside"},
        {HTTP_RESPONSE, "ICY 200 OK\r\n\r\n", "status line"},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "chunk size"},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1x\r\n", "chunk size"},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "1000000000000000\r\n", "hex digits"},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "CRLF"},
        {HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a field\r\n\r\n",
         "trailer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parsed r;
        if (!CHECK(parse_str(cases[i].kind, cases[i].text, &r) == HTTP_BAD && error_has(&r, cases[i].why)))
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].text);
        CHECK(!http_parser_complete(&r.p, true));
        /* nothing more is taken once bad */
        size_t used = 9;
        CHECK(http_parser_feed(&r.p, (const uint8_t *)"more", 4, &used) == HTTP_BAD && used == 0);
        http_parser_free(&r.p);
    }
}

static void test_parse_limits(void)
{
    parsed r;
    static char text[HTTP_HEAD_MAX + 64];
    /* a NUL in the header section */
    parse(HTTP_REQUEST, "GET / HTTP/1.1\r\nA: \0\r\n\r\n", 24, 0, &r);
    CHECK(r.result == HTTP_BAD && error_has(&r, "NUL"));
    http_parser_free(&r.p);
    /* a header section of HTTP_HEAD_MAX bytes is accepted, one more is not */
    size_t n = (size_t)sprintf(text, "GET / HTTP/1.1\r\nX: ");
    memset(text + n, 'a', HTTP_HEAD_MAX - n - 4);
    memcpy(text + HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
    parse(HTTP_REQUEST, text, HTTP_HEAD_MAX, 1000, &r);
    CHECK(r.result == HTTP_DONE && r.p.head_bytes == HTTP_HEAD_MAX);
    http_parser_free(&r.p);
    memset(text + n, 'a', HTTP_HEAD_MAX - n - 3);
    memcpy(text + HTTP_HEAD_MAX - 3, "\r\n\r\n", 4);
    parse(HTTP_REQUEST, text, HTTP_HEAD_MAX + 1, 0, &r);
    CHECK(r.result == HTTP_BAD && error_has(&r, "longer than"));
    http_parser_free(&r.p);
    /* a chunk line longer than HTTP_LINE_MAX */
    n = (size_t)sprintf(text, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
    memset(text + n, 'e', HTTP_LINE_MAX);
    parse(HTTP_RESPONSE, text, n + HTTP_LINE_MAX, 0, &r);
    CHECK(r.result == HTTP_BAD && error_has(&r, "line longer"));
    http_parser_free(&r.p);
    /* header fields beyond HTTP_MAX_FIELDS are parsed but not kept */
    n = (size_t)sprintf(text, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_FIELDS + 5; i++)
        n += (size_t)sprintf(text + n, "F%d: v\r\n", i);
    n += (size_t)sprintf(text + n, "Content-Length: 1\r\n\r\nz");
    parse(HTTP_REQUEST, text, n, 0, &r);
    CHECK(r.result == HTTP_DONE && r.p.n_fields == HTTP_MAX_FIELDS && r.p.body == 1);
    http_parser_free(&r.p);
}

/* Random bytes and mutated messages, fed whole and in random pieces: never
 * a crash (AddressSanitizer builds catch over-reads), and the same answer
 * whatever the pieces. */
static void test_parse_random(void)
{
    static const char *const seeds[] = {
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    };
    uint64_t state = 0x5eed1234abcdULL;
    static uint8_t buf[512];
    for (int round = 0; round < 20000; round++) {
        size_t len;
        if (round % 4 == 0) {
            len = tu_rand(&state) % sizeof buf;
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)tu_rand(&state);
        } else {
            const char *s = seeds[tu_rand(&state) % 3];
            len = strlen(s);
            memcpy(buf, s, len);
            for (int k = (int)(tu_rand(&state) % 4); k >= 0; k--)
                buf[tu_rand(&state) % len] = (uint8_t)"\r\n: ;0f\x00\x7f 9aZ"[tu_rand(&state) % 13];
            len = tu_rand(&state) % (len + 1);
        }
        http_kind kind = round & 1 ? HTTP_RESPONSE : HTTP_REQUEST;
        parsed whole, pieces;
        parse(kind, buf, len, 0, &whole);
        parse(kind, buf, len, 1 + tu_rand(&state) % 9, &pieces);
        if (!CHECK(whole.result == pieces.result && whole.used == pieces.used &&
                   whole.p.body == pieces.p.body && whole.p.state == pieces.p.state))
            fprintf(stderr, "  round %d\n", round);
        http_parser_free(&whole.p);
        http_parser_free(&pieces.p);
    }
}

int main(int argc, char **argv)
{
    static const tu_case cases[] = {
        {"body", test_body},
        {"build_response", test_build_response},
        {"build_request", test_build_request},
        {"cursor", test_cursor},
        {"cuts", test_cuts},
        {"parse_request", test_parse_request},
        {"parse_response", test_parse_response},
        {"parse_chunked_roundtrip", test_parse_chunked_roundtrip},
        {"parse_chunked_edges", test_parse_chunked_edges},
        {"parse_malformed", test_parse_malformed},
        {"parse_limits", test_parse_limits},
        {"parse_random", test_parse_random},
    };
    return tu_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
