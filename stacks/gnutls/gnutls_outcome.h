/* gnutls_outcome: how the GnuTLS shim turns what GnuTLS returned into a
 * shim_call (native fields and normalized outcome, docs/shim-protocol.md §5
 * and its GnuTLS section).
 *
 * Needs: the session the call was made on (for gnutls_record_get_direction
 * and gnutls_alert_get) and errno as it was right after the call, cleared
 * to 0 before it (so that a value means a system call inside failed).
 * Fills: ret, error (the GNUTLS_E_* macro name), queue (gnutls_strerror),
 * sys_errno (push/pull errors and resets only), want (GNUTLS_E_AGAIN and
 * GNUTLS_E_INTERRUPTED) and outcome ("error:CLASS", "truncated"; left empty
 * for a want).
 * Never: performs IO, changes the session, or treats a library error as a
 * failure of the shim; everything here is reporting. */
#ifndef TLSCLOSE_GNUTLS_OUTCOME_H
#define TLSCLOSE_GNUTLS_OUTCOME_H

#include <gnutls/gnutls.h>
#include <stdbool.h>

#include "shim_driver.h"

/* Which library call produced the code: the same code means different
 * things for different calls (an EOF while reading application data is a
 * truncation; inside the handshake it is an unexpected EOF). */
typedef enum {
    GT_CALL_HANDSHAKE,
    GT_CALL_READ,
    GT_CALL_WRITE,
    GT_CALL_BYE,
    GT_CALL_KEYUPDATE,
} gt_call_kind;

/* Describes a negative GnuTLS return code. after_bye tells whether a
 * gnutls_bye of ours has completed before this call, which is what makes
 * GNUTLS_E_INVALID_SESSION mean "refused: shut down". */
void gt_describe_error(gnutls_session_t tls, gt_call_kind kind, int code,
                       int saved_errno, bool after_bye, shim_call *c);

/* The GNUTLS_E_* macro name of a code ("GNUTLS_E_PREMATURE_TERMINATION"). */
const char *gt_error_name(int code);

#endif
