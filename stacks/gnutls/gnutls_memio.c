#include "gnutls_memio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tc_err.h"

static int gt_membuf_append(gt_membuf *b, const uint8_t *src, size_t n)
{
    if (n == 0)
        return TC_OK; /* the buffer may not exist yet: no memcpy from/to NULL */
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
static size_t gt_membuf_take(gt_membuf *b, uint8_t *dst, size_t cap)
{
    size_t n = b->len < cap ? b->len : cap;
    if (n == 0)
        return 0;
    memcpy(dst, b->data, n);
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    return n;
}

static ssize_t gt_memio_pull(gnutls_transport_ptr_t ptr, void *buf, size_t cap)
{
    gt_memio *m = ptr;
    if (m->in.len == 0) {
        if (m->in_eof)
            return 0;
        gnutls_transport_set_errno(m->tls, EAGAIN);
        return -1;
    }
    return (ssize_t)gt_membuf_take(&m->in, buf, cap);
}

static ssize_t gt_memio_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
    gt_memio *m = ptr;
    size_t room = m->out.len < GT_MEMIO_OUT_CAP ? GT_MEMIO_OUT_CAP - m->out.len : 0;
    size_t n = len < room ? len : room;
    if (n == 0 || gt_membuf_append(&m->out, buf, n) != TC_OK) {
        gnutls_transport_set_errno(m->tls, n == 0 ? EAGAIN : ENOMEM);
        return -1;
    }
    return (ssize_t)n;
}

/* GnuTLS asks this before a read with a timeout. Nothing can arrive while
 * the library is inside a call, so the answer is about what is buffered
 * now: waiting longer would only stall the caller. */
static int gt_memio_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    (void)ms;
    gt_memio *m = ptr;
    return (m->in.len > 0 || m->in_eof) ? 1 : 0;
}

void gt_memio_attach(gt_memio *m, gnutls_session_t tls)
{
    m->tls = tls;
    gnutls_transport_set_ptr(tls, m);
    gnutls_transport_set_push_function(tls, gt_memio_push);
    gnutls_transport_set_pull_function(tls, gt_memio_pull);
    gnutls_transport_set_pull_timeout_function(tls, gt_memio_pull_timeout);
}

void gt_memio_free(gt_memio *m)
{
    free(m->in.data);
    free(m->out.data);
    memset(m, 0, sizeof *m);
}

size_t gt_memio_take_output(gt_memio *m, uint8_t *buf, size_t cap)
{
    return gt_membuf_take(&m->out, buf, cap);
}

int gt_memio_give_input(gt_memio *m, const uint8_t *buf, size_t len)
{
    return gt_membuf_append(&m->in, buf, len);
}

void gt_memio_give_eof(gt_memio *m)
{
    m->in_eof = true;
}

size_t gt_memio_input_pending(const gt_memio *m)
{
    return m->in.len;
}
