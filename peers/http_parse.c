/* http_parse.c: the incremental HTTP/1.1 parser of http.h.
 *
 * The message-length rules are those of RFC 9112 §6.3, in its order:
 * 1xx (but 101), 204 and 304 responses have no body; a Transfer-Encoding
 * whose final coding is chunked means chunked (and overrides a
 * Content-Length, rule 3); any other Transfer-Encoding makes a response
 * close-delimited and a request bad (rule 4); Content-Length values that
 * differ are bad (rule 5); a request with neither has no body (rule 6); a
 * response with neither is close-delimited (rule 8). */
#include "http.h"

#include "tc_err.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum parse_state {
    PS_HEAD,
    PS_BODY,       /* Content-Length bytes */
    PS_CLOSE,      /* everything until the connection ends */
    PS_CHUNK_SIZE,
    PS_CHUNK_DATA,
    PS_CHUNK_END,  /* the CRLF after a chunk's data */
    PS_TRAILER,
    PS_DONE,
    PS_BAD,
};

static const char *const state_names[] = {
    [PS_HEAD] = "head", [PS_BODY] = "body", [PS_CLOSE] = "body",
    [PS_CHUNK_SIZE] = "chunk-size", [PS_CHUNK_DATA] = "chunk-data", [PS_CHUNK_END] = "chunk-end",
    [PS_TRAILER] = "trailer", [PS_DONE] = "done", [PS_BAD] = "bad",
};

#define MAX_LENGTH_DIGITS 18 /* below 2^63: a length that cannot overflow */
#define MAX_CHUNK_DIGITS 15

int http_parser_init(http_parser *p, http_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->state = PS_HEAD;
    p->sha = EVP_MD_CTX_new();
    if (!p->sha || !EVP_DigestInit_ex(p->sha, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(p->sha);
        p->sha = NULL;
        return tc_err_set(TC_ERR_CRYPTO, "SHA-256 failed");
    }
    return TC_OK;
}

void http_parser_free(http_parser *p)
{
    EVP_MD_CTX_free(p->sha);
    p->sha = NULL;
}

const char *http_parser_state_name(const http_parser *p)
{
    return state_names[p->state];
}

int http_parser_body_sha256(const http_parser *p, char hex[HTTP_SHA256_HEX])
{
    if (p->hash_failed)
        return tc_err_set(TC_ERR_CRYPTO, "SHA-256 failed");
    return http_digest_hex(p->sha, hex);
}

static http_result fail(http_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static http_result fail(http_parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    p->state = PS_BAD;
    return HTTP_BAD;
}

/* ---- the start line ---- */

/* tchar of RFC 9110 §5.6.2. */
static bool is_tchar(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(s[i]))
            return false;
    return n > 0;
}

static bool is_version(const char *s, size_t n)
{
    return n == 8 && memcmp(s, "HTTP/", 5) == 0 && isdigit((unsigned char)s[5]) && s[6] == '.' &&
           isdigit((unsigned char)s[7]);
}

static void copy_text(char *dst, size_t cap, const char *src, size_t n)
{
    n = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '.';
    dst[n] = '\0';
}

static http_result request_line(http_parser *p, const char *s, size_t n)
{
    const char *sp1 = memchr(s, ' ', n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s)) : NULL;
    if (!sp2)
        return fail(p, "request line is not METHOD SP TARGET SP VERSION");
    size_t mlen = (size_t)(sp1 - s), tlen = (size_t)(sp2 - sp1 - 1), vlen = n - (size_t)(sp2 + 1 - s);
    if (!is_token(s, mlen) || mlen >= sizeof p->method)
        return fail(p, "request line: bad method");
    if (tlen == 0 || tlen > HTTP_TARGET_MAX)
        return fail(p, "request line: bad target");
    if (!is_version(sp2 + 1, vlen))
        return fail(p, "request line: bad version");
    copy_text(p->method, sizeof p->method, s, mlen);
    copy_text(p->target, sizeof p->target, sp1 + 1, tlen);
    copy_text(p->version, sizeof p->version, sp2 + 1, vlen);
    return HTTP_NEED_MORE;
}

