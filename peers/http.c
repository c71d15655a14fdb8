/* http.c: names, the deterministic body, building messages and handing out
 * their wire form (http.h). Parsing is in http_parse.c. */
#include "http.h"

#include "tc_err.h"

#include <stdio.h>
#include <string.h>

static const char *const framing_names[] = {
    [HTTP_FRAMING_NONE] = "none",
    [HTTP_FRAMING_LENGTH] = "content-length",
    [HTTP_FRAMING_CHUNKED] = "chunked",
    [HTTP_FRAMING_CLOSE] = "close-delimited",
};

static const char *const cut_names[] = {
    [HTTP_CUT_NONE] = "none",
    [HTTP_CUT_AFTER_HEADERS] = "after-headers",
    [HTTP_CUT_MID_BODY] = "mid-body",
    [HTTP_CUT_CHUNK_BOUNDARY] = "chunk-boundary",
    [HTTP_CUT_BEFORE_LAST_BYTE] = "before-last-byte",
};

const char *http_framing_name(http_framing f)
{
    return framing_names[f];
}

int http_framing_parse(const char *name, http_framing *out)
{
    for (int f = HTTP_FRAMING_LENGTH; f <= HTTP_FRAMING_CLOSE; f++) {
        if (strcmp(name, framing_names[f]) == 0) {
            *out = (http_framing)f;
            return TC_OK;
        }
    }
    return tc_err_set(TC_ERR_USAGE, "field 'framing': expected \"content-length\", \"chunked\" "
                      "or \"close-delimited\"");
}

const char *http_cut_name(http_cut c)
{
    return cut_names[c];
}

int http_cut_parse(const char *name, http_cut *out)
{
    for (int c = HTTP_CUT_NONE; c <= HTTP_CUT_BEFORE_LAST_BYTE; c++) {
        if (strcmp(name, cut_names[c]) == 0) {
            *out = (http_cut)c;
            return TC_OK;
        }
    }
    return tc_err_set(TC_ERR_USAGE, "field 'cut': expected \"none\", \"after-headers\", "
                      "\"mid-body\", \"chunk-boundary\" or \"before-last-byte\"");
}

/* ---- the body ---- */

static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static void body_line(uint64_t k, char line[HTTP_BODY_LINE + 1])
{
    snprintf(line, HTTP_BODY_LINE + 1, "%010llu %s\n", (unsigned long long)(k % 10000000000ull),
             letters);
}

void http_body_fill(uint8_t *out, uint64_t offset, size_t len)
{
    char line[HTTP_BODY_LINE + 1];
    while (len > 0) {
        size_t col = (size_t)(offset % HTTP_BODY_LINE);
        size_t n = HTTP_BODY_LINE - col < len ? HTTP_BODY_LINE - col : len;
        body_line(offset / HTTP_BODY_LINE, line);
        memcpy(out, line + col, n);
        out += n;
        offset += n;
        len -= n;
    }
}

static void to_hex(const uint8_t *digest, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[2 * len] = '\0';
}

/* Finishes a copy of ctx, so the caller can keep adding to ctx. */
int http_digest_hex(EVP_MD_CTX *ctx, char hex[HTTP_SHA256_HEX])
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    int ok = copy && EVP_MD_CTX_copy_ex(copy, ctx) && EVP_DigestFinal_ex(copy, digest, &len) &&
             len == 32;
    EVP_MD_CTX_free(copy);
    if (!ok)
        return tc_err_set(TC_ERR_CRYPTO, "SHA-256 failed");
    to_hex(digest, len, hex);
    return TC_OK;
}

