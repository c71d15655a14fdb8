/* tlsclose-shim-nss: the NSS driver for the shared shim runner
 * (stacks/shimlib/shim_driver.h). Each callback makes one NSS call
 * (SSL_ForceHandshake, PR_Recv, PR_Send, PR_Shutdown, SSL_KeyUpdate) and
 * reports what it returned; the runner loops, polls and moves bytes. The
 * mapping and what NSS does are described in stacks/nss/README.md. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nss.h>
#include <prerror.h>
#include <prio.h>
#include <private/pprio.h> /* PR_ImportTCPSocket */
#include <ssl.h>
#include <sslexp.h>

#include "nss_context.h"
#include "nss_memio.h"
#include "nss_outcome.h"
#include "shim_driver.h"
#include "tc_err.h"

struct shim_session {
    nss_ctx *x;
    PRFileDesc *ssl;     /* the top of the layer stack: NSS's SSL layer */
    int osfd;            /* socket modes: the descriptor NSPR owns, else -1 */
    nss_memio *mem;      /* memory mode only */
    bool blocking;
    bool handshaken;     /* SSL_ForceHandshake succeeded */
    bool peer_ended;     /* a PR_Recv returned 0 */
    bool token_seen;     /* NSS handed out a resumption token for this connection */
    int fatal_alert;     /* the last alert NSS received and treats as fatal, or -1 */
    nss_alert_log alerts;/* the alerts of the current call */
};

static const char *ns_library_version(void)
{
    static char text[64];
    snprintf(text, sizeof text, "NSS %s", NSS_GetVersion());
    return text;
}

static int ns_init(const shim_config *cfg, void **ctx)
{
    nss_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    int rc = nss_ctx_init(cfg, x);
    if (rc < 0) {
        nss_ctx_free(x); /* init cleans up after itself on failure */
        free(x);
        return rc;
    }
    *ctx = x;
    return TC_OK;
}

static void ns_deinit(void *ctx)
{
    nss_ctx_free(ctx);
    free(ctx);
}

/* ---- callbacks NSS makes during a call --------------------------------- */

static void on_alert_received(const PRFileDesc *fd, void *arg, const SSLAlert *alert)
{
    (void)fd;
    shim_session *s = arg;
    nss_alert_log_add(&s->alerts, false, alert);
    if (nss_alert_is_fatal(alert, s->x->cfg.tls_minor))
        s->fatal_alert = alert->description;
}

static void on_alert_sent(const PRFileDesc *fd, void *arg, const SSLAlert *alert)
{
    (void)fd;
    nss_alert_log_add(&((shim_session *)arg)->alerts, true, alert);
}

/* NSS hands a client the token of each session it could resume (TLS 1.2:
 * at the end of a handshake that got a ticket; TLS 1.3: per
 * NewSessionTicket). The newest one is offered by the next connection. */
static SECStatus on_token(PRFileDesc *fd, const PRUint8 *token, unsigned int len, void *arg)
{
    (void)fd;
    shim_session *s = arg;
    if (nss_ctx_keep_token(s->x, token, len) < 0)
        return SECFailure;
    s->token_seen = true;
    return SECSuccess;
}

/* ---- one connection ------------------------------------------------------- */

/* The runner owns fd and closes it (close_transport, resume, the end of the
 * run), while PR_Close closes what NSPR imported: NSPR gets its own
 * descriptor of the same socket. */
static int socket_layer(shim_session *s, int fd, bool nonblocking, PRFileDesc **out)
{
    s->osfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (s->osfd < 0)
        return tc_err_set(TC_ERR_SYS, "dup: %s", strerror(errno));
    PRFileDesc *tcp = PR_ImportTCPSocket(s->osfd); /* closes osfd on failure */
    if (!tcp) {
        s->osfd = -1;
        return tc_err_set(TC_ERR_LIBRARY, "PR_ImportTCPSocket: %s",
                          PR_ErrorToName(PR_GetError()));
    }
    PRSocketOptionData opt = {.option = PR_SockOpt_Nonblocking};
    opt.value.non_blocking = nonblocking;
    if (PR_SetSocketOption(tcp, &opt) != PR_SUCCESS) {
        int rc = tc_err_set(TC_ERR_LIBRARY, "PR_SockOpt_Nonblocking: %s",
                            PR_ErrorToName(PR_GetError()));
        PR_Close(tcp);
        return rc;
    }
    *out = tcp;
    return TC_OK;
}

