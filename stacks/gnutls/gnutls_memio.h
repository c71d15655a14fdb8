/* gnutls_memio: the memory IO mode of the GnuTLS shim. GnuTLS reads and
 * writes two in-memory buffers through push/pull callbacks; the shim runner
 * moves the bytes between those buffers and the socket, as an event-loop
 * application does.
 *
 * Needs: a session created with GNUTLS_NONBLOCK (the callbacks never wait).
 * Promises: pull hands out buffered input, or reports EAGAIN
 * (gnutls_transport_set_errno) while the input is empty, or 0 (EOF) once
 * gt_memio_give_eof was called and the input is drained. Push accepts bytes
 * until GT_MEMIO_OUT_CAP are waiting, then reports EAGAIN, so a library
 * writing to a peer that does not read sees want_write as it would on a
 * full socket.
 * Never: touches a socket or blocks. */
#ifndef TLSCLOSE_GNUTLS_MEMIO_H
#define TLSCLOSE_GNUTLS_MEMIO_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Two full TLS records (16 KiB plaintext + overhead each): enough that a
 * record is never split by the buffer alone, small enough that a peer that
 * stops reading makes the library see want_write soon. */
#define GT_MEMIO_OUT_CAP (2 * (16384 + 512))

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} gt_membuf;

typedef struct {
    gnutls_session_t tls;
    gt_membuf in;
    gt_membuf out;
    bool in_eof;
} gt_memio;

/* Installs the callbacks on tls; memio must outlive the session. */
void gt_memio_attach(gt_memio *m, gnutls_session_t tls);
void gt_memio_free(gt_memio *m);

/* Runner side: what the library wrote (up to cap bytes, removed from the
 * buffer), bytes read from the socket, and the socket's EOF. */
size_t gt_memio_take_output(gt_memio *m, uint8_t *buf, size_t cap);
int gt_memio_give_input(gt_memio *m, const uint8_t *buf, size_t len);
void gt_memio_give_eof(gt_memio *m);
/* Input given but not yet pulled by the library. */
size_t gt_memio_input_pending(const gt_memio *m);

#endif
