/* wolfssl_memio: the memory IO mode of the wolfSSL shim. wolfSSL reads and
 * writes two in-memory queues (shimlib mem_queue) through its custom IO
 * callbacks (wolfSSL_SSLSetIORecv / wolfSSL_SSLSetIOSend); the shim runner
 * moves the bytes between those queues and the socket, as an event-loop
 * application does.
 *
 * Promises: the receive callback hands out queued input, or returns
 * WOLFSSL_CBIO_ERR_WANT_READ while the input is empty, or
 * WOLFSSL_CBIO_ERR_CONN_CLOSE once the runner set the input's EOF and the
 * input is drained (wolfSSL's own socket callback says the same for a
 * recv() of 0). The send callback accepts bytes until WF_MEMIO_OUT_CAP are
 * waiting, then returns WOLFSSL_CBIO_ERR_WANT_WRITE, so a library writing
 * to a peer that does not read sees want_write as it would on a full
 * socket.
 * Never: touches a socket or blocks. */
#ifndef TLSCLOSE_WOLFSSL_MEMIO_H
#define TLSCLOSE_WOLFSSL_MEMIO_H

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "mem_queue.h"

/* One full record (16 KiB plaintext + overhead) fits, so a record is never
 * split by the buffer alone; a peer that stops reading shows as want_write
 * soon after the socket is full (the OpenSSL shim's BIO pair has the same
 * size). */
#define WF_MEMIO_OUT_CAP (17 * 1024)

typedef struct {
    mem_queue in;  /* given by the runner, not yet read by wolfSSL */
    mem_queue out; /* written by wolfSSL, not yet taken by the runner */
} wf_memio;

/* Sets up the queues of a zeroed memio and installs the callbacks on ssl;
 * memio must outlive ssl. */
void wf_memio_attach(wf_memio *m, WOLFSSL *ssl);
void wf_memio_free(wf_memio *m);

#endif