static http_result status_line(http_parser *p, const char *s, size_t n)
{
    if (n < 12 || !is_version(s, 8) || s[8] != ' ' || !isdigit((unsigned char)s[9]) ||
        !isdigit((unsigned char)s[10]) || !isdigit((unsigned char)s[11]) || (n > 12 && s[12] != ' '))
        return fail(p, "status line is not VERSION SP 3DIGIT SP REASON");
    p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (p->status < 100 || p->status > 599)
        return fail(p, "status %d is outside 100..599", p->status);
    copy_text(p->version, sizeof p->version, s, 8);
    p->reason[0] = '\0';
    if (n > 13)
        copy_text(p->reason, sizeof p->reason, s + 13, n - 13);
    return HTTP_NEED_MORE;
}

/* ---- header fields ---- */

typedef struct {
    bool te;             /* a Transfer-Encoding field arrived */
    bool te_chunked;     /* ... whose final coding is chunked */
} framing_fields;

static const char *trim(const char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t'))
        s++, (*n)--;
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    return s;
}

/* Content-Length: a list of equal values is one value (RFC 9112 §6.3
 * rule 5); anything else that is not one decimal number is bad. */
static http_result content_length(http_parser *p, const char *v, size_t n)
{
    size_t at = 0;
    for (;;) {
        const char *comma = memchr(v + at, ',', n - at);
        size_t len = (comma ? (size_t)(comma - v) : n) - at;
        const char *item = trim(v + at, &len);
        uint64_t value = 0;
        if (len == 0 || len > MAX_LENGTH_DIGITS)
            return fail(p, "Content-Length is not a number");
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)item[i]))
                return fail(p, "Content-Length is not a number");
            value = value * 10 + (uint64_t)(item[i] - '0');
        }
        if (p->has_length && value != p->content_length)
            return fail(p, "Content-Length values differ");
        p->has_length = true;
        p->content_length = value;
        if (!comma)
            return HTTP_NEED_MORE;
        at = (size_t)(comma - v) + 1;
    }
}

/* Transfer-Encoding: only the final coding matters here (§6.3 rules 3-4);
 * a later field line's codings come after an earlier one's. */
static void transfer_encoding(framing_fields *f, const char *v, size_t n)
{
    size_t at = 0;
    f->te = true;
    for (;;) {
        const char *comma = memchr(v + at, ',', n - at);
        size_t len = (comma ? (size_t)(comma - v) : n) - at;
        const char *semi = memchr(v + at, ';', len);
        if (semi)
            len = (size_t)(semi - v) - at;
        const char *coding = trim(v + at, &len);
        if (len > 0) /* empty list elements do not count (RFC 9110 §5.6.1) */
            f->te_chunked = len == 7 && strncasecmp(coding, "chunked", 7) == 0;
        if (!comma)
            return;
        at = (size_t)(comma - v) + 1;
    }
}

static void keep_field(http_parser *p, const char *s, size_t n)
{
    if (p->n_fields < HTTP_MAX_FIELDS)
        copy_text(p->fields[p->n_fields++], HTTP_FIELD_SHOWN + 1, s, n);
}

static http_result field_line(http_parser *p, framing_fields *f, const char *s, size_t n)
{
    if (s[0] == ' ' || s[0] == '\t')
        return fail(p, "obsolete line folding in the header section");
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return fail(p, "header field without ':'");
    size_t name_len = (size_t)(colon - s), vlen = n - name_len - 1;
    if (!is_token(s, name_len))
        return fail(p, "bad header field name (RFC 9112 §5.1: no whitespace before ':')");
    keep_field(p, s, n);
    const char *v = trim(colon + 1, &vlen);
    if (name_len == 14 && strncasecmp(s, "content-length", 14) == 0)
        return content_length(p, v, vlen);
    if (name_len == 17 && strncasecmp(s, "transfer-encoding", 17) == 0)
        transfer_encoding(f, v, vlen);
    return HTTP_NEED_MORE;
}

