/* shim_tls_steps: the steps that call the TLS library (handshake, read,
 * write, shutdown*, keyupdate) and how their calls become a report.
 *
 * Needs: a run whose current connection has a TLS object (step_script
 * guarantees it). Each step drives its library call through shim_io in the
 * run's IO mode and fills the report: outcome, wants, calls, native, bytes.
 * Returns as shim_step_run does (shim_steps.h): TC_OK whatever the library
 * said, TC_ERR_TIMEOUT with outcome "error:timeout", or a failure of the
 * shim itself. A reset the runner met on the socket (memory mode) is not a
 * failure either: the library gets EOF and its result is the outcome. Never
 * frees or closes anything. */
#ifndef TLSCLOSE_SHIM_TLS_STEPS_H
#define TLSCLOSE_SHIM_TLS_STEPS_H

#include "shim_driver.h"
#include "shim_output.h"
#include "shim_steps.h"
#include "step_script.h"

int shim_step_handshake(shim_run *r, const shim_step *st, int64_t deadline, step_report *rep);
int shim_step_read(shim_run *r, const shim_step *st, int64_t deadline, step_report *rep);
int shim_step_write(shim_run *r, const shim_step *st, int64_t deadline, step_report *rep);
/* shutdown, shutdown_quiet and shutdown_full, by st->op. */
int shim_step_shutdown(shim_run *r, const shim_step *st, int64_t deadline, step_report *rep);
int shim_step_keyupdate(shim_run *r, const shim_step *st, int64_t deadline, step_report *rep);

/* The outcome of one call: its want if it left one, else the driver's
 * normalized outcome ("error:other" if the driver gave none). */
void shim_outcome_from_call(step_report *rep, const shim_call *call);

#endif
