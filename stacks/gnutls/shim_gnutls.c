/* tlsclose-shim-gnutls: the GnuTLS driver for the shared shim runner
 * (stacks/shimlib/shim_driver.h). Each callback makes exactly one GnuTLS
 * call and reports what it returned; the runner loops, polls and moves
 * bytes. The mapping of calls and codes is documented in
 * docs/shim-protocol.md, section "GnuTLS". */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnutls_cache.h"
#include "gnutls_memio.h"
#include "gnutls_outcome.h"
#include "mem_queue.h"
#include "shim_driver.h"
#include "tc_err.h"

typedef struct {
    shim_config cfg;
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    gnutls_datum_t ticket_key; /* server: session tickets, both versions */
    gt_cache cache;            /* server: TLS 1.2 session IDs */
    gnutls_datum_t saved;      /* client: the session a `resume` offers */
} gt_ctx;

struct shim_session {
    gt_ctx *ctx;
    gnutls_session_t tls;
    gt_memio memio;
    /* What GnuTLS returned earlier on this connection. These choose the
     * next call (gnutls_bye's mode) and normalize outcomes; they are not
     * reported as the library's shutdown flags, which GnuTLS does not
     * expose. */
    bool bye_wr_done;  /* a gnutls_bye returned 0: our close_notify is out */
    bool peer_closed;  /* gnutls_record_recv returned 0: peer's close_notify */
};

/* ---- priorities ---------------------------------------------------- */

typedef struct {
    const char *names[3]; /* IANA, OpenSSL and GnuTLS spellings */
    const char *prio;     /* appended to the version restriction */
} gt_suite;

static const gt_suite gt_suites[] = {
    {{"TLS_AES_128_GCM_SHA256", NULL, NULL}, ":-CIPHER-ALL:+AES-128-GCM"},
    {{"TLS_AES_256_GCM_SHA384", NULL, NULL}, ":-CIPHER-ALL:+AES-256-GCM"},
    {{"TLS_CHACHA20_POLY1305_SHA256", NULL, NULL}, ":-CIPHER-ALL:+CHACHA20-POLY1305"},
    {{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
      "TLS_ECDHE_ECDSA_AES_128_GCM_SHA256"},
     ":-CIPHER-ALL:+AES-128-GCM:-KX-ALL:+ECDHE-ECDSA"},
    {{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
      "TLS_ECDHE_ECDSA_AES_256_GCM_SHA384"},
     ":-CIPHER-ALL:+AES-256-GCM:-KX-ALL:+ECDHE-ECDSA"},
    {{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
      "TLS_ECDHE_ECDSA_CHACHA20_POLY1305"},
     ":-CIPHER-ALL:+CHACHA20-POLY1305:-KX-ALL:+ECDHE-ECDSA"},
};

static const char *gt_suite_prio(const char *name)
{
    for (size_t i = 0; i < sizeof gt_suites / sizeof gt_suites[0]; i++)
        for (size_t j = 0; j < 3; j++)
            if (gt_suites[i].names[j] && strcmp(gt_suites[i].names[j], name) == 0)
                return gt_suites[i].prio;
    return NULL;
}

static int gt_priority_init(gt_ctx *x)
{
    const char *suite = "";
    if (x->cfg.cipher) {
        suite = gt_suite_prio(x->cfg.cipher);
        if (!suite)
            return tc_err_set(TC_ERR_UNSUPPORTED, "cipher %s: not known to this shim",
                              x->cfg.cipher);
    }
    char prio[256];
    snprintf(prio, sizeof prio, "NORMAL:-VERS-ALL:+VERS-TLS1.%d%s", x->cfg.tls_minor, suite);
    const char *err_pos = NULL;
    int r = gnutls_priority_init(&x->prio, prio, &err_pos);
    if (r < 0)
        return tc_err_set(TC_ERR_LIBRARY, "priority \"%s\" rejected at \"%s\": %s", prio,
                          err_pos ? err_pos : "?", gnutls_strerror(r));
    return TC_OK;
}

/* ---- session files (--session-in / --session-out) ------------------ */

static int gt_load_session_file(const char *path, gnutls_datum_t *out)
{
    int r = gnutls_load_file(path, out);
    if (r < 0)
        return tc_err_set(TC_ERR_SYS, "--session-in %s: %s", path, gnutls_strerror(r));
    return TC_OK;
}

