/* wolfssl_memio: the memory IO mode of the wolfSSL shim. wolfSSL reads and
 * writes two in-memory buffers through its custom IO callbacks
 * (wolfSSL_SSLSetIORecv / wolfSSL_SSLSetIOSend); the shim runner moves the
 * bytes between those buffers and the socket, as an event-loop application
 * does.
 *
 * Promises: the receive callback hands out buffered input, or returns
 * WOLFSSL_CBIO_ERR_WANT_READ while the input is empty, or
 * WOLFSSL_CBIO_ERR_CONN_CLOSE once wf_memio_give_eof was called and the
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One full record (16 KiB plaintext + overhead) fits, so a record is never
 * split by the buffer alone; a peer that stops reading shows as want_write
 * soon after the socket is full (the OpenSSL shim's BIO pair has the same
 * size). */
#define WF_MEMIO_OUT_CAP (17 * 1024)

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} wf_membuf;

typedef struct {
    wf_membuf in;
    wf_membuf out;
    bool in_eof;
} wf_memio;

/* Installs the callbacks on ssl; memio must outlive ssl. */
void wf_memio_attach(wf_memio *m, WOLFSSL *ssl);
void wf_memio_free(wf_memio *m);

/* Runner side: what the library wrote (up to cap bytes, removed from the
 * buffer), bytes read from the socket, and the socket's EOF. */
size_t wf_memio_take_output(wf_memio *m, uint8_t *buf, size_t cap);
int wf_memio_give_input(wf_memio *m, const uint8_t *buf, size_t len);
void wf_memio_give_eof(wf_memio *m);
/* Input given but not yet taken by the library. */
size_t wf_memio_input_pending(const wf_memio *m);

#endif
