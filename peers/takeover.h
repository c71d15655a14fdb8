/* takeover: the peer's own record-layer state, built from a finished
 * handshake (handshake.h), so that the peer's first record continues
 * exactly where the library stopped.
 *
 * Keys: TLS 1.3 from the application traffic secrets, TLS 1.2 from the key
 * block. Sequence numbers: every record the library wrote, and every record
 * it read, is parsed again. TLS 1.3: a protected record that authenticates
 * under the application key at the current sequence number belongs to the
 * application epoch (e.g. a NewSessionTicket the library sent after its
 * Finished): it is counted and logged; one that does not was protected with
 * a handshake key and is not counted. TLS 1.2: every record after
 * ChangeCipherSpec is counted (Finished is seq 0) and must authenticate, which
 * checks the derived keys against the library's own Finished.
 *
 * Counted records are logged as "record" events, sent ones "by": "library",
 * received ones "by": "sut". Returns TC_OK, TC_ERR_LIBRARY when the library's
 * bytes do not parse or the keys do not match, or what the record layer
 * returned. On failure both directions are freed. */
#ifndef TLSCLOSE_TAKEOVER_H
#define TLSCLOSE_TAKEOVER_H

#include "handshake.h"
#include "record_layer.h"

#include <stdbool.h>

int takeover_build(const hs_conn *hs, bool server, int conn_id, tc_direction *rd,
                   tc_direction *wr);

#endif
