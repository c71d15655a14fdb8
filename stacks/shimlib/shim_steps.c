#include "shim_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim_tls_steps.h"
#include "tc_err.h"
#include "transport.h"

/* The next connection, with a new TLS object or (adopt) one `clear` reset,
 * which is the new connection's from here on whatever happens. */
static int open_conn(shim_run *r, int64_t deadline, shim_session *adopt)
{
    int fd = -1;
    int rc = r->nconns == TC_MAX_CONNECTIONS
                 ? tc_err_set(TC_ERR_USAGE, "at most %d connections", TC_MAX_CONNECTIONS)
                 : tc_transport_next(&r->args->transport, deadline, &fd);
    shim_conn *c = rc == TC_OK ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        if (adopt)
            r->drv->session_free(adopt, false);
        if (fd >= 0)
            close(fd);
        return rc < 0 ? rc : tc_err_set(TC_ERR_SYS, "out of memory");
    }
    r->conns[r->nconns] = c;
    r->write_len = 0; /* a write left unfinished belongs to the previous connection */
    rc = adopt ? shim_conn_adopt(c, r->drv, r->ctx, r->args->cfg.io, fd, adopt)
               : shim_conn_open(c, r->drv, r->ctx, r->args->cfg.io, fd, r->nconns);
    r->nconns++;
    r->cur = c;
    return rc;
}

int shim_run_open_conn(shim_run *r, int64_t deadline)
{
    return open_conn(r, deadline, NULL);
}

/* ---- ops that only ask the library ------------------------------------- */

static int step_get_shutdown(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    (void)st;
    (void)dl;
    shim_flags f = {0};
    r->drv->flags(r->cur->tls, &f);
    if (!f.known) {
        /* Not a skip: the rest of the script still tells something. */
        step_report_outcome(rep, "unknown");
        return TC_OK;
    }
    static const char *const names[] = {"none", "sent", "received", "sent+received"};
    step_report_outcome(rep, names[(f.sent ? 1 : 0) + (f.received ? 2 : 0)]);
    return TC_OK;
}

static int step_get_error_after(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    (void)st;
    (void)dl;
    shim_call call = {0};
    int rc = r->drv->error_after(r->cur->tls, r->last_ret, &call);
    if (rc < 0)
        return rc;
    rep->has_native = true;
    rep->native = call;
    shim_outcome_from_call(rep, &call);
    return TC_OK;
}

static int step_session_resumable(shim_run *r, const shim_step *st, int64_t dl,
                                  step_report *rep)
{
    (void)st;
    (void)dl;
    bool yes = false;
    int rc = r->drv->session_resumable(r->cur->tls, &yes);
    if (rc < 0)
        return rc;
    rep->resumable = yes;
    step_report_outcome(rep, yes ? "resumable" : "not_resumable");
    return TC_OK;
}

/* set_option: one library call on the connection or on the context; the
 * runner checked before any IO that the driver can do it. */
static int step_set_option(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    (void)dl;
    shim_call call = {0};
    shim_session *s = st->context_scope ? NULL : r->cur->tls;
    int rc = r->drv->set_option(r->ctx, s, st->option, st->context_scope, &call);
    if (rc < 0)
        return rc;
    rep->calls = 1;
    rep->has_native = true;
    rep->native = call;
    step_report_outcome(rep, call.outcome[0] ? call.outcome : "ok");
    return TC_OK;
}

/* ---- ops on the connection ---------------------------------------------- */

static int save_session(shim_run *r, shim_conn *c)
{
    if (!c->tls || c->saved || !r->drv->session_save)
        return TC_OK;
    c->saved = true;
    return r->drv->session_save(c->tls);
}

static int step_free(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    (void)st;
    (void)dl;
    /* A later resume offers this connection's session: take it before the
     * object goes, as an application would. */
    int rc = save_session(r, r->cur);
    if (rc < 0)
        return rc;
    r->drv->session_free(r->cur->tls, false);
    r->cur->tls = NULL;
    step_report_outcome(rep, "ok");
    return TC_OK;
}

/* clear: the TLS object stays with the connection, reset for the next one,
 * which the next `resume` opens with it (step_resume). */
static int step_clear(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    (void)st;
    (void)dl;
    shim_call call = {0};
    int rc = r->drv->clear(r->cur->tls, &call);
    if (rc < 0)
        return rc;
    r->cur->cleared = true;
    rep->calls = 1;
    rep->has_native = true;
    rep->native = call;
    step_report_outcome(rep, call.outcome[0] ? call.outcome : "ok");
    return TC_OK;
}

static int transport_outcome(int rc, size_t drained, step_report *rep)
{
    rep->drained = (long)drained;
    if (rc == TC_ERR_TIMEOUT) {
        step_report_outcome(rep, "error:timeout");
        return rc;
    }
    step_report_outcome(rep, rc == TC_ERR_RESET ? "error:reset" : "ok");
    return rc == TC_ERR_RESET ? TC_OK : rc;
}

static int step_close_transport(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    (void)st;
    size_t drained = 0;
    int rc = shim_io_close_transport(r->cur, dl, &drained);
    return transport_outcome(rc, drained, rep);
}