static int memory_layer(shim_session *s, PRFileDesc **out)
{
    s->mem = calloc(1, sizeof *s->mem);
    if (!s->mem)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    *out = nss_memio_open(s->mem);
    if (!*out)
        return tc_err_set(TC_ERR_SYS, "memory layer: %s", PR_ErrorToName(PR_GetError()));
    return TC_OK;
}

static int install_callbacks(shim_session *s)
{
    if (SSL_AlertReceivedCallback(s->ssl, on_alert_received, s) != SECSuccess ||
        SSL_AlertSentCallback(s->ssl, on_alert_sent, s) != SECSuccess ||
        (!s->x->cfg.server && SSL_SetResumptionTokenCallback(s->ssl, on_token, s) != SECSuccess))
        return tc_err_set(TC_ERR_LIBRARY, "NSS callbacks: %s", PR_ErrorToName(PR_GetError()));
    return TC_OK;
}

/* SSL_ResetHandshake drops any session set before it, so the token comes
 * after. A token NSS refuses is the connection's business: it just does
 * not resume. */
static int start_handshake(shim_session *s)
{
    nss_ctx *x = s->x;
    if (SSL_ResetHandshake(s->ssl, x->cfg.server) != SECSuccess)
        return tc_err_set(TC_ERR_LIBRARY, "SSL_ResetHandshake: %s", PR_ErrorToName(PR_GetError()));
    if (!x->cfg.server && x->latest.data &&
        SSL_SetResumptionToken(s->ssl, x->latest.data, x->latest.len) != SECSuccess)
        fprintf(stderr, "nss shim: SSL_SetResumptionToken refused the saved session: %s\n",
                PR_ErrorToName(PR_GetError()));
    return TC_OK;
}

static int setup_session(shim_session *s, int fd)
{
    PRFileDesc *bottom = NULL;
    int rc = fd < 0 ? memory_layer(s, &bottom) : socket_layer(s, fd, !s->blocking, &bottom);
    if (rc < 0)
        return rc;
    s->ssl = SSL_ImportFD(NULL, bottom);
    if (!s->ssl) {
        rc = tc_err_set(TC_ERR_LIBRARY, "SSL_ImportFD: %s", PR_ErrorToName(PR_GetError()));
        PR_Close(bottom);
        return rc;
    }
    rc = nss_ctx_configure(s->x, s->ssl);
    if (rc == TC_OK)
        rc = install_callbacks(s);
    return rc == TC_OK ? start_handshake(s) : rc;
}

static void ns_session_free(shim_session *s, bool sent_shutdown);

/* The IO mode shows in fd (-1: memory) and in the socket's O_NONBLOCK,
 * which the runner set before this call. */
static int ns_session_new(void *ctx, int fd, int conn_index, shim_session **out)
{
    (void)conn_index; /* a client offers the newest token, whichever connection */
    shim_session *s = calloc(1, sizeof *s);
    if (!s)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    s->x = ctx;
    s->osfd = -1;
    s->fatal_alert = -1;
    s->blocking = fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK);
    int rc = setup_session(s, fd);
    if (rc < 0) {
        ns_session_free(s, false);
        return rc;
    }
    *out = s;
    return TC_OK;
}

/* PR_Close is NSS's only way to free a connection, and it sends
 * close_notify unless PR_Shutdown(PR_SHUTDOWN_SEND) already did
 * (sslsecur.c ssl_SecureClose), so sent_shutdown changes nothing. The
 * socket is made nonblocking first: an alert that does not fit is dropped
 * instead of waiting past the run's deadline. */
static void ns_session_free(shim_session *s, bool sent_shutdown)
{
    (void)sent_shutdown;
    if (s->ssl) {
        if (s->blocking) {
            PRSocketOptionData opt = {.option = PR_SockOpt_Nonblocking};
            opt.value.non_blocking = PR_TRUE;
            (void)PR_SetSocketOption(s->ssl, &opt);
        }
        PR_Close(s->ssl);
    }
    if (s->mem) {
        nss_memio_free(s->mem);
        free(s->mem);
    }
    free(s);
}

