#include "wolfssl_memio.h"

#include <string.h>

#include <wolfssl/wolfio.h>

#include "tc_err.h"

/* A zero-size request is wolfSSL asking whether the transport is closed
 * (wolfSSL_read after a complete shutdown): the answer is the same as for
 * an empty input. */
static int memio_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    wf_memio *m = ctx;
    if (sz <= 0 || mem_queue_pending(&m->in) == 0)
        return mem_queue_ended(&m->in) ? WOLFSSL_CBIO_ERR_CONN_CLOSE
                                       : WOLFSSL_CBIO_ERR_WANT_READ;
    return (int)mem_queue_take(&m->in, (uint8_t *)buf, (size_t)sz);
}

static int memio_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    wf_memio *m = ctx;
    size_t n = mem_queue_fit(&m->out, sz > 0 ? (size_t)sz : 0);
    if (n == 0)
        return WOLFSSL_CBIO_ERR_WANT_WRITE;
    if (mem_queue_append(&m->out, (const uint8_t *)buf, n) != TC_OK)
        return WOLFSSL_CBIO_ERR_GENERAL;
    return (int)n;
}

void wf_memio_attach(wf_memio *m, WOLFSSL *ssl)
{
    mem_queue_init(&m->in, 0);
    mem_queue_init(&m->out, WF_MEMIO_OUT_CAP);
    wolfSSL_SSLSetIORecv(ssl, memio_recv);
    wolfSSL_SSLSetIOSend(ssl, memio_send);
    wolfSSL_SetIOReadCtx(ssl, m);
    wolfSSL_SetIOWriteCtx(ssl, m);
}

void wf_memio_free(wf_memio *m)
{
    mem_queue_free(&m->in);
    mem_queue_free(&m->out);
    memset(m, 0, sizeof *m);
}