/* ---- the header section as a whole ---- */

static void start_body(http_parser *p, http_framing framing)
{
    p->framing = framing;
    p->head_bytes = p->head_len;
    switch (framing) {
    case HTTP_FRAMING_NONE: p->state = PS_DONE; break;
    case HTTP_FRAMING_LENGTH:
        p->left = p->content_length;
        p->state = p->left ? PS_BODY : PS_DONE;
        break;
    case HTTP_FRAMING_CHUNKED: p->state = PS_CHUNK_SIZE; break;
    case HTTP_FRAMING_CLOSE: p->state = PS_CLOSE; break;
    }
}

static http_result choose_framing(http_parser *p, const framing_fields *f)
{
    if (p->kind == HTTP_RESPONSE) {
        if (p->status < 200 || p->status == 204 || p->status == 304) { /* 101 here */
            start_body(p, HTTP_FRAMING_NONE);
            return HTTP_DONE;
        }
        start_body(p, f->te ? (f->te_chunked ? HTTP_FRAMING_CHUNKED : HTTP_FRAMING_CLOSE)
                            : p->has_length ? HTTP_FRAMING_LENGTH : HTTP_FRAMING_CLOSE);
        return HTTP_NEED_MORE;
    }
    if (f->te && !f->te_chunked)
        return fail(p, "request Transfer-Encoding whose final coding is not chunked");
    start_body(p, f->te ? HTTP_FRAMING_CHUNKED
                        : p->has_length ? HTTP_FRAMING_LENGTH : HTTP_FRAMING_NONE);
    return HTTP_NEED_MORE;
}

/* The next line of the header section; *n excludes the line end. */
static const char *next_line(const char *s, const char *end, size_t *n, const char **rest)
{
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    *rest = nl ? nl + 1 : end;
    *n = (size_t)((nl ? nl : end) - s);
    if (*n && s[*n - 1] == '\r')
        (*n)--;
    return s;
}

static http_result parse_head(http_parser *p)
{
    framing_fields f = {0};
    const char *end = p->head + p->head_len, *rest;
    size_t n;
    const char *line = next_line(p->head, end, &n, &rest);
    http_result r = p->kind == HTTP_REQUEST ? request_line(p, line, n) : status_line(p, line, n);
    while (r == HTTP_NEED_MORE && rest < end) {
        line = next_line(rest, end, &n, &rest);
        if (n == 0)
            break; /* the empty line that ends the section */
        r = field_line(p, &f, line, n);
    }
    if (r == HTTP_BAD)
        return r;
    if (p->kind == HTTP_RESPONSE && p->status >= 100 && p->status < 200 && p->status != 101) {
        p->interim++; /* an interim response: the final one follows */
        p->head_len = 0;
        p->n_fields = 0;
        p->has_length = false;
        return HTTP_NEED_MORE;
    }
    return choose_framing(p, &f);
}

static bool head_ended(const http_parser *p)
{
    const char *h = p->head;
    size_t n = p->head_len;
    return (n >= 2 && h[n - 1] == '\n' && h[n - 2] == '\n') ||
           (n >= 3 && h[n - 1] == '\n' && h[n - 2] == '\r' && h[n - 3] == '\n');
}

/* Header bytes up to the empty line. A request may be preceded by empty
 * lines, which RFC 9112 §2.2 asks a server to pass over. */
static size_t feed_head(http_parser *p, const uint8_t *data, size_t len)
{
    size_t at = 0;
    while (at < len && p->state == PS_HEAD) {
        char c = (char)data[at++];
        if (p->head_len == 0 && p->kind == HTTP_REQUEST && (c == '\r' || c == '\n'))
            continue;
        if (c == '\0') {
            fail(p, "NUL byte in the header section");
            break;
        }
        if (p->head_len == HTTP_HEAD_MAX) {
            fail(p, "header section longer than %d bytes", HTTP_HEAD_MAX);
            break;
        }
        p->head[p->head_len++] = c;
        p->head[p->head_len] = '\0';
        if (head_ended(p))
            parse_head(p);
    }
    return at;
}

