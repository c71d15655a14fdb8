/* mbedtls_outcome: how the mbedTLS shim names and classifies what an
 * mbedTLS 2.28 call returned (stacks/mbedtls/README.md has the table).
 *
 * Needs: the mbedTLS context the call was made on (for the alert a
 * MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE carries) and the errno the transport
 * callbacks saw.
 * Promises: fills native.error with the MBEDTLS_ERR_* macro name,
 * native.queue with mbedtls_strerror's text, the want, and the normalized
 * outcome (docs/shim-protocol.md §5).
 * Never: calls into the library beyond reading the received alert. */
#ifndef TLSCLOSE_MBEDTLS_OUTCOME_H
#define TLSCLOSE_MBEDTLS_OUTCOME_H

#include <stddef.h>

#include <mbedtls/ssl.h>

#include "shim_driver.h"

/* The macro name of an mbedTLS error code, or a hex spelling when the
 * shim's table does not know it. buf is used only for the latter. */
const char *mb_error_name(int code, char *buf, size_t cap);

/* Describes, in c, the negative return code of any library call.
 * transport_errno is the errno of the transport callback that failed (0 if
 * none). */
void mb_describe_error(const mbedtls_ssl_context *ssl, int code, int transport_errno,
                       shim_call *c);

#endif