/* The first connection's TLS object stays alive (a session cache may care
 * whether it was freed); only its socket is closed, so that the peer, which
 * finishes that connection before it answers on the next, sees EOF. After
 * `clear` the object itself moves on to the next connection. */
static int step_resume(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    bool reuse = r->cur->cleared;
    int rc = reuse ? TC_OK : save_session(r, r->cur);
    if (rc < 0)
        return rc;
    size_t drained = 0;
    rc = transport_outcome(shim_io_close_transport(r->cur, dl, &drained), drained, rep);
    if (rc < 0)
        return rc;
    rep->outcome[0] = '\0';
    shim_session *adopt = NULL;
    if (reuse) {
        adopt = r->cur->tls; /* moves to the next connection */
        r->cur->tls = NULL;
    }
    rc = open_conn(r, dl, adopt);
    if (rc < 0)
        return rc;
    rc = shim_step_handshake(r, st, dl, rep);
    if (rc < 0 || strcmp(rep->outcome, "ok") != 0)
        return rc;
    bool reused = false;
    rc = r->drv->session_reused(r->cur->tls, &reused);
    rep->reused = reused;
    step_report_outcome(rep, reused ? "reused" : "not_reused");
    return rc;
}

/* ---- markers and bare-socket IO ------------------------------------------- */

static int step_signal_peer(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    (void)dl;
    int rc = tc_marker_send(&r->markers, st->marker);
    step_report_outcome(rep, "ok");
    return rc;
}

static int step_wait_peer(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    char got[TC_MARKER_MAX];
    int rc = tc_marker_wait(&r->markers, st->marker, dl, got);
    step_report_outcome(rep, rc == TC_ERR_TIMEOUT ? "error:timeout" : "ok");
    return rc;
}

static int step_plaintext_write(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    size_t len = strlen(st->text);
    int rc = shim_io_plain_write(r->cur, (const uint8_t *)st->text, len, dl);
    if (rc == TC_OK) {
        rep->bytes = len;
        step_report_count(rep, "ok:", len);
    } else {
        step_report_outcome(rep, rc == TC_ERR_RESET ? "error:reset"
                               : rc == TC_ERR_TIMEOUT ? "error:timeout" : "error:other");
    }
    return rc == TC_ERR_TIMEOUT ? rc : TC_OK;
}

static int step_plaintext_read(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    size_t len = strlen(st->text), got = 0;
    int rc = shim_io_plain_read(r->cur, r->rbuf, len, &got, dl);
    rep->bytes = got;
    rep->got = (const char *)r->rbuf;
    rep->got_len = got;
    const char *outcome = "error:other";
    if (rc == TC_OK)
        outcome = memcmp(r->rbuf, st->text, len) == 0 ? "match" : "mismatch";
    else if (rc == TC_ERR_EOF)
        outcome = "eof";
    else if (rc == TC_ERR_RESET)
        outcome = "error:reset";
    else if (rc == TC_ERR_TIMEOUT)
        outcome = "error:timeout";
    step_report_outcome(rep, outcome);
    return rc == TC_ERR_TIMEOUT ? rc : TC_OK;
}

/* ---- dispatch --------------------------------------------------------------- */

typedef int (*step_fn)(shim_run *r, const shim_step *st, int64_t deadline, step_report *rep);

static const step_fn step_fns[OP_COUNT] = {
    [OP_HANDSHAKE] = shim_step_handshake,
    [OP_WRITE] = shim_step_write,
    [OP_READ] = shim_step_read,
    [OP_SHUTDOWN] = shim_step_shutdown,
    [OP_SHUTDOWN_QUIET] = shim_step_shutdown,
    [OP_SHUTDOWN_FULL] = shim_step_shutdown,
    [OP_GET_SHUTDOWN] = step_get_shutdown,
    [OP_GET_ERROR_AFTER] = step_get_error_after,
    [OP_KEYUPDATE] = shim_step_keyupdate,
    [OP_CLOSE_TRANSPORT] = step_close_transport,
    [OP_FREE_WITHOUT_SHUTDOWN] = step_free,
    [OP_SESSION_RESUMABLE] = step_session_resumable,
    [OP_RESUME] = step_resume,
    [OP_SIGNAL_PEER] = step_signal_peer,
    [OP_WAIT_PEER] = step_wait_peer,
    [OP_PLAINTEXT_WRITE] = step_plaintext_write,
    [OP_PLAINTEXT_READ] = step_plaintext_read,
    [OP_SET_OPTION] = step_set_option,
    [OP_CLEAR] = step_clear,
};

static void report_flags(shim_run *r, step_report *rep)
{
    if (!r->cur || !r->cur->tls)
        return;
    r->drv->flags(r->cur->tls, &rep->flags);
    rep->has_flags = rep->flags.known;
}

int shim_step_run(shim_run *r, const shim_step *st, int64_t deadline, step_report *rep)
{
    int rc = step_fns[st->op](r, st, deadline, rep);
    report_flags(r, rep);
    if (r->cur && r->cur->sock_reset)
        rep->transport = "reset";
    return rc;
}
