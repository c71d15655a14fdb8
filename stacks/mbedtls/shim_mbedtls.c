/* tlsclose-shim-mbedtls: the mbedTLS 2.28 driver for the shared shim runner
 * (stacks/shimlib/shim_driver.h). Each callback makes exactly one mbedTLS
 * call and reports what it returned; the runner loops, polls and moves
 * bytes. The mapping of calls and codes, and what mbedTLS does at closure,
 * is documented in stacks/mbedtls/README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ssl.h>
#include <mbedtls/version.h>

#include "mbedtls_memio.h"
#include "mbedtls_context.h"
#include "mbedtls_outcome.h"
#include "mem_queue.h"
#include "shim_driver.h"
#include "tc_err.h"

struct shim_session {
    mb_ctx *ctx;
    mbedtls_ssl_context ssl;
    mb_bio bio;
    /* A call on this connection returned MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY.
     * mbedTLS keeps no closure state of its own, so this only normalizes a
     * later close call to "complete"; it is not reported as the library's
     * shutdown flags. */
    bool peer_closed;
};

/* ---- process-wide setup ------------------------------------------------ */

static const char *mb_library_version(void)
{
    static char version[32];
    mbedtls_version_get_string_full(version);
    return version;
}

static void mb_deinit(void *ctx)
{
    if (!ctx)
        return;
    mb_ctx_free(ctx);
    free(ctx);
}

static int mb_init(const shim_config *cfg, void **ctx)
{
    mb_ctx *x = malloc(sizeof *x);
    if (!x)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    int rc = mb_ctx_init(x, cfg);
    if (rc != TC_OK) {
        mb_deinit(x);
        return rc;
    }
    *ctx = x;
    return TC_OK;
}

/* ---- connections ---------------------------------------------------------- */

/* A client offers the saved session; the library refusing it is its answer
 * (the connection will simply not resume), so it is only noted. */
static void mb_offer_saved(shim_session *s)
{
    if (!s->ctx->have_saved)
        return;
    int r = mbedtls_ssl_set_session(&s->ssl, &s->ctx->saved);
    if (r != 0)
        fprintf(stderr, "mbedtls_ssl_set_session: -0x%04X\n", (unsigned)-r);
}

static void mb_session_free(shim_session *s, bool sent_shutdown)
{
    /* mbedTLS's session cache keeps an entry whether or not the connection
     * was shut down (nothing removes it), so there is nothing to do
     * differently here. */
    (void)sent_shutdown;
    if (!s)
        return;
    mbedtls_ssl_free(&s->ssl);
    mb_bio_free(&s->bio);
    free(s);
}

static int mb_session_new(void *ctx, int fd, int conn_index, shim_session **out)
{
    mb_ctx *x = ctx;
    shim_session *s = calloc(1, sizeof *s);
    if (!s)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    s->ctx = x;
    mbedtls_ssl_init(&s->ssl);
    s->bio.fd = -1;
    int r = mbedtls_ssl_setup(&s->ssl, &x->conf);
    if (r != 0) {
        mb_session_free(s, false);
        return tc_err_set(TC_ERR_LIBRARY, "mbedtls_ssl_setup: -0x%04X", (unsigned)-r);
    }
    if (!x->cfg.server && (conn_index > 0 || x->cfg.session_in))
        mb_offer_saved(s);
    mb_bio_attach(&s->bio, &s->ssl, x->cfg.io == SHIM_IO_MEMORY ? -1 : fd);
    *out = s;
    return TC_OK;
}

/* ---- memory mode ------------------------------------------------------------ */

static size_t mb_mem_take_output(shim_session *s, uint8_t *buf, size_t cap)
{
    return mem_queue_take(&s->bio.out, buf, cap);
}

static int mb_mem_give_input(shim_session *s, const uint8_t *buf, size_t len)
{
    return mem_queue_append(&s->bio.in, buf, len);
}

static void mb_mem_give_eof(shim_session *s)
{
    mem_queue_set_eof(&s->bio.in);
}

static size_t mb_mem_input_pending(shim_session *s)
{
    return mem_queue_pending(&s->bio.in);
}

/* ---- library calls ------------------------------------------------------------ */

static void mb_before_call(shim_session *s)
{
    s->bio.last_errno = 0;
}

/* A negative return: a want, the peer's close_notify or an error. */
static void mb_failed(shim_session *s, int r, shim_call *c)
{
    if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
        s->peer_closed = true;
    mb_describe_error(&s->ssl, r, s->bio.last_errno, c);
}

static int mb_handshake(shim_session *s, shim_call *c)
{
    mb_before_call(s);
    int r = mbedtls_ssl_handshake(&s->ssl);
    if (r == 0)
        snprintf(c->outcome, sizeof c->outcome, "ok");
    else
        mb_failed(s, r, c);
    c->ret = r;
    return TC_OK;
}

/* 0 is what mbedtls_ssl_read documents as "the transport was closed without
 * a CloseNotify" (library/ssl_msg.c turns MBEDTLS_ERR_SSL_CONN_EOF into 0;
 * the peer's close_notify is MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY): truncation.
 * Two empty records in a row also read as 0; an application is told the
 * same, so the shim reports the same. */
