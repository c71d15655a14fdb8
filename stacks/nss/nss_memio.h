/* nss_memio: the memory IO mode of the NSS shim. An NSPR I/O layer of our
 * own (PR_CreateIOLayerStub) is the bottom of the connection's layer stack,
 * under NSS's SSL layer (SSL_ImportFD), in place of a TCP socket: NSS reads
 * and writes two in-memory queues (shimlib mem_queue) and the shim runner
 * moves the bytes between those queues and the socket, as an event-loop
 * application does (docs/shim-protocol.md §4).
 *
 * Promises: recv/read hand out queued input, or fail with
 * PR_WOULD_BLOCK_ERROR while the input is empty, or return 0 (end of
 * stream) once the runner set the input's EOF and the input is drained.
 * send/write take bytes until NSS_MEMIO_OUT_CAP are waiting, then fail with
 * PR_WOULD_BLOCK_ERROR, so NSS writing to a peer that does not read sees a
 * full transport as on a socket. The layer is nonblocking
 * (PR_SockOpt_Nonblocking reads true), so NSS never waits on it. A shutdown
 * of the send direction (which NSS's PR_Shutdown passes down after its
 * close_notify) makes later sends fail as a TCP socket's do after
 * shutdown(SHUT_WR) (PR_CONNECT_RESET_ERROR, EPIPE); it cannot send a FIN,
 * since the runner owns the socket. getpeername/getsockname answer
 * 127.0.0.1 port 0: NSS asks for the peer's address when a handshake
 * starts (ssl_GetPeerInfo) and keys its session caches on it.
 * Never: touches a socket, blocks, or frees the nss_memio it points to
 * (PR_Close frees only the layer's own PRFileDesc). */
#ifndef TLSCLOSE_NSS_MEMIO_H
#define TLSCLOSE_NSS_MEMIO_H

#include <stdbool.h>

#include <prio.h>

#include "mem_queue.h"

/* One full TLS record (16 KiB plaintext + overhead) fits, so a record is
 * never split by the buffer alone; the OpenSSL shim's BIO pair has the same
 * size. */
#define NSS_MEMIO_OUT_CAP (17 * 1024)

typedef struct {
    mem_queue in;    /* given by the runner, not yet read by NSS */
    mem_queue out;   /* written by NSS, not yet taken by the runner */
    bool send_shut;  /* PR_SHUTDOWN_SEND reached the layer */
} nss_memio;

/* Sets up the queues of a zeroed memio and returns a new bottom layer over
 * it (memio must outlive the layer), or NULL with the NSPR error set. */
PRFileDesc *nss_memio_open(nss_memio *m);
void nss_memio_free(nss_memio *m);

#endif
