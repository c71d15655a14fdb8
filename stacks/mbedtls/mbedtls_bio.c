#include "mbedtls_bio.h"

#include <errno.h>
#include <stdlib.h>
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

static int buf_append(mb_buf *m, const uint8_t *src, size_t n)
{
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + n)
            cap *= 2;
        uint8_t *p = realloc(m->data, cap);
        if (!p)
            return tc_err_set(TC_ERR_SYS, "memory IO: out of memory (%zu bytes)", cap);
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, src, n);
    m->len += n;
    return TC_OK;
}

/* Removes up to cap bytes from the front of m into dst. */
static size_t buf_take(mb_buf *m, uint8_t *dst, size_t cap)
{
    size_t n = m->len < cap ? m->len : cap;
    if (n == 0)
        return 0;
    memcpy(dst, m->data, n);
    memmove(m->data, m->data + n, m->len - n);
    m->len -= n;
    return n;
}

static int mem_send(void *ctx, const unsigned char *buf, size_t len)
{
    mb_bio *b = ctx;
    size_t room = b->out.len < MB_BIO_OUT_CAP ? MB_BIO_OUT_CAP - b->out.len : 0;
    size_t n = len < room ? len : room;
    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (buf_append(&b->out, buf, n) != TC_OK) {
        b->last_errno = ENOMEM;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)n;
}

static int mem_recv(void *ctx, unsigned char *buf, size_t len)
{
    mb_bio *b = ctx;
    if (b->in.len == 0)
        return b->in_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
    return (int)buf_take(&b->in, buf, len);
}

/* ---- both ---------------------------------------------------------------- */

void mb_bio_attach(mb_bio *b, mbedtls_ssl_context *ssl, int fd)
{
    b->fd = fd;
    if (fd >= 0)
        mbedtls_ssl_set_bio(ssl, b, sock_send, sock_recv, NULL);
    else
        mbedtls_ssl_set_bio(ssl, b, mem_send, mem_recv, NULL);
}

void mb_bio_free(mb_bio *b)
{
    free(b->in.data);
    free(b->out.data);
    memset(b, 0, sizeof *b);
    b->fd = -1;
}

size_t mb_bio_take_output(mb_bio *b, uint8_t *buf, size_t cap)
{
    return buf_take(&b->out, buf, cap);
}

int mb_bio_give_input(mb_bio *b, const uint8_t *buf, size_t len)
{
    return buf_append(&b->in, buf, len);
}

void mb_bio_give_eof(mb_bio *b)
{
    b->in_eof = true;
}

size_t mb_bio_input_pending(const mb_bio *b)
{
    return b->in.len;
}
