/* tlsclose-shim-wolfssl: the wolfSSL driver for the shared shim runner
 * (stacks/shimlib/shim_driver.h), on wolfSSL's native API. Each callback
 * makes one wolfSSL call (wolfSSL_negotiate, wolfSSL_read, wolfSSL_write,
 * wolfSSL_shutdown...) and reports what it returned; the runner loops,
 * polls and moves bytes. The mapping and what wolfSSL does are described
 * in stacks/wolfssl/README.md. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "mem_queue.h"
#include "shim_driver.h"
#include "tc_err.h"
#include "wolfssl_context.h"
#include "wolfssl_memio.h"
#include "wolfssl_outcome.h"

struct shim_session {
    wf_ctx *x;
    WOLFSSL *ssl;
    wf_memio *mem;      /* memory mode only */
    bool update_queued; /* a KeyUpdate waits in wolfSSL's output buffer */
};

static const char *wf_library_version(void)
{
    static char text[64];
    snprintf(text, sizeof text, "wolfSSL %s", wolfSSL_lib_version());
    return text;
}

static int wf_init(const shim_config *cfg, void **ctx)
{
    if (wolfSSL_Init() != WOLFSSL_SUCCESS)
        return tc_err_set(TC_ERR_LIBRARY, "wolfSSL_Init failed");
    wf_ctx *x = calloc(1, sizeof *x);
    int rc = x ? wf_ctx_init(cfg, x) : tc_err_set(TC_ERR_SYS, "out of memory");
    if (rc < 0) {
        if (x)
            wf_ctx_free(x);
        free(x);
        wolfSSL_Cleanup(); /* init cleans up after itself on failure */
        return rc;
    }
    *ctx = x;
    return TC_OK;
}

static void wf_deinit(void *ctx)
{
    wf_ctx_free(ctx);
    free(ctx);
    wolfSSL_Cleanup();
}

static int attach_transport(shim_session *s, int fd)
{
    if (fd >= 0)
        return wolfSSL_set_fd(s->ssl, fd) == WOLFSSL_SUCCESS
                   ? TC_OK
                   : tc_err_set(TC_ERR_SYS, "wolfSSL_set_fd failed");
    s->mem = calloc(1, sizeof *s->mem);
    if (!s->mem)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    wf_memio_attach(s->mem, s->ssl);
    return TC_OK;
}

static int setup_session(wf_ctx *x, shim_session *s, int fd)
{
    s->ssl = wolfSSL_new(x->ctx);
    if (!s->ssl)
        return tc_err_set(TC_ERR_SYS, "wolfSSL_new failed");
    int rc = attach_transport(s, fd);
    if (rc < 0 || x->cfg.server || !x->saved)
        return rc;
    if (wolfSSL_set_session(s->ssl, x->saved) != WOLFSSL_SUCCESS)
        fprintf(stderr, "wolfssl shim: wolfSSL_set_session refused the saved session\n");
    return TC_OK;
}

static void wf_session_free(shim_session *s, bool sent_shutdown);

/* conn_index needs no special case: a client offers whatever session was
 * saved last (--session-in for the first connection). */
static int wf_session_new(void *ctx, int fd, int conn_index, shim_session **out)
{
    (void)conn_index;
    shim_session *s = calloc(1, sizeof *s);
    if (!s)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    s->x = ctx;
    int rc = setup_session(ctx, s, fd);
    if (rc < 0) {
        wf_session_free(s, false);
        return rc;
    }
    *out = s;
    return TC_OK;
}

/* wolfSSL_free decides nothing about the session from the shutdown state,
 * so sent_shutdown needs no action (stacks/wolfssl/wolfssl.toml,
 * server-session-cache-drops-session-freed-without-shutdown). */
static void wf_session_free(shim_session *s, bool sent_shutdown)
{
    (void)sent_shutdown;
    if (s->ssl)
        wolfSSL_free(s->ssl);
    if (s->mem) {
        wf_memio_free(s->mem);
        free(s->mem);
    }
    free(s);
}

/* ---- memory mode ---------------------------------------------------- */

static size_t wf_mem_take_output(shim_session *s, uint8_t *buf, size_t cap)
{
    return mem_queue_take(&s->mem->out, buf, cap);
}

