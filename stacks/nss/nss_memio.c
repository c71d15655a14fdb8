#include "nss_memio.h"

#include <errno.h>
#include <string.h>

#include <prerror.h>
#include <prnetdb.h>

#include "tc_err.h"

static nss_memio *memio_of(PRFileDesc *fd)
{
    return (nss_memio *)fd->secret;
}

static PRInt32 PR_CALLBACK memio_recv(PRFileDesc *fd, void *buf, PRInt32 amount, PRIntn flags,
                                      PRIntervalTime timeout)
{
    (void)timeout;
    nss_memio *m = memio_of(fd);
    if (flags != 0) { /* NSS never peeks at its transport */
        PR_SetError(PR_INVALID_ARGUMENT_ERROR, 0);
        return -1;
    }
    if (amount <= 0)
        return 0;
    if (mem_queue_pending(&m->in) == 0) {
        if (mem_queue_ended(&m->in))
            return 0;
        PR_SetError(PR_WOULD_BLOCK_ERROR, EAGAIN);
        return -1;
    }
    return (PRInt32)mem_queue_take(&m->in, buf, (size_t)amount);
}

static PRInt32 PR_CALLBACK memio_read(PRFileDesc *fd, void *buf, PRInt32 amount)
{
    return memio_recv(fd, buf, amount, 0, PR_INTERVAL_NO_WAIT);
}

static PRInt32 PR_CALLBACK memio_send(PRFileDesc *fd, const void *buf, PRInt32 amount,
                                      PRIntn flags, PRIntervalTime timeout)
{
    (void)flags;
    (void)timeout;
    nss_memio *m = memio_of(fd);
    if (m->send_shut) {
        PR_SetError(PR_CONNECT_RESET_ERROR, EPIPE);
        return -1;
    }
    if (amount <= 0)
        return 0;
    size_t n = mem_queue_fit(&m->out, (size_t)amount);
    if (n == 0) {
        PR_SetError(PR_WOULD_BLOCK_ERROR, EAGAIN);
        return -1;
    }
    if (mem_queue_append(&m->out, buf, n) != TC_OK) {
        PR_SetError(PR_OUT_OF_MEMORY_ERROR, ENOMEM);
        return -1;
    }
    return (PRInt32)n;
}

static PRInt32 PR_CALLBACK memio_write(PRFileDesc *fd, const void *buf, PRInt32 amount)
{
    return memio_send(fd, buf, amount, 0, PR_INTERVAL_NO_WAIT);
}

static PRStatus PR_CALLBACK memio_shutdown(PRFileDesc *fd, PRIntn how)
{
    if (how == PR_SHUTDOWN_SEND || how == PR_SHUTDOWN_BOTH)
        memio_of(fd)->send_shut = true;
    return PR_SUCCESS;
}

/* The queues belong to the session, which frees them after PR_Close. */
static PRStatus PR_CALLBACK memio_close(PRFileDesc *fd)
{
    fd->secret = NULL;
    fd->dtor(fd);
    return PR_SUCCESS;
}

static PRStatus PR_CALLBACK memio_name(PRFileDesc *fd, PRNetAddr *addr)
{
    (void)fd;
    return PR_InitializeNetAddr(PR_IpAddrLoopback, 0, addr);
}

static PRStatus PR_CALLBACK memio_getsocketoption(PRFileDesc *fd, PRSocketOptionData *data)
{
    (void)fd;
    switch (data->option) {
    case PR_SockOpt_Nonblocking: data->value.non_blocking = PR_TRUE; return PR_SUCCESS;
    case PR_SockOpt_NoDelay: data->value.no_delay = PR_TRUE; return PR_SUCCESS;
    default: PR_SetError(PR_NOT_IMPLEMENTED_ERROR, 0); return PR_FAILURE;
    }
}

/* NSS switches Nagle off before its closing alert (ssl_EnableNagleDelay);
 * a memory transport has no delay to switch. */
static PRStatus PR_CALLBACK memio_setsocketoption(PRFileDesc *fd,
                                                  const PRSocketOptionData *data)
{
    (void)fd;
    (void)data;
    return PR_SUCCESS;
}

/* Readiness is the runner's business: the layer only says which direction
 * the layers above asked for. */
static PRInt16 PR_CALLBACK memio_poll(PRFileDesc *fd, PRInt16 in_flags, PRInt16 *out_flags)
{
    (void)fd;
    *out_flags = 0;
    return in_flags;
}

static PRInt32 PR_CALLBACK memio_available(PRFileDesc *fd)
{
    return (PRInt32)mem_queue_pending(&memio_of(fd)->in);
}

static PRIOMethods memio_methods;
static PRDescIdentity memio_identity = PR_INVALID_IO_LAYER;

/* Built on first use, inside a session's setup: nothing of NSPR runs
 * before the driver's init. */
static const PRIOMethods *methods(void)
{
    if (memio_identity == PR_INVALID_IO_LAYER) {
        memio_identity = PR_GetUniqueIdentity("tlsclose-memio");
        memio_methods = *PR_GetDefaultIOMethods();
        memio_methods.file_type = PR_DESC_LAYERED;
        memio_methods.close = memio_close;
        memio_methods.read = memio_read;
        memio_methods.write = memio_write;
        memio_methods.recv = memio_recv;
        memio_methods.send = memio_send;
        memio_methods.shutdown = memio_shutdown;
        memio_methods.getpeername = memio_name;
        memio_methods.getsockname = memio_name;
        memio_methods.getsocketoption = memio_getsocketoption;
        memio_methods.setsocketoption = memio_setsocketoption;
        memio_methods.poll = memio_poll;
        memio_methods.available = memio_available;
    }
    return &memio_methods;
}

PRFileDesc *nss_memio_open(nss_memio *m)
{
    mem_queue_init(&m->in, 0);
    mem_queue_init(&m->out, NSS_MEMIO_OUT_CAP);
    m->send_shut = false;
    const PRIOMethods *meth = methods();
    if (memio_identity == PR_INVALID_IO_LAYER)
        return NULL; /* PR_GetUniqueIdentity set the error */
    PRFileDesc *fd = PR_CreateIOLayerStub(memio_identity, meth);
    if (fd)
        fd->secret = (PRFilePrivate *)m;
    return fd;
}

void nss_memio_free(nss_memio *m)
{
    mem_queue_free(&m->in);
    mem_queue_free(&m->out);
    memset(m, 0, sizeof *m);
}