int http_body_sha256(uint64_t len, char hex[HTTP_SHA256_HEX])
{
    static uint8_t buf[64 * HTTP_BODY_LINE];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (uint64_t at = 0; ok && at < len; at += sizeof buf) {
        size_t n = len - at < sizeof buf ? (size_t)(len - at) : sizeof buf;
        http_body_fill(buf, at, n);
        ok = EVP_DigestUpdate(ctx, buf, n);
    }
    int rc = ok ? http_digest_hex(ctx, hex) : tc_err_set(TC_ERR_CRYPTO, "SHA-256 failed");
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ---- building ---- */

static const char *reason_phrase(int status)
{
    static const struct { int status; const char *reason; } known[] = {
        {200, "OK"}, {201, "Created"}, {202, "Accepted"}, {206, "Partial Content"},
        {301, "Moved Permanently"}, {302, "Found"}, {400, "Bad Request"}, {403, "Forbidden"},
        {404, "Not Found"}, {500, "Internal Server Error"}, {502, "Bad Gateway"},
        {503, "Service Unavailable"},
    };
    static const char *const by_class[] = {"", "", "Success", "Redirection", "Client Error",
                                           "Server Error"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].status == status)
            return known[i].reason;
    return by_class[status / 100];
}

/* Appends the framing's header field and the empty line. */
static int finish_head(http_out *m, size_t at)
{
    int n;
    if (m->framing == HTTP_FRAMING_LENGTH)
        n = snprintf(m->head + at, sizeof m->head - at, "Content-Length: %llu\r\n\r\n",
                     (unsigned long long)m->body_len);
    else if (m->framing == HTTP_FRAMING_CHUNKED)
        n = snprintf(m->head + at, sizeof m->head - at, "Transfer-Encoding: chunked\r\n\r\n");
    else
        n = snprintf(m->head + at, sizeof m->head - at, "\r\n");
    if (n < 0 || (size_t)n >= sizeof m->head - at)
        return tc_err_set(TC_ERR_USAGE, "header section longer than %d bytes", HTTP_OUT_HEAD_MAX);
    m->head_len = at + (size_t)n;
    return TC_OK;
}

static int check_body(http_framing framing, uint64_t body_len, size_t chunk)
{
    if (body_len > HTTP_BODY_MAX)
        return tc_err_set(TC_ERR_USAGE, "field 'body_bytes': %llu is over %u",
                          (unsigned long long)body_len, HTTP_BODY_MAX);
    if (framing == HTTP_FRAMING_CHUNKED && chunk == 0)
        return tc_err_set(TC_ERR_USAGE, "field 'chunk': must be at least 1");
    return TC_OK;
}

int http_out_response(http_out *m, int status, http_framing framing, uint64_t body_len,
                      size_t chunk)
{
    memset(m, 0, sizeof *m);
    if (status < 200 || status > 599 || status == 204 || status == 304)
        return tc_err_set(TC_ERR_USAGE, "field 'status': %d: expected 200..599 but 204 and 304, whose "
                          "responses have no body (RFC 9112 §6.3)", status);
    if (framing == HTTP_FRAMING_NONE)
        return tc_err_set(TC_ERR_USAGE, "field 'framing': a response needs one");
    int rc = check_body(framing, body_len, chunk);
    if (rc < 0)
        return rc;
    m->framing = framing;
    m->body_len = body_len;
    m->chunk = chunk;
    int n = snprintf(m->head, sizeof m->head,
                     "HTTP/1.1 %d %s\r\nServer: tlsclose-peer\r\nContent-Type: text/plain\r\n"
                     "Connection: close\r\n", status, reason_phrase(status));
    return finish_head(m, (size_t)n);
}

/* Printable ASCII without spaces: what a request target or host may hold
 * here (a script cannot smuggle a line break into the header section). */
static int check_token(const char *what, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return tc_err_set(TC_ERR_USAGE, "field '%s': 1..%zu characters", what, max);
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return tc_err_set(TC_ERR_USAGE, "field '%s': only printable ASCII without spaces", what);
    return TC_OK;
}

