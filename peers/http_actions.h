/* http_actions: the peer script's HTTP actions (docs/peer.md) on one
 * connection: sending a request or response (http.h builds it) through the
 * peer's record layer, cut where the script says, and reading one request
 * or response.
 *
 * Sending (http_send_request, http_send_response): the wire form goes out
 * in application-data records of at most `record` bytes, up to the cut;
 * with cut_in_record the bytes after the cut (at most one record's worth)
 * start one more record of which only the header and the first half of the
 * protected body are sent (as send_partial_record). Every record is a
 * "record" event; then one "http" event "sent" says what went out and
 * whether a correct receiver has the whole message (http.h, Completeness).
 * Nothing else happens: how the connection ends is up to the next actions.
 *
 * Reading (http_read_request, http_read_response): reads records until the
 * message ends by its framing, the input is malformed, the connection ends
 * (close_notify, another closure or fatal alert, FIN, reset) or the action's
 * time runs out. Handshake records and warning alerts other than
 * close_notify are read over; records that do not authenticate are counted.
 * Reading stops at the message's end: what follows it in the same record is
 * counted ("extra") and dropped; later records are left for the next
 * actions. One "http" event "recv" reports the message, then an "expect"
 * event (http_request / http_response) is ok when it is complete (RFC 9112
 * §8, §9.8: a close-delimited body only when a close_notify ended it).
 *
 * Returns what the conn_* calls return (conn.h): the caller treats send
 * failures the SUT caused as outcomes. A read returns TC_ERR_TIMEOUT when its
 * time ran out (after logging), like the expect_* actions. */
#ifndef TLSCLOSE_HTTP_ACTIONS_H
#define TLSCLOSE_HTTP_ACTIONS_H

#include "conn.h"
#include "peer_script.h"

#include <stdint.h>

int http_act_send(peer_conn *c, const peer_action *a, int64_t deadline);

int http_act_read(peer_conn *c, http_kind kind, int64_t deadline);

#endif