static int gt_write_session_file(const char *path, const gnutls_datum_t *d)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return tc_err_set(TC_ERR_SYS, "--session-out %s: %s", path, strerror(errno));
    size_t n = fwrite(d->data, 1, d->size, f);
    if (fclose(f) != 0 || n != d->size)
        return tc_err_set(TC_ERR_SYS, "--session-out %s: write failed", path);
    return TC_OK;
}

/* ---- process-wide setup -------------------------------------------- */

static const char *gt_library_version(void)
{
    static char version[64];
    snprintf(version, sizeof version, "GnuTLS %s", gnutls_check_version(NULL));
    return version;
}

static int gt_credentials_init(gt_ctx *x)
{
    int r = gnutls_certificate_allocate_credentials(&x->cred);
    if (r < 0)
        return tc_err_set(TC_ERR_LIBRARY, "credentials: %s", gnutls_strerror(r));
    if (!x->cfg.server)
        return TC_OK; /* a client never verifies: closure is under test, not PKI */
    r = gnutls_certificate_set_x509_key_file(x->cred, x->cfg.cert, x->cfg.key,
                                             GNUTLS_X509_FMT_PEM);
    if (r < 0)
        return tc_err_set(TC_ERR_LIBRARY, "cannot load %s / %s: %s", x->cfg.cert,
                          x->cfg.key, gnutls_strerror(r));
    return TC_OK;
}

static void gt_deinit(void *ctx)
{
    gt_ctx *x = ctx;
    if (!x)
        return;
    if (x->prio)
        gnutls_priority_deinit(x->prio);
    if (x->cred)
        gnutls_certificate_free_credentials(x->cred);
    if (x->ticket_key.data)
        gnutls_memset(x->ticket_key.data, 0, x->ticket_key.size);
    gnutls_free(x->ticket_key.data);
    gnutls_free(x->saved.data);
    gt_cache_free(&x->cache);
    free(x);
}

static int gt_init_parts(gt_ctx *x)
{
    int r = gt_credentials_init(x);
    if (r == TC_OK)
        r = gt_priority_init(x);
    if (r == TC_OK && x->cfg.server) {
        int g = gnutls_session_ticket_key_generate(&x->ticket_key);
        if (g < 0)
            r = tc_err_set(TC_ERR_LIBRARY, "ticket key: %s", gnutls_strerror(g));
    }
    if (r == TC_OK && !x->cfg.server && x->cfg.session_in)
        r = gt_load_session_file(x->cfg.session_in, &x->saved);
    return r;
}

static int gt_init(const shim_config *cfg, void **ctx)
{
    gt_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    x->cfg = *cfg;
    int r = gt_init_parts(x);
    if (r != TC_OK) {
        gt_deinit(x);
        return r;
    }
    *ctx = x;
    return TC_OK;
}

/* ---- connections ---------------------------------------------------- */

/* A client offers the saved session; a failure to take it is the library's
 * answer (the connection will simply not resume), so it is only noted. */
static void gt_offer_saved(shim_session *s)
{
    const gnutls_datum_t *d = &s->ctx->saved;
    if (!d->data)
        return;
    int r = gnutls_session_set_data(s->tls, d->data, d->size);
    if (r < 0)
        fprintf(stderr, "gnutls_session_set_data: %s\n", gnutls_strerror(r));
}

static int gt_session_setup(shim_session *s, int fd, int conn_index)
{
    gt_ctx *x = s->ctx;
    int r = gnutls_priority_set(s->tls, x->prio);
    if (r == 0)
        r = gnutls_credentials_set(s->tls, GNUTLS_CRD_CERTIFICATE, x->cred);
    if (r == 0 && x->cfg.server)
        r = gnutls_session_ticket_enable_server(s->tls, &x->ticket_key);
    if (r < 0)
        return tc_err_set(TC_ERR_LIBRARY, "session setup: %s", gnutls_strerror(r));
    /* The runner owns every deadline; GnuTLS's own 40 s handshake timer
     * would only make blocking mode wait in poll() past the step's. */
    gnutls_handshake_set_timeout(s->tls, 0);
    if (x->cfg.server)
        gt_cache_attach(&x->cache, s->tls);
    else if (conn_index > 0 || x->cfg.session_in)
        gt_offer_saved(s);
    if (x->cfg.io == SHIM_IO_MEMORY)
        gt_memio_attach(&s->memio, s->tls);
    else
        gnutls_transport_set_int(s->tls, fd);
    return TC_OK;
}

