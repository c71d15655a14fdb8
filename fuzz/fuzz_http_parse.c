/* libFuzzer target: the mock peer's HTTP/1.1 parser (peers/http.h), the code
 * that reads whatever request or response a client or server under test
 * sends. Byte 0: bit 0 picks a request (0) or a response (1), the other bits
 * a piece size (1..128); the rest is the message. It is parsed whole and in
 * pieces of that size: nothing may read or write out of bounds, and the two
 * must agree on the result, the bytes consumed, the body count and the
 * completeness, since records can split a message anywhere. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tc_err.h"

typedef struct {
    http_result result;
    size_t used;
} outcome;

static outcome run(http_parser *p, const uint8_t *data, size_t len, size_t step)
{
    outcome o = {HTTP_NEED_MORE, 0};
    for (size_t at = 0; at < len && o.result == HTTP_NEED_MORE; at += step) {
        size_t n = len - at < step ? len - at : step, used = 0;
        o.result = http_parser_feed(p, data + at, n, &used);
        if (used > n)
            abort();
        o.used += used;
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    http_kind kind = data[0] & 1 ? HTTP_RESPONSE : HTTP_REQUEST;
    size_t step = 1 + (data[0] >> 1);
    http_parser whole, pieces;
    if (http_parser_init(&whole, kind) != TC_OK || http_parser_init(&pieces, kind) != TC_OK)
        abort();
    outcome a = run(&whole, data + 1, size - 1, size);
    outcome b = run(&pieces, data + 1, size - 1, step);
    char ha[HTTP_SHA256_HEX], hb[HTTP_SHA256_HEX];
    if (a.result != b.result || a.used != b.used || whole.body != pieces.body ||
        http_parser_complete(&whole, true) != http_parser_complete(&pieces, true) ||
        http_parser_complete(&whole, false) != http_parser_complete(&pieces, false) ||
        http_parser_body_sha256(&whole, ha) != TC_OK || http_parser_body_sha256(&pieces, hb) != TC_OK ||
        strcmp(ha, hb) != 0 || (a.result == HTTP_BAD && whole.error[0] == '\0'))
        abort();
    http_parser_free(&whole);
    http_parser_free(&pieces);
    return 0;
}
