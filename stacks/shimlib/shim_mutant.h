/* shim_mutant: deliberately broken variants of a driver, for the mutation
 * self-test (docs/mutation.md). Each variant breaks ONE documented behaviour
 * of the stack under test — it reports a truncation as a clean close, never
 * sends close_notify, says RECEIVED is never set, resumes what must not be
 * resumed — so that the suite can show, case by case, that its checks catch
 * a stack that behaves that way.
 *
 * A variant is chosen with the environment variable TLSCLOSE_MUTANT=NAME.
 * Without it shim_mutant_wrap returns the driver unchanged: a normal run
 * never goes through this module. An unknown NAME makes shim_mutant_wrap
 * return NULL with a tc_err message (the shim exits 2).
 *
 * Contract: shim_mutant_wrap(driver) -> the driver, or a wrapped copy whose
 * callbacks call the original and then break their one behaviour; the copy
 * lives for the process. shim_mutant_list prints one JSON line per variant
 * ({"mutant": NAME, "breaks": WHAT, "scope": {...}}) to stdout. */
#ifndef TLSCLOSE_SHIM_MUTANT_H
#define TLSCLOSE_SHIM_MUTANT_H

#include "shim_driver.h"

const shim_driver *shim_mutant_wrap(const shim_driver *driver);
void shim_mutant_list(void);

#endif