static void gt_session_free(shim_session *s, bool sent_shutdown)
{
    /* GnuTLS keeps a session in the application's cache whether or not it
     * was shut down, so there is nothing to do differently here. */
    (void)sent_shutdown;
    if (!s)
        return;
    if (s->tls)
        gnutls_deinit(s->tls);
    gt_memio_free(&s->memio);
    free(s);
}

static int gt_session_new(void *ctx, int fd, int conn_index, shim_session **out)
{
    gt_ctx *x = ctx;
    shim_session *s = calloc(1, sizeof *s);
    if (!s)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    s->ctx = x;
    unsigned flags = x->cfg.server ? GNUTLS_SERVER : GNUTLS_CLIENT;
    if (x->cfg.io != SHIM_IO_BLOCKING)
        flags |= GNUTLS_NONBLOCK;
    int r = gnutls_init(&s->tls, flags);
    if (r < 0) {
        gt_session_free(s, false);
        return tc_err_set(TC_ERR_LIBRARY, "gnutls_init: %s", gnutls_strerror(r));
    }
    r = gt_session_setup(s, fd, conn_index);
    if (r != TC_OK) {
        gt_session_free(s, false);
        return r;
    }
    *out = s;
    return TC_OK;
}

/* ---- memory mode ---------------------------------------------------- */

static size_t gt_mem_take_output(shim_session *s, uint8_t *buf, size_t cap)
{
    return mem_queue_take(&s->memio.out, buf, cap);
}

static int gt_mem_give_input(shim_session *s, const uint8_t *buf, size_t len)
{
    return mem_queue_append(&s->memio.in, buf, len);
}

static void gt_mem_give_eof(shim_session *s)
{
    mem_queue_set_eof(&s->memio.in);
}

static size_t gt_mem_input_pending(shim_session *s)
{
    return mem_queue_pending(&s->memio.in);
}

/* ---- library calls ---------------------------------------------------- */

/* errno is cleared before each call so that, afterwards, a value in it was
 * set by a system call inside that call (gt_describe_error relies on it). */

static void gt_ok(shim_call *c, long ret, const char *outcome)
{
    c->ret = ret;
    snprintf(c->outcome, sizeof c->outcome, "%s", outcome);
}

static int gt_handshake(shim_session *s, shim_call *c)
{
    errno = 0;
    int r = gnutls_handshake(s->tls);
    int e = errno;
    if (r == 0)
        gt_ok(c, r, "ok");
    else
        gt_describe_error(s->tls, GT_CALL_HANDSHAKE, r, e, s->bye_wr_done, c);
    return TC_OK;
}

static int gt_read(shim_session *s, uint8_t *buf, size_t cap, shim_call *c)
{
    errno = 0;
    ssize_t r = gnutls_record_recv(s->tls, buf, cap);
    int e = errno;
    if (r > 0) {
        c->ret = r;
        c->bytes = (size_t)r;
        snprintf(c->outcome, sizeof c->outcome, "data:%zd", r);
    } else if (r == 0) {
        s->peer_closed = true;
        gt_ok(c, 0, "closed");
    } else {
        gt_describe_error(s->tls, GT_CALL_READ, (int)r, e, s->bye_wr_done, c);
    }
    return TC_OK;
}

static int gt_write(shim_session *s, const uint8_t *buf, size_t len, shim_call *c)
{
    errno = 0;
    ssize_t r = gnutls_record_send(s->tls, buf, len);
    int e = errno;
    if (r >= 0) {
        c->ret = r;
        c->bytes = (size_t)r;
        snprintf(c->outcome, sizeof c->outcome, "ok:%zd", r);
    } else {
        gt_describe_error(s->tls, GT_CALL_WRITE, (int)r, e, s->bye_wr_done, c);
    }
    return TC_OK;
}

/* One gnutls_bye. On success our close_notify is out; the shutdown is
 * complete when GnuTLS also waited for the peer's (SHUT_RDWR) or a read
 * already returned the peer's close_notify. */
static int gt_bye(shim_session *s, gnutls_close_request_t how, shim_call *c)
{
    errno = 0;
    int r = gnutls_bye(s->tls, how);
    int e = errno;
    if (r < 0) {
        gt_describe_error(s->tls, GT_CALL_BYE, r, e, s->bye_wr_done, c);
        return TC_OK;
    }
    s->bye_wr_done = true;
    gt_ok(c, r, (how == GNUTLS_SHUT_RDWR || s->peer_closed) ? "complete" : "sent");
    return TC_OK;
}