/* ---- memory mode -------------------------------------------------------- */

static size_t ns_mem_take_output(shim_session *s, uint8_t *buf, size_t cap)
{
    return mem_queue_take(&s->mem->out, buf, cap);
}

static int ns_mem_give_input(shim_session *s, const uint8_t *buf, size_t len)
{
    return mem_queue_append(&s->mem->in, buf, len);
}

static void ns_mem_give_eof(shim_session *s)
{
    mem_queue_set_eof(&s->mem->in);
}

static size_t ns_mem_input_pending(shim_session *s)
{
    return mem_queue_pending(&s->mem->in);
}

/* ---- around each call -------------------------------------------------- */

/* Blocking mode: NSPR keeps every socket O_NONBLOCK and waits itself, with
 * the timeout each call carries, so the kernel timeouts the runner sets
 * (SO_SNDTIMEO, the time left of the step) do not bound it. The driver
 * passes them on as the call's NSPR timeout. */
static PRIntervalTime call_timeout(const shim_session *s)
{
    struct timeval tv = {0};
    socklen_t len = sizeof tv;
    if (!s->blocking || getsockopt(s->osfd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) < 0 ||
        (tv.tv_sec == 0 && tv.tv_usec == 0))
        return PR_INTERVAL_NO_TIMEOUT;
    long ms = (long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    return PR_MillisecondsToInterval((PRUint32)(ms > 0 ? ms : 1));
}

/* PR_Shutdown and SSL_KeyUpdate take no timeout: NSS uses the one of the
 * last PR_Recv/PR_Send (sslsock.c ssl_Recv sets both). A zero-length
 * PR_Recv sets it and returns before reading anything (sslsecur.c
 * ssl_SecureRecv, "if (len == 0) return 0"). Only after the handshake,
 * where that is all it does. */
static void carry_timeout(shim_session *s)
{
    uint8_t none[1];
    if (s->blocking && s->handshaken)
        (void)PR_Recv(s->ssl, none, 0, 0, call_timeout(s));
}

/* Where NSS would wait: what its poll method asks of the transport for an
 * application that is interested in `interest` (sslsock.c ssl_Poll; the
 * memory layer passes the flags through). While the first handshake runs
 * it says whether a flight is stuck on write; afterwards it adds WRITE when
 * encrypted bytes are still pending; then writing comes first. */
static shim_want want_direction(shim_session *s, PRInt16 interest)
{
    PRInt16 out = 0;
    PRInt16 need = s->ssl->methods->poll(s->ssl, interest, &out);
    if (need & PR_POLL_WRITE)
        return SHIM_WANT_WRITE;
    if (need & PR_POLL_READ)
        return SHIM_WANT_READ;
    return interest == PR_POLL_WRITE ? SHIM_WANT_WRITE : SHIM_WANT_READ;
}

static void begin_call(shim_session *s)
{
    s->alerts.n = 0;
    s->alerts.dropped = 0;
    PR_SetError(0, 0);
}

static void end_call(shim_session *s, nss_call_kind kind, long ret, bool ok, PRInt16 interest,
                     shim_call *c)
{
    nss_result r = {.kind = kind, .ret = ret, .ok = ok, .fatal_alert = s->fatal_alert,
                    .peer_ended = s->peer_ended, .blocked = SHIM_WANT_NONE};
    if (!ok) {
        r.error = PR_GetError();
        r.os_error = PR_GetOSError();
        if (r.error == PR_WOULD_BLOCK_ERROR || r.error == PR_IO_TIMEOUT_ERROR)
            r.blocked = want_direction(s, interest);
    }
    nss_capture(&r, &s->alerts, c);
}

static int clamp(size_t n)
{
    return n > INT_MAX ? INT_MAX : (int)n;
}

/* ---- one call each ------------------------------------------------------ */

static int ns_handshake(shim_session *s, shim_call *c)
{
    begin_call(s);
    SECStatus rv = s->blocking ? SSL_ForceHandshakeWithTimeout(s->ssl, call_timeout(s))
                               : SSL_ForceHandshake(s->ssl);
    if (rv == SECSuccess)
        s->handshaken = true;
    end_call(s, NSS_CALL_HANDSHAKE, rv, rv == SECSuccess, PR_POLL_READ, c);
    return TC_OK;
}

static int ns_read(shim_session *s, uint8_t *buf, size_t cap, shim_call *c)
{
    begin_call(s);
    PRInt32 n = PR_Recv(s->ssl, buf, clamp(cap), 0, call_timeout(s));
    if (n == 0)
        s->peer_ended = true;
    end_call(s, NSS_CALL_READ, n, n >= 0, PR_POLL_READ, c);
    return TC_OK;
}

static int ns_write(shim_session *s, const uint8_t *buf, size_t len, shim_call *c)
{
    begin_call(s);
    PRInt32 n = PR_Send(s->ssl, buf, clamp(len), 0, call_timeout(s));
    end_call(s, NSS_CALL_WRITE, n, n >= 0, PR_POLL_WRITE, c);
    return TC_OK;
}

static int ns_shutdown(shim_session *s, shim_call *c)
{
    carry_timeout(s);
    begin_call(s);
    PRStatus rv = PR_Shutdown(s->ssl, PR_SHUTDOWN_SEND);
    end_call(s, NSS_CALL_SHUTDOWN, rv, rv == PR_SUCCESS, PR_POLL_WRITE, c);
    return TC_OK;
}

static int ns_keyupdate(shim_session *s, bool request_peer, shim_call *c)
{
    carry_timeout(s);
    begin_call(s);
    SECStatus rv = SSL_KeyUpdate(s->ssl, request_peer);
    end_call(s, NSS_CALL_KEYUPDATE, rv, rv == SECSuccess, PR_POLL_WRITE, c);
    return TC_OK;
}

/* NSS keeps no shutdown flags an application could read. */
static void ns_flags(shim_session *s, shim_flags *f)
{
    (void)s;
    f->known = false;
}

static int ns_session_resumable(shim_session *s, bool *resumable)
{
    if (s->x->cfg.server)
        return tc_err_set(TC_ERR_UNSUPPORTED,
                          "NSS has no call that tells whether a server session is resumable");
    *resumable = s->token_seen;
    return TC_OK;
}

static int ns_session_reused(shim_session *s, bool *reused)
{
    SSLChannelInfo info;
    if (SSL_GetChannelInfo(s->ssl, &info, sizeof info) != SECSuccess)
        return tc_err_set(TC_ERR_LIBRARY, "SSL_GetChannelInfo: %s",
                          PR_ErrorToName(PR_GetError()));
    *reused = info.resumed;
    return TC_OK;
}

/* The token store already holds what the next connection offers (the
 * server's cache and ticket key live in the process); only --session-out
 * needs writing. */
static int ns_session_save(shim_session *s)
{
    return nss_ctx_write_session(s->x);
}

static const shim_driver ns_driver = {
    .name = "nss",
    .api = "native",
    .library_version = ns_library_version,
    .init = ns_init,
    .deinit = ns_deinit,
    .session_new = ns_session_new,
    .session_free = ns_session_free,
    .mem_take_output = ns_mem_take_output,
    .mem_give_input = ns_mem_give_input,
    .mem_give_eof = ns_mem_give_eof,
    .handshake = ns_handshake,
    .read = ns_read,
    .write = ns_write,
    .shutdown = ns_shutdown,
    .shutdown_quiet = NULL,  /* NSS has no quiet shutdown */
    .shutdown_full = NULL,   /* nor a call that waits for the peer's close_notify */
    .error_after = NULL,     /* nor an error query on a return value */
    .keyupdate = ns_keyupdate,
    .flags = ns_flags,
    .session_resumable = ns_session_resumable,
    .session_reused = ns_session_reused,
    .session_save = ns_session_save,
    .mem_input_pending = ns_mem_input_pending,
};

int main(int argc, char **argv)
{
    return shim_main(&ns_driver, argc, argv);
}
