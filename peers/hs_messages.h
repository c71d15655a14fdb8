/* hs_messages: the handshake messages the peer can send after the takeover
 * (the `send_handshake` action, docs/peer.md), built byte by byte.
 *
 * Every message is one complete handshake message (type, 24-bit length,
 * body) of the connection's TLS version, well formed but synthetic: it asks
 * the SUT for something the peer will never complete. The peer's role decides
 * which messages make sense; a message of the wrong version or role is
 * TC_ERR_USAGE with a message saying why, so a script error never reaches
 * the wire.
 *
 *   hello_request        TLS 1.2, peer = server (RFC 5246 §7.4.1.1): empty.
 *   client_hello         TLS 1.2, peer = client (RFC 5246 §7.4.1.2): a
 *                        renegotiation ClientHello under the current keys,
 *                        offering the negotiated suite with the
 *                        renegotiation_info extension (RFC 5746 §3.5: the
 *                        client's previous verify_data) and, when the first
 *                        handshake used it, extended_master_secret (RFC 7627).
 *   new_session_ticket   TLS 1.3, peer = server (RFC 8446 §4.6.1): a ticket
 *                        of 32 bytes no server will ever accept.
 *   certificate_request  TLS 1.3, peer = server (RFC 8446 §4.6.2): a
 *                        post-handshake request (one-byte context, the
 *                        signature_algorithms extension).
 *
 * Pure apart from reading the handshake state of the library's SSL object;
 * nothing is sent or logged here. */
#ifndef TLSCLOSE_HS_MESSAGES_H
#define TLSCLOSE_HS_MESSAGES_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Large enough for every message above. */
#define HS_MSG_MAX 256

typedef enum {
    HS_MSG_HELLO_REQUEST,
    HS_MSG_CLIENT_HELLO,
    HS_MSG_NEW_SESSION_TICKET,
    HS_MSG_CERTIFICATE_REQUEST,
    HS_MSG_COUNT
} hs_msg_kind;

/* The kind named `name` ("hello_request", ...); TC_ERR_USAGE if none. */
int hs_msg_parse(const char *name, hs_msg_kind *kind);

/* Whether the message exists in this TLS version (checked when the script
 * is parsed). */
bool hs_msg_fits_version(hs_msg_kind kind, bool tls13);

/* Builds the message into out (HS_MSG_MAX bytes) for a peer of this role on
 * the connection whose library object is ssl and whose suite is suite_id.
 * TC_OK, or TC_ERR_USAGE when the role does not send this message. */
int hs_msg_build(hs_msg_kind kind, bool server, const SSL *ssl, uint16_t suite_id,
                 uint8_t *out, size_t *len);

#endif