static int wf_mem_give_input(shim_session *s, const uint8_t *buf, size_t len)
{
    return mem_queue_append(&s->mem->in, buf, len);
}

static void wf_mem_give_eof(shim_session *s)
{
    mem_queue_set_eof(&s->mem->in);
}

static size_t wf_mem_input_pending(shim_session *s)
{
    return mem_queue_pending(&s->mem->in);
}

/* ---- one call each ---------------------------------------------------- */

/* Runs one call with a clean error queue and errno, and captures it. */
#define ONE_CALL(s, kind, c, expr)                      \
    do {                                                \
        wolfSSL_ERR_clear_error();                      \
        errno = 0;                                      \
        int ret_ = (expr);                              \
        int errno_ = errno;                             \
        wf_capture((s)->ssl, ret_, errno_, (kind), (c)); \
    } while (0)

static int clamp(size_t n)
{
    return n > INT_MAX ? INT_MAX : (int)n;
}

static int wf_handshake(shim_session *s, shim_call *c)
{
    ONE_CALL(s, WF_CALL_HANDSHAKE, c, wolfSSL_negotiate(s->ssl));
    return TC_OK;
}

static int wf_read(shim_session *s, uint8_t *buf, size_t cap, shim_call *c)
{
    ONE_CALL(s, WF_CALL_READ, c, wolfSSL_read(s->ssl, buf, clamp(cap)));
    return TC_OK;
}

static int wf_write(shim_session *s, const uint8_t *buf, size_t len, shim_call *c)
{
    ONE_CALL(s, WF_CALL_WRITE, c, wolfSSL_write(s->ssl, buf, clamp(len)));
    return TC_OK;
}

static int wf_shutdown(shim_session *s, shim_call *c)
{
    ONE_CALL(s, WF_CALL_SHUTDOWN, c, wolfSSL_shutdown(s->ssl));
    return TC_OK;
}

static int wf_shutdown_quiet(shim_session *s, shim_call *c)
{
    wolfSSL_set_quiet_shutdown(s->ssl, 1);
    return wf_shutdown(s, c);
}

static int wf_error_after(shim_session *s, long prev_ret, shim_call *c)
{
    int err = wolfSSL_get_error(s->ssl, (int)prev_ret);
    char buf[32];
    c->ret = err;
    snprintf(c->error, sizeof c->error, "%s", wf_error_name(err, buf, sizeof buf));
    wf_error_outcome(err, c->outcome, sizeof c->outcome);
    return TC_OK;
}

/* wolfSSL documents that after WOLFSSL_ERROR_WANT_WRITE from
 * wolfSSL_update_keys "calling wolfSSL_write() will have the message sent
 * when ready": the KeyUpdate is already built and the new write key in use,
 * so a repeat must not build a second one. A zero-length wolfSSL_write
 * flushes it (SendData sends the buffered output first). */
static int flush_update(shim_session *s, shim_call *c)
{
    static const uint8_t none[1];
    wolfSSL_ERR_clear_error();
    errno = 0;
    int ret = wolfSSL_write(s->ssl, none, 0);
    int saved = errno;
    if (ret == 0 && wolfSSL_get_error(s->ssl, ret) == WOLFSSL_ERROR_NONE)
        ret = WOLFSSL_SUCCESS;
    else if (ret <= 0)
        ret = wolfSSL_get_error(s->ssl, ret);
    wf_capture_code(s->ssl, ret, saved, c);
    return TC_OK;
}

/* wolfSSL_update_keys has no request flag: it asks the peer to update too
 * unless it is answering the peer's request (SendTls13KeyUpdate), so
 * request_peer = false cannot be honoured (README.md, Steps). */
static int wf_keyupdate(shim_session *s, bool request_peer, shim_call *c)
{
    (void)request_peer;
    if (s->update_queued)
        flush_update(s, c);
    else {
        wolfSSL_ERR_clear_error();
        errno = 0;
        int ret = wolfSSL_update_keys(s->ssl);
        int saved = errno;
        wf_capture_code(s->ssl, ret, saved, c);
    }
    s->update_queued = c->want == SHIM_WANT_WRITE;
    return TC_OK;
}

static void wf_flags(shim_session *s, shim_flags *f)
{
    int flags = wolfSSL_get_shutdown(s->ssl);
    f->known = true;
    f->sent = (flags & WOLFSSL_SENT_SHUTDOWN) != 0;
    f->received = (flags & WOLFSSL_RECEIVED_SHUTDOWN) != 0;
}

