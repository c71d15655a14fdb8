#include "gnutls_memio.h"

#include <errno.h>
#include <string.h>

#include "tc_err.h"

static ssize_t gt_memio_pull(gnutls_transport_ptr_t ptr, void *buf, size_t cap)
{
    gt_memio *m = ptr;
    if (mem_queue_pending(&m->in) == 0) {
        if (mem_queue_ended(&m->in))
            return 0;
        gnutls_transport_set_errno(m->tls, EAGAIN);
        return -1;
    }
    return (ssize_t)mem_queue_take(&m->in, buf, cap);
}

static ssize_t gt_memio_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
    gt_memio *m = ptr;
    size_t n = mem_queue_fit(&m->out, len);
    if (n == 0 || mem_queue_append(&m->out, buf, n) != TC_OK) {
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
    return (mem_queue_pending(&m->in) > 0 || mem_queue_ended(&m->in)) ? 1 : 0;
}

void gt_memio_attach(gt_memio *m, gnutls_session_t tls)
{
    m->tls = tls;
    mem_queue_init(&m->in, 0);
    mem_queue_init(&m->out, GT_MEMIO_OUT_CAP);
    gnutls_transport_set_ptr(tls, m);
    gnutls_transport_set_push_function(tls, gt_memio_push);
    gnutls_transport_set_pull_function(tls, gt_memio_pull);
    gnutls_transport_set_pull_timeout_function(tls, gt_memio_pull_timeout);
}

void gt_memio_free(gt_memio *m)
{
    mem_queue_free(&m->in);
    mem_queue_free(&m->out);
    memset(m, 0, sizeof *m);
}