static int check_request(const char *method, const char *target, const char *host,
                         http_framing framing, uint64_t body_len)
{
    bool get = strcmp(method, "GET") == 0;
    if (!get && strcmp(method, "POST") != 0)
        return tc_err_set(TC_ERR_USAGE, "field 'method': expected \"GET\" or \"POST\"");
    if (get && body_len > 0)
        return tc_err_set(TC_ERR_USAGE, "field 'body_bytes': a GET request sends no body here "
                          "(POST does)");
    if (get && framing != HTTP_FRAMING_NONE)
        return tc_err_set(TC_ERR_USAGE, "field 'framing': a GET request sends no body here "
                          "(POST does)");
    if (!get && framing != HTTP_FRAMING_LENGTH && framing != HTTP_FRAMING_CHUNKED)
        return tc_err_set(TC_ERR_USAGE, "field 'framing': a request body is framed by "
                          "content-length or chunked (RFC 9112 §6.3: never close-delimited)");
    int rc = check_token("target", target, HTTP_TARGET_MAX);
    return rc == TC_OK ? check_token("host", host, HTTP_HOST_MAX) : rc;
}

int http_out_request(http_out *m, const char *method, const char *target, const char *host,
                     http_framing framing, uint64_t body_len, size_t chunk)
{
    memset(m, 0, sizeof *m);
    int rc = check_request(method, target, host, framing, body_len);
    if (rc == TC_OK)
        rc = check_body(framing, body_len, chunk);
    if (rc < 0)
        return rc;
    m->framing = framing;
    m->body_len = body_len;
    m->chunk = chunk;
    bool post = framing != HTTP_FRAMING_NONE;
    int n = snprintf(m->head, sizeof m->head,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tlsclose-peer\r\nAccept: */*\r\n"
                     "Connection: close\r\n%s", method, target, host,
                     post ? "Content-Type: text/plain\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof m->head)
        return tc_err_set(TC_ERR_USAGE, "header section longer than %d bytes", HTTP_OUT_HEAD_MAX);
    return finish_head(m, (size_t)n);
}

/* ---- the wire form's layout ---- */

static uint64_t hex_digits(uint64_t v)
{
    uint64_t n = 1;
    while (v >>= 4)
        n++;
    return n;
}

/* Wire bytes of one data chunk of `size` body bytes. */
static uint64_t chunk_wire(uint64_t size)
{
    return hex_digits(size) + 2 + size + 2;
}

static uint64_t chunk_size(const http_out *m, uint64_t index)
{
    uint64_t left = m->body_len - index * m->chunk;
    return left < m->chunk ? left : m->chunk;
}

uint64_t http_out_total(const http_out *m)
{
    switch (m->framing) {
    case HTTP_FRAMING_NONE: return m->head_len;
    case HTTP_FRAMING_LENGTH:
    case HTTP_FRAMING_CLOSE: return m->head_len + m->body_len;
    case HTTP_FRAMING_CHUNKED: break;
    }
    uint64_t full = m->body_len / m->chunk, rest = m->body_len % m->chunk;
    return m->head_len + full * chunk_wire(m->chunk) + (rest ? chunk_wire(rest) : 0) +
           strlen(HTTP_LAST_CHUNK);
}

/* Wire offset of body byte k (k < body_len). */
static uint64_t body_offset(const http_out *m, uint64_t k)
{
    if (m->framing != HTTP_FRAMING_CHUNKED)
        return m->head_len + k;
    uint64_t index = k / m->chunk;
    return m->head_len + index * chunk_wire(m->chunk) + hex_digits(chunk_size(m, index)) + 2 +
           k % m->chunk;
}

int http_out_cut(const http_out *m, http_cut cut, uint64_t *offset)
{
    uint64_t total = http_out_total(m);
    switch (cut) {
    case HTTP_CUT_NONE: *offset = total; return TC_OK;
    case HTTP_CUT_AFTER_HEADERS: *offset = m->head_len; return TC_OK;
    case HTTP_CUT_BEFORE_LAST_BYTE: *offset = total - 1; return TC_OK;
    case HTTP_CUT_MID_BODY:
        if (m->body_len < 2)
            return tc_err_set(TC_ERR_USAGE, "field 'cut': \"mid-body\" needs a body of at least 2 bytes");
        *offset = body_offset(m, m->body_len / 2);
        return TC_OK;
    case HTTP_CUT_CHUNK_BOUNDARY:
        if (m->framing != HTTP_FRAMING_CHUNKED)
            return tc_err_set(TC_ERR_USAGE, "field 'cut': \"chunk-boundary\" needs chunked framing");
        *offset = total - strlen(HTTP_LAST_CHUNK);
        return TC_OK;
    }
    return tc_err_set(TC_ERR_USAGE, "field 'cut': unknown cut");
}

bool http_out_complete_at(const http_out *m, uint64_t n)
{
    uint64_t total = http_out_total(m);
    /* chunked: the last chunk "0\r\n" suffices; the final CRLF may be missing */
    return m->framing == HTTP_FRAMING_CHUNKED ? n >= total - 2 : n >= total;
}

/* ---- the cursor ---- */

enum { SEG_HEAD, SEG_CHUNK_HEAD, SEG_DATA, SEG_CHUNK_END, SEG_LAST, SEG_END };

static int segment_after(const http_cursor *c)
{
    const http_out *m = c->m;
    bool chunked = m->framing == HTTP_FRAMING_CHUNKED;
    switch (c->seg) {
    case SEG_HEAD:
        if (chunked)
            return m->body_len > 0 ? SEG_CHUNK_HEAD : SEG_LAST;
        return m->framing != HTTP_FRAMING_NONE && m->body_len > 0 ? SEG_DATA : SEG_END;
    case SEG_CHUNK_HEAD: return SEG_DATA;
    case SEG_DATA: return chunked ? SEG_CHUNK_END : SEG_END;
    case SEG_CHUNK_END: return c->body_pos < m->body_len ? SEG_CHUNK_HEAD : SEG_LAST;
    default: return SEG_END;
    }
}

static void enter(http_cursor *c, int seg)
{
    const http_out *m = c->m;
    uint64_t size = m->framing == HTTP_FRAMING_CHUNKED ? chunk_size(m, c->body_pos / m->chunk) : 0;
    c->seg = seg;
    switch (seg) {
    case SEG_HEAD: c->seg_left = m->head_len; break;
    case SEG_CHUNK_HEAD:
        c->chunk_head_len = (size_t)snprintf(c->chunk_head, sizeof c->chunk_head, "%llx\r\n",
                                             (unsigned long long)size);
        c->seg_left = c->chunk_head_len;
        break;
    case SEG_DATA: c->seg_left = m->framing == HTTP_FRAMING_CHUNKED ? size : m->body_len; break;
    case SEG_CHUNK_END: c->seg_left = 2; break;
    case SEG_LAST: c->seg_left = strlen(HTTP_LAST_CHUNK); break;
    default: c->seg_left = 0; break;
    }
}

void http_cursor_init(http_cursor *c, const http_out *m)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    enter(c, SEG_HEAD);
}

static const char crlf[] = "\r\n";
static const char last_chunk[] = HTTP_LAST_CHUNK;

/* Copies n bytes of the current segment, from where the cursor stands. */
static void copy_segment(http_cursor *c, uint8_t *out, size_t n)
{
    switch (c->seg) {
    case SEG_HEAD: memcpy(out, c->m->head + (c->m->head_len - c->seg_left), n); break;
    case SEG_CHUNK_HEAD: memcpy(out, c->chunk_head + (c->chunk_head_len - c->seg_left), n); break;
    case SEG_DATA: http_body_fill(out, c->body_pos, n); c->body_pos += n; break;
    case SEG_CHUNK_END: memcpy(out, &crlf[2 - c->seg_left], n); break;
    case SEG_LAST: memcpy(out, &last_chunk[sizeof last_chunk - 1 - c->seg_left], n); break;
    default: break;
    }
}

size_t http_cursor_next(http_cursor *c, uint8_t *out, size_t cap)
{
    size_t given = 0;
    while (given < cap && c->seg != SEG_END) {
        if (c->seg_left == 0) {
            enter(c, segment_after(c));
            continue;
        }
        size_t n = cap - given < c->seg_left ? cap - given : (size_t)c->seg_left;
        copy_segment(c, out + given, n);
        c->seg_left -= n;
        c->pos += n;
        given += n;
    }
    return given;
}
