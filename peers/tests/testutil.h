/* testutil: the few helpers the peer's C unit tests share.
 *
 * A failed check prints where it failed and counts; a test program keeps
 * going so one run reports every mismatch, and exits 1 if any check failed
 * (tu_exit). Nothing here allocates or depends on the test's order. */
#ifndef TLSCLOSE_PEER_TESTUTIL_H
#define TLSCLOSE_PEER_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#define CHECK(cond) tu_check((cond), #cond, __FILE__, __LINE__)
/* A tc_err-returning call that must give `want`; prints tc_err_msg() if not. */
#define CHECK_RC(expr, want) tu_check_rc((expr), (want), #expr, __FILE__, __LINE__)
#define CHECK_BYTES(got, got_len, want_hex) \
    tu_check_bytes((got), (got_len), (want_hex), #got, __FILE__, __LINE__)

/* 1 if any check so far failed. */
int tu_failed(void);

int tu_check(int ok, const char *what, const char *file, int line);
int tu_check_rc(int rc, int want, const char *what, const char *file, int line);

/* Compares got[0..got_len) with a hex string (spaces and newlines ignored). */
int tu_check_bytes(const uint8_t *got, size_t got_len, const char *want_hex, const char *what,
                   const char *file, int line);

/* Decodes hex (whitespace ignored) into out; returns the byte count, or
 * aborts the test on bad hex or overflow: test vectors are ours, not input. */
size_t tu_hex(const char *hex, uint8_t *out, size_t cap);

/* Runs the named case from a table; prints the known names on a miss. */
typedef struct {
    const char *name;
    void (*run)(void);
} tu_case;
int tu_main(const tu_case *cases, size_t count, int argc, char **argv);

/* A small deterministic generator (xorshift64*): the robustness tests must
 * replay exactly from their seed. */
uint64_t tu_rand(uint64_t *state);

#endif
