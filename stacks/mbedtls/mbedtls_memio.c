#include "mbedtls_memio.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/net_sockets.h>

#include "tc_err.h"

/* ---- socket modes ------------------------------------------------------ */

static bool would_block(int e)
{
    /* EINTR too: the call is simply repeated, as mbedtls_net_recv does. */
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

static int sock_failure(mb_bio *b, int e, int want, int failed)
{
    b->last_errno = e;
    if (would_block(e))
        return want;
    if (e == ECONNRESET || e == EPIPE)
        return MBEDTLS_ERR_NET_CONN_RESET;
    return failed;
}

static int sock_send(void *ctx, const unsigned char *buf, size_t len)
{
    mb_bio *b = ctx;
    ssize_t n = send(b->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
        return (int)n;
    return sock_failure(b, errno, MBEDTLS_ERR_SSL_WANT_WRITE, MBEDTLS_ERR_NET_SEND_FAILED);
}

static int sock_recv(void *ctx, unsigned char *buf, size_t len)
{
    mb_bio *b = ctx;
    ssize_t n = recv(b->fd, buf, len, 0);
    if (n >= 0)
        return (int)n;
    return sock_failure(b, errno, MBEDTLS_ERR_SSL_WANT_READ, MBEDTLS_ERR_NET_RECV_FAILED);
}

/* ---- memory mode ------------------------------------------------------- */

static int mem_send(void *ctx, const unsigned char *buf, size_t len)
{
    mb_bio *b = ctx;
    size_t n = mem_queue_fit(&b->out, len);
    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (mem_queue_append(&b->out, buf, n) != TC_OK) {
        b->last_errno = ENOMEM;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)n;
}

static int mem_recv(void *ctx, unsigned char *buf, size_t len)
{
    mb_bio *b = ctx;
    if (mem_queue_pending(&b->in) == 0)
        return mem_queue_ended(&b->in) ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
    return (int)mem_queue_take(&b->in, buf, len);
}

/* ---- both ---------------------------------------------------------------- */

void mb_bio_attach(mb_bio *b, mbedtls_ssl_context *ssl, int fd)
{
    b->fd = fd;
    if (fd >= 0) {
        mbedtls_ssl_set_bio(ssl, b, sock_send, sock_recv, NULL);
        return;
    }
    mem_queue_init(&b->in, 0);
    mem_queue_init(&b->out, MB_BIO_OUT_CAP);
    mbedtls_ssl_set_bio(ssl, b, mem_send, mem_recv, NULL);
}

void mb_bio_free(mb_bio *b)
{
    mem_queue_free(&b->in);
    mem_queue_free(&b->out);
    memset(b, 0, sizeof *b);
    b->fd = -1;
}
