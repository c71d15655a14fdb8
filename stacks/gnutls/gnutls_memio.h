/* gnutls_memio: the memory IO mode of the GnuTLS shim. GnuTLS reads and
 * writes two in-memory queues (shimlib mem_queue) through push/pull
 * callbacks; the shim runner moves the bytes between those queues and the
 * socket, as an event-loop application does.
 *
 * Needs: a session created with GNUTLS_NONBLOCK (the callbacks never wait).
 * Promises: pull hands out queued input, or reports EAGAIN
 * (gnutls_transport_set_errno) while the input is empty, or 0 (EOF) once
 * the runner set the input's EOF and the input is drained. Push accepts
 * bytes until GT_MEMIO_OUT_CAP are waiting, then reports EAGAIN, so a
 * library writing to a peer that does not read sees want_write as it would
 * on a full socket.
 * Never: touches a socket or blocks. */
#ifndef TLSCLOSE_GNUTLS_MEMIO_H
#define TLSCLOSE_GNUTLS_MEMIO_H

#include <gnutls/gnutls.h>

#include "mem_queue.h"

/* Two full TLS records (16 KiB plaintext + overhead each): enough that a
 * record is never split by the buffer alone, small enough that a peer that
 * stops reading makes the library see want_write soon. */
#define GT_MEMIO_OUT_CAP (2 * (16384 + 512))

typedef struct {
    gnutls_session_t tls;
    mem_queue in;  /* given by the runner, not yet pulled by GnuTLS */
    mem_queue out; /* pushed by GnuTLS, not yet taken by the runner */
} gt_memio;

/* Sets up the queues of a zeroed memio and installs the callbacks on tls;
 * memio must outlive the session. */
void gt_memio_attach(gt_memio *m, gnutls_session_t tls);
/* Also safe on a zeroed memio that was never attached. */
void gt_memio_free(gt_memio *m);

#endif