/* ---- the body ---- */

static void take_body(http_parser *p, const uint8_t *data, size_t n)
{
    if (n && !EVP_DigestUpdate(p->sha, data, n))
        p->hash_failed = true; /* shows when the hash is read */
    p->body += n;
}

static http_result chunk_size_line(http_parser *p, const char *s, size_t n)
{
    uint64_t size = 0;
    size_t digits = 0;
    while (digits < n && isxdigit((unsigned char)s[digits])) {
        int c = tolower((unsigned char)s[digits]);
        size = size * 16 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
        if (++digits > MAX_CHUNK_DIGITS)
            return fail(p, "chunk size has more than %d hex digits", MAX_CHUNK_DIGITS);
    }
    size_t rest = n - digits;
    const char *ext = trim(s + digits, &rest);
    if (digits == 0 || (rest > 0 && *ext != ';'))
        return fail(p, "bad chunk size line");
    if (size == 0) {
        p->last_chunk = true;
        p->state = PS_TRAILER;
    } else {
        p->left = size;
        p->chunks++;
        p->state = PS_CHUNK_DATA;
    }
    return HTTP_NEED_MORE;
}

static http_result body_line(http_parser *p, const char *s, size_t n)
{
    switch (p->state) {
    case PS_CHUNK_SIZE: return chunk_size_line(p, s, n);
    case PS_CHUNK_END:
        if (n > 0)
            return fail(p, "chunk data longer than its size, or not followed by CRLF");
        p->state = PS_CHUNK_SIZE;
        return HTTP_NEED_MORE;
    default: /* PS_TRAILER */
        if (n == 0) {
            p->state = PS_DONE;
            return HTTP_DONE;
        }
        if (!memchr(s, ':', n))
            return fail(p, "trailer line without ':'");
        p->trailers++;
        return HTTP_NEED_MORE;
    }
}

/* Bytes of a chunk-size line, a chunk's CRLF or a trailer line. */
static size_t feed_line(http_parser *p, const uint8_t *data, size_t len)
{
    size_t at = 0;
    while (at < len) {
        char c = (char)data[at++];
        if (c == '\n') {
            size_t n = p->line_len;
            if (n && p->line[n - 1] == '\r')
                n--;
            p->line_len = 0;
            body_line(p, p->line, n);
            return at;
        }
        if (p->line_len == HTTP_LINE_MAX) {
            fail(p, "line longer than %d bytes in the chunked body", HTTP_LINE_MAX);
            return at;
        }
        p->line[p->line_len++] = c;
    }
    return at;
}

/* Body bytes counted against p->left; next state when it reaches 0. */
static size_t feed_counted(http_parser *p, const uint8_t *data, size_t len, int next)
{
    size_t n = len < p->left ? len : (size_t)p->left;
    take_body(p, data, n);
    p->left -= n;
    if (p->left == 0)
        p->state = next;
    return n;
}

http_result http_parser_feed(http_parser *p, const uint8_t *data, size_t len, size_t *used)
{
    size_t at = 0;
    while (at < len && p->state != PS_DONE && p->state != PS_BAD) {
        switch (p->state) {
        case PS_HEAD: at += feed_head(p, data + at, len - at); break;
        case PS_BODY: at += feed_counted(p, data + at, len - at, PS_DONE); break;
        case PS_CHUNK_DATA: at += feed_counted(p, data + at, len - at, PS_CHUNK_END); break;
        case PS_CLOSE: take_body(p, data + at, len - at); at = len; break;
        default: at += feed_line(p, data + at, len - at); break;
        }
    }
    *used = at;
    return p->state == PS_DONE ? HTTP_DONE : p->state == PS_BAD ? HTTP_BAD : HTTP_NEED_MORE;
}

bool http_parser_complete(const http_parser *p, bool closure_alert)
{
    if (p->state == PS_DONE)
        return true;
    if (p->state == PS_CLOSE)
        return closure_alert;
    return p->framing == HTTP_FRAMING_CHUNKED && p->last_chunk && p->state != PS_BAD;
}
