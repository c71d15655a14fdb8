/* tlsclose-shim-openssl: the OpenSSL driver for the shared shim runner
 * (stacks/shimlib/shim_driver.h). Each callback makes one OpenSSL call
 * (SSL_do_handshake, SSL_read, SSL_write, SSL_shutdown...) and reports what
 * it returned; the runner loops, polls and moves bytes. */
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

#include "openssl_context.h"
#include "openssl_creds.h"
#include "openssl_outcome.h"
#include "shim_driver.h"
#include "tc_err.h"

#ifdef OPENSSL_IS_BORINGSSL
#include "boringssl_glue.h" /* stacks/boringssl: sessions, KeyUpdate flush */
#endif

/* Memory mode: the library writes into a buffer of 17 KiB, small enough
 * that a peer that stops reading makes SSL_write report WANT_WRITE once the
 * socket is full, large enough for one full record. The runner gives input
 * one record (at most 16 KiB) at a time after WANT_READ; the input side is
 * sized for the largest TLS 1.2 record (2^14 + 2048 + header). */
#define MEM_OUT_BUF (17 * 1024)
#define MEM_IN_BUF (16384 + 2048 + 5 + 1024)

struct shim_session {
    ossl_ctx *x;
    SSL *ssl;
    BIO *outer; /* memory mode: the runner's end of the BIO pair */
#ifdef OPENSSL_IS_BORINGSSL
    bool update_queued; /* a KeyUpdate was queued and is not sent yet */
#endif
};

static const char *ossl_library_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

/* Persistent mode: OpenSSL's global initialisation (error strings, the
 * default provider's algorithms) once in the server instead of once per
 * cell. It leaves no SSL_CTX, no session and no key behind: every cell
 * builds its own context, so cells share nothing a cell could change. */
static int ossl_preinit(void)
{
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                         NULL) != 1)
        return tc_err_set(TC_ERR_LIBRARY, "OPENSSL_init_ssl failed");
    /* One context made and freed: OpenSSL 3 keeps what it fetched from its
     * providers (ciphers, digests, signature algorithms, groups) for the
     * process, so each cell's SSL_CTX_new finds them ready (measured: 1.4 ms
     * less CPU per cell). The context, with its ticket keys, is gone before
     * the first fork; the random generator it seeded reseeds in every child
     * (providers/implementations/rands/drbg.c, ossl_prov_drbg_generate:
     * a changed fork_id, i.e. getpid(), forces a reseed). */
#ifndef OPENSSL_IS_BORINGSSL /* its fork safety is not what the comment cites */
    SSL_CTX_free(SSL_CTX_new(TLS_method()));
#endif
    return TC_OK;
}

/* Persistent mode: a server cell's certificate and key, read once. */
static void ossl_preload(const shim_config *cfg)
{
    openssl_creds_preload(cfg->cert, cfg->key);
}

static int ossl_init(const shim_config *cfg, void **ctx)
{
    ossl_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    int rc = ossl_ctx_init(cfg, x);
    if (rc < 0) {
        ossl_ctx_free(x);
        free(x);
        return rc;
    }
    *ctx = x;
    return TC_OK;
}

static void ossl_deinit(void *ctx)
{
    ossl_ctx_free(ctx);
    free(ctx);
}

static int attach_memory(shim_session *s)
{
    BIO *inner = NULL;
    if (BIO_new_bio_pair(&inner, MEM_OUT_BUF, &s->outer, MEM_IN_BUF) != 1)
        return tc_err_set(TC_ERR_SYS, "BIO_new_bio_pair failed");
    SSL_set_bio(s->ssl, inner, inner);
    return TC_OK;
}

static int setup_session(ossl_ctx *x, shim_session *s, int fd)
{
    s->ssl = SSL_new(x->ctx);
    if (!s->ssl)
        return tc_err_set(TC_ERR_SYS, "SSL_new failed");
    if (fd >= 0 && SSL_set_fd(s->ssl, fd) != 1)
        return tc_err_set(TC_ERR_SYS, "SSL_set_fd failed");
    if (fd < 0) {
        int rc = attach_memory(s);
        if (rc < 0)
            return rc;
    }
    if (x->cfg.server) {
        SSL_set_accept_state(s->ssl);
        return TC_OK;
    }
    SSL_set_connect_state(s->ssl);
    if (x->saved && SSL_set_session(s->ssl, x->saved) != 1)
        return tc_err_set(TC_ERR_LIBRARY, "SSL_set_session failed");
    return TC_OK;
}