static int mb_read(shim_session *s, uint8_t *buf, size_t cap, shim_call *c)
{
    mb_before_call(s);
    int r = mbedtls_ssl_read(&s->ssl, buf, cap);
    c->ret = r;
    if (r > 0) {
        c->bytes = (size_t)r;
        snprintf(c->outcome, sizeof c->outcome, "data:%d", r);
    } else if (r == 0) {
        snprintf(c->outcome, sizeof c->outcome, "truncated");
    } else {
        mb_failed(s, r, c);
    }
    return TC_OK;
}

static int mb_write(shim_session *s, const uint8_t *buf, size_t len, shim_call *c)
{
    mb_before_call(s);
    int r = mbedtls_ssl_write(&s->ssl, buf, len);
    c->ret = r;
    if (r >= 0) {
        c->bytes = (size_t)r;
        snprintf(c->outcome, sizeof c->outcome, "ok:%d", r);
    } else {
        mb_failed(s, r, c);
    }
    return TC_OK;
}

/* mbedtls_ssl_close_notify only sends (there is no call that waits for the
 * peer's close_notify): 0 is "sent", or "complete" when a read already
 * returned the peer's close_notify. */
static int mb_shutdown(shim_session *s, shim_call *c)
{
    mb_before_call(s);
    int r = mbedtls_ssl_close_notify(&s->ssl);
    c->ret = r;
    if (r < 0) {
        mb_failed(s, r, c);
        return TC_OK;
    }
    snprintf(c->outcome, sizeof c->outcome, "%s", s->peer_closed ? "complete" : "sent");
    return TC_OK;
}

static void mb_flags(shim_session *s, shim_flags *f)
{
    /* mbedTLS has no SSL_get_shutdown and keeps no closure state at all. */
    (void)s;
    f->known = false;
    f->sent = false;
    f->received = false;
}

/* ---- resumption ------------------------------------------------------------------ */

/* Client: the session would be offered again when mbedTLS can copy it and
 * it carries something to offer: a session ID of the length
 * ssl_write_client_hello sends (16-32 bytes) or a ticket. Server: its
 * session cache holds the session's ID. */
static int mb_session_resumable(shim_session *s, bool *resumable)
{
    if (s->ctx->cfg.server) {
        *resumable = mb_ctx_cache_holds(s->ctx, &s->ssl);
        return TC_OK;
    }
    mbedtls_ssl_session copy;
    mbedtls_ssl_session_init(&copy);
    int r = mbedtls_ssl_get_session(&s->ssl, &copy);
    bool offer = copy.id_len >= 16 && copy.id_len <= 32;
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    offer = offer || (copy.ticket != NULL && copy.ticket_len > 0);
#endif
    *resumable = r == 0 && offer;
    mbedtls_ssl_session_free(&copy);
    return TC_OK;
}

/* mbedTLS 2.28 has no accessor for "this handshake resumed" (the flag,
 * handshake->resume, is freed with the handshake). A resumed TLS 1.2
 * session keeps its master secret, a full handshake derives a fresh one:
 * the connection resumed when its master secret is that of the session
 * session_save recorded from the previous connection. */
static int mb_session_reused(shim_session *s, bool *reused)
{
    const mbedtls_ssl_session *cur = mbedtls_ssl_get_session_pointer(&s->ssl);
    *reused = cur && s->ctx->have_prev_master &&
              memcmp(cur->master, s->ctx->prev_master, sizeof cur->master) == 0;
    return TC_OK;
}

static int mb_session_save(shim_session *s)
{
    mb_ctx_note_master(s->ctx, &s->ssl);
    if (s->ctx->cfg.server)
        return TC_OK; /* the session cache already holds it */
    return mb_ctx_save_session(s->ctx, &s->ssl);
}

static const shim_driver mb_driver = {
    .name = "mbedtls",
    .api = "native",
    .library_version = mb_library_version,
    .init = mb_init,
    .deinit = mb_deinit,
    .session_new = mb_session_new,
    .session_free = mb_session_free,
    .mem_take_output = mb_mem_take_output,
    .mem_give_input = mb_mem_give_input,
    .mem_give_eof = mb_mem_give_eof,
    .handshake = mb_handshake,
    .read = mb_read,
    .write = mb_write,
    .shutdown = mb_shutdown,
    .shutdown_quiet = NULL, /* mbedTLS has no quiet shutdown */
    .shutdown_full = NULL,  /* nor a call that waits for the peer's close_notify */
    .error_after = NULL,    /* nor an error query on a previous return value */
    .keyupdate = NULL,      /* TLS 1.2 only: no KeyUpdate */
    .flags = mb_flags,
    .session_resumable = mb_session_resumable,
    .session_reused = mb_session_reused,
    .session_save = mb_session_save,
    .mem_input_pending = mb_mem_input_pending,
};

int main(int argc, char **argv)
{
    return shim_main(&mb_driver, argc, argv);
}
