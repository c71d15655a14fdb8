/* shim_output: the JSON lines a shim prints (docs/shim-protocol.md §3).
 *
 * Needs: a report filled in by the runner. Writes exactly one JSON object
 * per call on stdout, flushed at once (jsonio), so a shim killed at its
 * deadline has still reported every step it finished. Never writes anything
 * else to stdout; diagnostics for people go to stderr. */
#ifndef TLSCLOSE_SHIM_OUTPUT_H
#define TLSCLOSE_SHIM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "shim_driver.h"

/* A step line keeps at most this many wants; more are counted in
 * wants_dropped so a long event loop cannot make a line unbounded. */
#define SHIM_MAX_WANTS 64

#define SHIM_MAX_READ_PAST 4

typedef struct {
    shim_want list[SHIM_MAX_WANTS];
    int count;
    int dropped;
} shim_wants;

typedef struct {
    size_t step;            /* 1-based */
    const char *op;
    char outcome[64];
    shim_wants wants;
    int calls;
    bool has_native;        /* false: "native": null (the step called no library function) */
    shim_call native;
    bool has_flags;         /* false: "flags": null */
    shim_flags flags;
    size_t bytes;
    double ms;
    int reused;             /* resume: 0/1; -1: field absent */
    int resumable;          /* session_resumable: 0/1; -1: absent */
    const char *got;        /* plaintext_read: the bytes that arrived (may be NULL) */
    size_t got_len;
    long drained;           /* close_transport / resume: bytes drained; -1: absent */
    char read_past[SHIM_MAX_READ_PAST][48]; /* read until close: non-fatal outcomes it read past */
    int n_read_past;
    const char *transport;  /* memory mode: "reset" once the runner met a reset on
                               the socket; NULL: field absent */
} step_report;

void step_report_init(step_report *rep, size_t step, const char *op);

void shim_wants_add(shim_wants *w, shim_want want);

/* Sets the outcome: a fixed string, or a prefix and a count ("data:" 12). */
void step_report_outcome(step_report *rep, const char *outcome);
void step_report_count(step_report *rep, const char *prefix, size_t n);

void shim_out_version(const shim_driver *drv);
void shim_out_hello(const shim_driver *drv, const shim_config *cfg);
void shim_out_step(const step_report *rep);

/* The last line: kind is "ok", "timeout", "error" or "skip"; a NULL message
 * leaves that field out, and so does step 0, except in a skip line (step 0:
 * the whole run cannot be done). A cell of persistent mode adds "exit"
 * (exit_code) and "cell". */
void shim_out_end(const char *kind, size_t step, const char *message, int exit_code);

/* Persistent mode: the end line the server prints for a cell (a bad
 * request, a crashed child): "end" is status; then "message", "signal",
 * "exit" (null when exit_code < 0) and "cell". */
void shim_out_server_end(const char *status, const char *message, int exit_code,
                         const char *signal);

#endif