/* SSL_shutdown's two steps: the first call sends (SHUT_WR, repeated while
 * it reports a want), a later one waits for the peer (SHUT_RDWR). */
static int gt_shutdown(shim_session *s, shim_call *c)
{
    return gt_bye(s, s->bye_wr_done ? GNUTLS_SHUT_RDWR : GNUTLS_SHUT_WR, c);
}

static int gt_shutdown_full(shim_session *s, shim_call *c)
{
    return gt_bye(s, GNUTLS_SHUT_RDWR, c);
}

static int gt_keyupdate(shim_session *s, bool request_peer, shim_call *c)
{
    errno = 0;
    int r = gnutls_session_key_update(s->tls, request_peer ? GNUTLS_KU_PEER : 0);
    int e = errno;
    if (r == 0)
        gt_ok(c, r, "ok");
    else
        gt_describe_error(s->tls, GT_CALL_KEYUPDATE, r, e, s->bye_wr_done, c);
    return TC_OK;
}

static void gt_flags(shim_session *s, shim_flags *f)
{
    /* GnuTLS has no SSL_get_shutdown: it never tells the application which
     * closure alerts were sent or received, only what each call returned. */
    (void)s;
    f->known = false;
    f->sent = false;
    f->received = false;
}

/* ---- resumption ------------------------------------------------------- */

static bool gt_is_tls13(shim_session *s)
{
    return gnutls_protocol_get_version(s->tls) == GNUTLS_TLS1_3;
}

static int gt_session_resumable(shim_session *s, bool *resumable)
{
    if (gt_is_tls13(s)) {
        /* A TLS 1.3 server keeps no state to ask: its tickets are
         * stateless. A client can resume once a ticket arrived. */
        if (s->ctx->cfg.server)
            return tc_err_set(TC_ERR_UNSUPPORTED,
                              "GnuTLS cannot tell whether a TLS 1.3 server session is resumable");
        *resumable = (gnutls_session_get_flags(s->tls) & GNUTLS_SFLAGS_SESSION_TICKET) != 0;
        return TC_OK;
    }
    /* TLS 1.2: gnutls_session_get_data2 refuses (GNUTLS_E_INVALID_SESSION)
     * exactly when the library marked the session not resumable. */
    gnutls_datum_t d = {NULL, 0};
    int r = gnutls_session_get_data2(s->tls, &d);
    gnutls_free(d.data);
    *resumable = r == 0;
    return TC_OK;
}

static int gt_session_reused(shim_session *s, bool *reused)
{
    *reused = gnutls_session_is_resumed(s->tls) != 0;
    return TC_OK;
}

static int gt_session_save(shim_session *s)
{
    gt_ctx *x = s->ctx;
    if (x->cfg.server)
        return TC_OK; /* the cache and the ticket key already hold it */
    gnutls_datum_t d = {NULL, 0};
    int r = gnutls_session_get_data2(s->tls, &d);
    if (r < 0) {
        /* The library's answer, not a shim failure: nothing to offer. */
        fprintf(stderr, "gnutls_session_get_data2: %s\n", gnutls_strerror(r));
        return TC_OK;
    }
    gnutls_free(x->saved.data);
    x->saved = d;
    return x->cfg.session_out ? gt_write_session_file(x->cfg.session_out, &d) : TC_OK;
}

static const shim_driver gt_driver = {
    .name = "gnutls",
    .api = "native",
    .library_version = gt_library_version,
    .init = gt_init,
    .deinit = gt_deinit,
    .session_new = gt_session_new,
    .session_free = gt_session_free,
    .mem_take_output = gt_mem_take_output,
    .mem_give_input = gt_mem_give_input,
    .mem_give_eof = gt_mem_give_eof,
    .handshake = gt_handshake,
    .read = gt_read,
    .write = gt_write,
    .shutdown = gt_shutdown,
    .shutdown_quiet = NULL, /* GnuTLS has no quiet shutdown */
    .shutdown_full = gt_shutdown_full,
    .error_after = NULL,    /* nor an error query on a previous return value */
    .keyupdate = gt_keyupdate,
    .flags = gt_flags,
    .session_resumable = gt_session_resumable,
    .session_reused = gt_session_reused,
    .session_save = gt_session_save,
    .mem_input_pending = gt_mem_input_pending,
};

int main(int argc, char **argv)
{
    return shim_main(&gt_driver, argc, argv);
}
