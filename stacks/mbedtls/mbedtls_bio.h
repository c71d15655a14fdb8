/* mbedtls_bio: the transport callbacks of the mbedTLS shim, handed to
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
 * Memory mode: two buffers. recv hands out what the runner gave
 * (mb_bio_give_input), WANT_READ while there is nothing, 0 (EOF) once the
 * runner said EOF and everything was read. send accepts bytes until
 * MB_BIO_OUT_CAP wait for the runner, then WANT_WRITE, so a peer that stops
 * reading shows as want_write as on a full socket.
 *
 * Needs: the mb_bio outlives the mbedTLS context it is attached to.
 * Never: touches the socket in memory mode, blocks, or retries. */
#ifndef TLSCLOSE_MBEDTLS_BIO_H
#define TLSCLOSE_MBEDTLS_BIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>

/* Two full TLS records (16 KiB plaintext plus overhead each): a record is
 * never cut by the buffer alone, and a stalled peer is noticed soon. */
#define MB_BIO_OUT_CAP (2 * (16384 + 512))

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} mb_buf;

typedef struct {
    int fd;           /* socket modes; -1 in memory mode */
    int last_errno;   /* errno of the last failed send/recv, 0 if none */
    mb_buf in;        /* memory mode: given by the runner, not yet read */
    mb_buf out;       /* memory mode: written by mbedTLS, not yet taken */
    bool in_eof;
} mb_bio;

/* Attaches the socket callbacks (fd >= 0) or the memory ones (fd < 0). */
void mb_bio_attach(mb_bio *b, mbedtls_ssl_context *ssl, int fd);
void mb_bio_free(mb_bio *b);

/* Runner side of memory mode. */
size_t mb_bio_take_output(mb_bio *b, uint8_t *buf, size_t cap);
int mb_bio_give_input(mb_bio *b, const uint8_t *buf, size_t len);
void mb_bio_give_eof(mb_bio *b);
size_t mb_bio_input_pending(const mb_bio *b);

#endif