static void ossl_session_free(shim_session *s, bool sent_shutdown);

/* conn_index needs no special case: a client offers whatever session was
 * saved last (--session-in for the first connection). */
static int ossl_session_new(void *ctx, int fd, int conn_index, shim_session **out)
{
    (void)conn_index;
    shim_session *s = calloc(1, sizeof *s);
    if (!s)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    s->x = ctx;
    int rc = setup_session(ctx, s, fd);
    if (rc < 0) {
        ossl_session_free(s, false);
        return rc;
    }
    *out = s;
    return TC_OK;
}

/* SSL_free itself decides the session's fate: a connection that never set
 * SSL_SENT_SHUTDOWN loses its session from the cache (ssl_clear_bad_session),
 * so sent_shutdown needs no action here. */
static void ossl_session_free(shim_session *s, bool sent_shutdown)
{
    (void)sent_shutdown;
    SSL_free(s->ssl);
    BIO_free(s->outer);
    free(s);
}

/* ---- memory mode ---------------------------------------------------- */

static size_t ossl_mem_take_output(shim_session *s, uint8_t *buf, size_t cap)
{
    int n = BIO_read(s->outer, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    return n > 0 ? (size_t)n : 0;
}

static int ossl_mem_give_input(shim_session *s, const uint8_t *buf, size_t len)
{
    if (BIO_ctrl_get_write_guarantee(s->outer) < len)
        return tc_err_set(TC_ERR_SYS, "memory BIO full: %zu bytes given before OpenSSL asked", len);
    if (BIO_write(s->outer, buf, (int)len) != (int)len)
        return tc_err_set(TC_ERR_SYS, "BIO_write to the memory BIO failed");
    return TC_OK;
}

static void ossl_mem_give_eof(shim_session *s)
{
    (void)BIO_shutdown_wr(s->outer); /* a macro casting BIO_ctrl's result up to 1.1.1 */
}

static size_t ossl_mem_input_pending(shim_session *s)
{
    return BIO_ctrl_pending(SSL_get_rbio(s->ssl));
}

/* ---- one call each ---------------------------------------------------- */

/* Runs one call with a clean error queue and errno, and captures it. */
#define ONE_CALL(s, kind, c, expr)                         \
    do {                                                   \
        ERR_clear_error();                                 \
        errno = 0;                                         \
        int ret_ = (expr);                                 \
        int errno_ = errno;                                \
        ossl_capture((s)->ssl, ret_, errno_, (kind), (c)); \
    } while (0)

static int ossl_handshake(shim_session *s, shim_call *c)
{
    ONE_CALL(s, OSSL_CALL_HANDSHAKE, c, SSL_do_handshake(s->ssl));
    return TC_OK;
}

static int ossl_read(shim_session *s, uint8_t *buf, size_t cap, shim_call *c)
{
    ONE_CALL(s, OSSL_CALL_READ, c, SSL_read(s->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap));
    return TC_OK;
}

static int ossl_write(shim_session *s, const uint8_t *buf, size_t len, shim_call *c)
{
    ONE_CALL(s, OSSL_CALL_WRITE, c, SSL_write(s->ssl, buf, len > INT_MAX ? INT_MAX : (int)len));
    return TC_OK;
}

static int ossl_shutdown(shim_session *s, shim_call *c)
{
    ONE_CALL(s, OSSL_CALL_SHUTDOWN, c, SSL_shutdown(s->ssl));
    return TC_OK;
}

static int ossl_shutdown_quiet(shim_session *s, shim_call *c)
{
    SSL_set_quiet_shutdown(s->ssl, 1);
    return ossl_shutdown(s, c);
}

static int ossl_error_after(shim_session *s, long prev_ret, shim_call *c)
{
    int err = SSL_get_error(s->ssl, (int)prev_ret);
    char buf[32];
    c->ret = err;
    snprintf(c->error, sizeof c->error, "%s", ossl_error_name(err, buf, sizeof buf));
    ossl_error_outcome(err, c->outcome, sizeof c->outcome);
    return TC_OK;
}

#ifdef OPENSSL_IS_BORINGSSL
/* BoringSSL has no SSL_get_key_update_type and its SSL_do_handshake does not
 * send a queued KeyUpdate: a zero-length SSL_write does (bssl_glue_flush). A
 * repeat after a want only flushes again, the KeyUpdate being queued once. */
static int ossl_keyupdate(shim_session *s, bool request_peer, shim_call *c)
{
    if (!s->update_queued) {
        int type = request_peer ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED;
        ONE_CALL(s, OSSL_CALL_OTHER, c, SSL_key_update(s->ssl, type));
        if (c->ret != 1)
            return TC_OK;
        *c = (shim_call){0};
    }
    ONE_CALL(s, OSSL_CALL_OTHER, c, bssl_glue_flush(s->ssl));
    s->update_queued = c->want != SHIM_WANT_NONE;
    return TC_OK;
}
#else
/* SSL_key_update only schedules the message; SSL_do_handshake sends it at
 * once, so the KeyUpdate is on the wire when the step ends (a close_notify
 * that follows goes out under the new key). A repeat after a want finds the
 * update still pending and only drives SSL_do_handshake. */
static int ossl_keyupdate(shim_session *s, bool request_peer, shim_call *c)
{
    if (SSL_get_key_update_type(s->ssl) == SSL_KEY_UPDATE_NONE) {
        int type = request_peer ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED;
        ONE_CALL(s, OSSL_CALL_OTHER, c, SSL_key_update(s->ssl, type));
        if (c->ret != 1)
            return TC_OK;
        *c = (shim_call){0};
    }
    return ossl_handshake(s, c);
}
#endif

/* ---- options and reuse ------------------------------------------------ */

/* The options this build has: SSL_OP_IGNORE_UNEXPECTED_EOF is OpenSSL 3's,
 * post-handshake authentication OpenSSL's since 1.1.1 (BoringSSL has
 * neither); quiet shutdown everyone's. */
#define OPT_BIT(o) (1u << (o))
#if defined(SSL_OP_IGNORE_UNEXPECTED_EOF)
#define HAS_IGNORE_EOF OPT_BIT(SHIM_OPT_IGNORE_UNEXPECTED_EOF)
#else
#define HAS_IGNORE_EOF 0u
#endif
#if defined(OPENSSL_IS_BORINGSSL)
#define HAS_PHA 0u
#else
#define HAS_PHA OPT_BIT(SHIM_OPT_POST_HANDSHAKE_AUTH)
#endif
#define OSSL_OPTIONS (HAS_IGNORE_EOF | HAS_PHA | OPT_BIT(SHIM_OPT_QUIET_SHUTDOWN))

/* One setter per option and scope; each is a call that cannot fail
 * (SSL_CTX_set_options returns the new option bits, the others nothing). */
static void apply_option(SSL_CTX *ctx, SSL *ssl, shim_option option)
{
    switch (option) {
#if defined(SSL_OP_IGNORE_UNEXPECTED_EOF)
    case SHIM_OPT_IGNORE_UNEXPECTED_EOF:
        if (ssl)
            SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
        else
            SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        break;
#endif
#if !defined(OPENSSL_IS_BORINGSSL)
    case SHIM_OPT_POST_HANDSHAKE_AUTH:
        if (ssl)
            SSL_set_post_handshake_auth(ssl, 1);
        else
            SSL_CTX_set_post_handshake_auth(ctx, 1);
        break;
#endif
    case SHIM_OPT_QUIET_SHUTDOWN:
        if (ssl)
            SSL_set_quiet_shutdown(ssl, 1);
        else
            SSL_CTX_set_quiet_shutdown(ctx, 1);
        break;
    default:
        break;
    }
}

static int ossl_set_option(void *ctx, shim_session *s, shim_option option, bool context_scope,
                           shim_call *c)
{
    ossl_ctx *x = ctx;
    apply_option(x->ctx, context_scope ? NULL : s->ssl, option);
    c->ret = 1;
    snprintf(c->outcome, sizeof c->outcome, "ok");
    return TC_OK;
}

/* SSL_clear(3): the object is reset for another connection; it keeps the
 * session when the connection was shut down (SSL_SENT_SHUTDOWN) and
 * removes it from the cache otherwise (ssl_clear_bad_session). */
static int ossl_clear(shim_session *s, shim_call *c)
{
    ONE_CALL(s, OSSL_CALL_OTHER, c, SSL_clear(s->ssl));
    return TC_OK;
}

/* The cleared object on the next connection: a new fd, or a new BIO pair
 * (SSL_set_bio frees the old one; our end of it goes too). */
static int ossl_session_attach(shim_session *s, int fd)
{
    BIO_free(s->outer);
    s->outer = NULL;
    if (fd >= 0)
        return SSL_set_fd(s->ssl, fd) == 1 ? TC_OK : tc_err_set(TC_ERR_SYS, "SSL_set_fd failed");
    return attach_memory(s);
}

static void ossl_flags(shim_session *s, shim_flags *f)
{
    int flags = SSL_get_shutdown(s->ssl);
    f->known = true;
    f->sent = (flags & SSL_SENT_SHUTDOWN) != 0;
    f->received = (flags & SSL_RECEIVED_SHUTDOWN) != 0;
}

static int ossl_session_resumable(shim_session *s, bool *resumable)
{
#ifdef OPENSSL_IS_BORINGSSL
    SSL_SESSION *sess = bssl_glue_session(s->ssl);
#else
    SSL_SESSION *sess = SSL_get_session(s->ssl);
#endif
    *resumable = sess && SSL_SESSION_is_resumable(sess);
    return TC_OK;
}

static int ossl_session_reused(shim_session *s, bool *reused)
{
    *reused = SSL_session_reused(s->ssl) == 1;
    return TC_OK;
}

/* Client: the session to offer next (for TLS 1.3 the one the last ticket
 * brought, if any ticket was read). Server: its SSL_CTX already holds the
 * cache and ticket keys; only --session-out needs the session. */
static int ossl_session_save(shim_session *s)
{
    if (s->x->cfg.server && !s->x->cfg.session_out)
        return TC_OK;
#ifdef OPENSSL_IS_BORINGSSL
    return ossl_ctx_save_session(s->x, bssl_glue_get1_session(s->ssl));
#else
    return ossl_ctx_save_session(s->x, SSL_get1_session(s->ssl));
#endif
}

static const shim_driver ossl_driver = {
#ifdef OPENSSL_IS_BORINGSSL
    .name = "boringssl", /* the same driver built against BoringSSL */
#else
    .name = "openssl",
#endif
    .api = "openssl",
    .library_version = ossl_library_version,
    .preinit = ossl_preinit,
    .preload = ossl_preload,
    .init = ossl_init,
    .deinit = ossl_deinit,
    .session_new = ossl_session_new,
    .session_free = ossl_session_free,
    .mem_take_output = ossl_mem_take_output,
    .mem_give_input = ossl_mem_give_input,
    .mem_give_eof = ossl_mem_give_eof,
    .handshake = ossl_handshake,
    .read = ossl_read,
    .write = ossl_write,
    .shutdown = ossl_shutdown,
    .shutdown_quiet = ossl_shutdown_quiet,
    .shutdown_full = NULL,
    .error_after = ossl_error_after,
    .keyupdate = ossl_keyupdate,
    .flags = ossl_flags,
    .session_resumable = ossl_session_resumable,
    .session_reused = ossl_session_reused,
    .session_save = ossl_session_save,
    .mem_input_pending = ossl_mem_input_pending,
    .set_option = ossl_set_option,
    .options_connection = OSSL_OPTIONS,
    .options_context = OSSL_OPTIONS,
    .clear = ossl_clear,
    .session_attach = ossl_session_attach,
};

int main(int argc, char **argv)
{
    return shim_main(&ossl_driver, argc, argv);
}