static int wf_session_resumable(shim_session *s, bool *resumable)
{
    WOLFSSL_SESSION *sess = wolfSSL_get_session(s->ssl);
    *resumable = sess && wolfSSL_SESSION_is_resumable(sess) == 1;
    return TC_OK;
}

static int wf_session_reused(shim_session *s, bool *reused)
{
    *reused = wolfSSL_session_reused(s->ssl) == 1;
    return TC_OK;
}

/* Client: the session to offer next (for TLS 1.3 the one the last ticket
 * brought, if any ticket was read). Server: its WOLFSSL_CTX already holds
 * the cache and ticket key; only --session-out needs the session. */
static int wf_session_save(shim_session *s)
{
    if (s->x->cfg.server && !s->x->cfg.session_out)
        return TC_OK;
    return wf_ctx_save_session(s->x, wolfSSL_get1_session(s->ssl));
}

/* ---- options and reuse ------------------------------------------------ */

/* wolfSSL 5.5 has quiet shutdown and post-handshake authentication (a
 * client call: wolfSSL_allow_post_handshake_auth returns 0 or an error
 * code), on the object and on the context, but no option that makes an EOF
 * without close_notify a close. */
#define WF_OPTIONS ((1u << SHIM_OPT_QUIET_SHUTDOWN) | (1u << SHIM_OPT_POST_HANDSHAKE_AUTH))

static int wf_set_option(void *ctx, shim_session *s, shim_option option, bool context_scope,
                         shim_call *c)
{
    wf_ctx *x = ctx;
    int ret = 1;
    if (option == SHIM_OPT_QUIET_SHUTDOWN && context_scope)
        wolfSSL_CTX_set_quiet_shutdown(x->ctx, 1);
    else if (option == SHIM_OPT_QUIET_SHUTDOWN)
        wolfSSL_set_quiet_shutdown(s->ssl, 1);
    else if (context_scope)
        ret = wolfSSL_CTX_allow_post_handshake_auth(x->ctx) == 0 ? 1 : 0;
    else
        ret = wolfSSL_allow_post_handshake_auth(s->ssl) == 0 ? 1 : 0;
    c->ret = ret;
    snprintf(c->outcome, sizeof c->outcome, "%s", ret == 1 ? "ok" : "error:other");
    return TC_OK;
}

/* wolfSSL_clear resets the object for another connection (its
 * SSL_clear); the next connection gets a new fd or new memory buffers. */
static int wf_clear(shim_session *s, shim_call *c)
{
    c->ret = wolfSSL_clear(s->ssl);
    snprintf(c->outcome, sizeof c->outcome, "%s",
             c->ret == WOLFSSL_SUCCESS ? "ok" : "error:other");
    return TC_OK;
}

static int wf_session_attach(shim_session *s, int fd)
{
    if (s->mem) {
        wf_memio_free(s->mem);
        free(s->mem);
        s->mem = NULL;
    }
    return attach_transport(s, fd);
}

static const shim_driver wf_driver = {
    .name = "wolfssl",
    .api = "openssl",
    .library_version = wf_library_version,
    .init = wf_init,
    .deinit = wf_deinit,
    .session_new = wf_session_new,
    .session_free = wf_session_free,
    .mem_take_output = wf_mem_take_output,
    .mem_give_input = wf_mem_give_input,
    .mem_give_eof = wf_mem_give_eof,
    .handshake = wf_handshake,
    .read = wf_read,
    .write = wf_write,
    .shutdown = wf_shutdown,
    .shutdown_quiet = wf_shutdown_quiet,
    .shutdown_full = NULL,
    .error_after = wf_error_after,
    .keyupdate = wf_keyupdate,
    .flags = wf_flags,
    .session_resumable = wf_session_resumable,
    .session_reused = wf_session_reused,
    .session_save = wf_session_save,
    .mem_input_pending = wf_mem_input_pending,
    .set_option = wf_set_option,
    .options_connection = WF_OPTIONS,
    .options_context = WF_OPTIONS,
    .clear = wf_clear,
    .session_attach = wf_session_attach,
};

int main(int argc, char **argv)
{
    return shim_main(&wf_driver, argc, argv);
}
