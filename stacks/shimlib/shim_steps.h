/* shim_steps: what each op of the step script does (docs/shim-protocol.md
 * §2) and how its outcome is reported (§3, §5).
 *
 * Needs: a run whose first connection is open and a step that passed
 * step_script's and the runner's checks. Each step fills one report.
 * Returns
 *   TC_OK              the step ended, whatever the library said (its result
 *                      is data in the report, never an error here);
 *   TC_ERR_TIMEOUT     the step's deadline passed: the report's outcome is
 *                      "error:timeout" and the run must end with exit 3;
 *   TC_ERR_UNSUPPORTED the stack cannot do this step (exit 77);
 *   other              the shim itself failed (bad marker pipe, out of
 *                      memory...): the message says what.
 * Never retries a library call except as the IO mode requires (shim_io). */
#ifndef TLSCLOSE_SHIM_STEPS_H
#define TLSCLOSE_SHIM_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "markers.h"
#include "shim_args.h"
#include "shim_driver.h"
#include "shim_io.h"
#include "shim_output.h"
#include "step_script.h"

/* The most one read call asks the library for. */
#define SHIM_READ_CHUNK 16384

typedef struct {
    const shim_driver *drv;
    void *ctx;
    shim_args *args;
    tc_markers markers;
    shim_conn *conns[TC_MAX_CONNECTIONS]; /* every connection opened, in order */
    int nconns;
    shim_conn *cur;         /* the one later steps act on */
    uint8_t *pattern;       /* write source: byte i is i & 0xff; one buffer
                               for the whole run, so a write the library asks
                               to repeat gets the very same pointer */
    size_t pattern_len;
    size_t write_len;       /* a write of this many bytes stopped at a want */
    size_t write_off;       /* ...after the library took this many: the next
                               write of the same size continues there */
    uint8_t *rbuf;          /* read destination: SHIM_READ_CHUNK bytes, or the
                               longest plaintext_read text if longer */
    long last_ret;          /* the last library call's return value */
} shim_run;

/* Opens the next connection (the next --fd, or --connect) and makes it the
 * current one. */
int shim_run_open_conn(shim_run *r, int64_t deadline);

int shim_step_run(shim_run *r, const shim_step *st, int64_t deadline, step_report *rep);

#endif
