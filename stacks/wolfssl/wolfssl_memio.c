#include "wolfssl_memio.h"

#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfio.h>

#include "tc_err.h"

static int membuf_append(wf_membuf *b, const uint8_t *src, size_t n)
{
    if (n == 0)
        return TC_OK; /* the buffer may not exist yet: no memcpy to NULL */
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p)
            return tc_err_set(TC_ERR_SYS, "memory IO: out of memory (%zu bytes)", cap);
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return TC_OK;
}

/* Removes up to cap bytes from the front of b into dst. */
static size_t membuf_take(wf_membuf *b, uint8_t *dst, size_t cap)
{
    size_t n = b->len < cap ? b->len : cap;
    if (n == 0)
        return 0;
    memcpy(dst, b->data, n);
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    return n;
}

/* A zero-size request is wolfSSL asking whether the transport is closed
 * (wolfSSL_read after a complete shutdown): the answer is the same as for
 * an empty input. */
static int memio_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    wf_memio *m = ctx;
    if (sz <= 0 || m->in.len == 0)
        return m->in.len == 0 && m->in_eof ? WOLFSSL_CBIO_ERR_CONN_CLOSE
                                            : WOLFSSL_CBIO_ERR_WANT_READ;
    return (int)membuf_take(&m->in, (uint8_t *)buf, (size_t)sz);
}

static int memio_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    wf_memio *m = ctx;
    size_t room = m->out.len < WF_MEMIO_OUT_CAP ? WF_MEMIO_OUT_CAP - m->out.len : 0;
    size_t n = sz > 0 && (size_t)sz < room ? (size_t)sz : room;
    if (n == 0)
        return WOLFSSL_CBIO_ERR_WANT_WRITE;
    if (membuf_append(&m->out, (const uint8_t *)buf, n) != TC_OK)
        return WOLFSSL_CBIO_ERR_GENERAL;
    return (int)n;
}

void wf_memio_attach(wf_memio *m, WOLFSSL *ssl)
{
    wolfSSL_SSLSetIORecv(ssl, memio_recv);
    wolfSSL_SSLSetIOSend(ssl, memio_send);
    wolfSSL_SetIOReadCtx(ssl, m);
    wolfSSL_SetIOWriteCtx(ssl, m);
}

void wf_memio_free(wf_memio *m)
{
    free(m->in.data);
    free(m->out.data);
    memset(m, 0, sizeof *m);
}

size_t wf_memio_take_output(wf_memio *m, uint8_t *buf, size_t cap)
{
    return membuf_take(&m->out, buf, cap);
}

int wf_memio_give_input(wf_memio *m, const uint8_t *buf, size_t len)
{
    return membuf_append(&m->in, buf, len);
}

void wf_memio_give_eof(wf_memio *m)
{
    m->in_eof = true;
}

size_t wf_memio_input_pending(const wf_memio *m)
{
    return m->in.len;
}
