/* tls_names: names of TLS protocol values for transcripts and scripts.
 *
 * Alert descriptions are those of the IANA TLS Alerts registry (RFC 8446 §6
 * and the TLS 1.2 values it keeps reserved), handshake types those of
 * RFC 8446 §4 and RFC 5246 §7.4. Lookups never fail: an unlisted value has
 * no name (NULL), and the caller prints the number. Pure functions, no
 * state, no allocation. */
#ifndef TLSCLOSE_TLS_NAMES_H
#define TLSCLOSE_TLS_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* "close_notify" for 0, ..., NULL for an unlisted code. */
const char *tls_alert_name(uint8_t code);

/* The name of an alert for outcomes ("alert:NAME"): the registry name, or
 * "unknown_N" for an unlisted code, written into buf when needed. Every
 * shim spells alerts this way, so outcomes compare across stacks. */
const char *tls_alert_outcome_name(int code, char *buf, size_t cap);

/* The code of an alert name; -1 if the name is unknown. */
int tls_alert_code(const char *name);

/* "new_session_ticket" for 4, ..., NULL for an unlisted type. */
const char *tls_handshake_name(uint8_t type);

/* "alert", "application_data", "handshake", "change_cipher_spec", or NULL. */
const char *tls_content_type_name(uint8_t type);

/* "warning" (1), "fatal" (2) or NULL. */
const char *tls_alert_level_name(uint8_t level);

#endif
