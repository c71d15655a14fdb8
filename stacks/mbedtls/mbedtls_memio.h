/* mbedtls_memio: the transport callbacks of the mbedTLS shim, handed to
 * mbedtls_ssl_set_bio.
 *
 * Socket modes: send/recv on the connection's descriptor. The descriptor
 * is blocking or nonblocking as the runner set it; these callbacks never
 * wait themselves. A would-block (EAGAIN, also what SO_RCVTIMEO/SO_SNDTIMEO
 * produce on a blocking socket at the deadline) becomes
 * MBEDTLS_ERR_SSL_WANT_READ / WANT_WRITE, ECONNRESET and EPIPE become
 * MBEDTLS_ERR_NET_CONN_RESET, other failures MBEDTLS_ERR_NET_RECV_FAILED /
 * SEND_FAILED; the errno of the last failure is kept for native.errno.
 *
 * Memory mode: two queues (shimlib mem_queue). recv hands out what the
 * runner put in `in`, WANT_READ while there is nothing, 0 (EOF) once the
 * runner set the input's EOF and everything was read. send accepts bytes
 * until MB_BIO_OUT_CAP wait in `out` for the runner, then WANT_WRITE, so a
 * peer that stops reading shows as want_write as on a full socket.
 *
 * Needs: a zeroed mb_bio, which outlives the mbedTLS context it is attached
 * to.
 * Never: touches the socket in memory mode, blocks, or retries. */
#ifndef TLSCLOSE_MBEDTLS_MEMIO_H
#define TLSCLOSE_MBEDTLS_MEMIO_H

#include <mbedtls/ssl.h>

#include "mem_queue.h"

/* Two full TLS records (16 KiB plaintext plus overhead each): a record is
 * never cut by the buffer alone, and a stalled peer is noticed soon. */
#define MB_BIO_OUT_CAP (2 * (16384 + 512))

typedef struct {
    int fd;           /* socket modes; -1 in memory mode */
    int last_errno;   /* errno of the last failed send/recv, 0 if none */
    mem_queue in;     /* memory mode: given by the runner, not yet read */
    mem_queue out;    /* memory mode: written by mbedTLS, not yet taken */
} mb_bio;

/* Attaches the socket callbacks (fd >= 0) or the memory ones (fd < 0). */
void mb_bio_attach(mb_bio *b, mbedtls_ssl_context *ssl, int fd);
void mb_bio_free(mb_bio *b);

#endif
