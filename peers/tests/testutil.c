#include "testutil.h"

#include "tc_err.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

int tu_failed(void)
{
    return failures > 0;
}

int tu_check(int ok, const char *what, const char *file, int line)
{
    if (!ok) {
        failures++;
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    }
    return ok;
}

int tu_check_rc(int rc, int want, const char *what, const char *file, int line)
{
    if (rc == want)
        return 1;
    failures++;
    fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s); message: %s\n", file, line,
            what, rc, tc_err_name(rc), want, tc_err_name(want), tc_err_msg());
    return 0;
}

static int nibble(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

size_t tu_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        int v = nibble((unsigned char)*p);
        if (v < 0 || (hi < 0 && n == cap)) {
            fprintf(stderr, "bad test vector hex near '%.8s'\n", p);
            exit(2);
        }
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        fprintf(stderr, "odd number of hex digits in test vector\n");
        exit(2);
    }
    return n;
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "  %s (%zu):", label, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n    " : " ", p[i]);
    fputc('\n', stderr);
}

int tu_check_bytes(const uint8_t *got, size_t got_len, const char *want_hex, const char *what,
                   const char *file, int line)
{
    static uint8_t want[65536];
    size_t want_len = tu_hex(want_hex, want, sizeof want);
    if (got_len == want_len && memcmp(got, want, want_len) == 0)
        return 1;
    failures++;
    fprintf(stderr, "%s:%d: %s differs from the expected bytes\n", file, line, what);
    print_hex("got", got, got_len);
    print_hex("want", want, want_len);
    return 0;
}

int tu_main(const tu_case *cases, size_t count, int argc, char **argv)
{
    if (argc == 2) {
        for (size_t i = 0; i < count; i++) {
            if (strcmp(argv[1], cases[i].name) == 0) {
                cases[i].run();
                if (failures > 0)
                    fprintf(stderr, "%s: %d check(s) failed\n", cases[i].name, failures);
                return failures > 0 ? 1 : 0;
            }
        }
    }
    fprintf(stderr, "usage: %s CASE\ncases:", argv[0]);
    for (size_t i = 0; i < count; i++)
        fprintf(stderr, " %s", cases[i].name);
    fputc('\n', stderr);
    return 2;
}

uint64_t tu_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}
