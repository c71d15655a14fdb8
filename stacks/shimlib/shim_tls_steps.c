#include "shim_tls_steps.h"

#include <stdio.h>
#include <string.h>

#include "tc_err.h"
#include "transport.h"

/* ---- single library calls (shim_lib_fn) ----------------------------- */

typedef struct {
    uint8_t *buf;
    size_t len;
} io_arg;

static int lib_handshake(shim_conn *c, void *arg, shim_call *call)
{
    (void)arg;
    return c->drv->handshake(c->tls, call);
}

static int lib_read(shim_conn *c, void *arg, shim_call *call)
{
    io_arg *a = arg;
    return c->drv->read(c->tls, a->buf, a->len, call);
}

static int lib_write(shim_conn *c, void *arg, shim_call *call)
{
    io_arg *a = arg;
    return c->drv->write(c->tls, a->buf, a->len, call);
}

static int lib_shutdown(shim_conn *c, void *arg, shim_call *call)
{
    (void)arg;
    return c->drv->shutdown(c->tls, call);
}

static int lib_shutdown_quiet(shim_conn *c, void *arg, shim_call *call)
{
    (void)arg;
    return c->drv->shutdown_quiet(c->tls, call);
}

static int lib_shutdown_full(shim_conn *c, void *arg, shim_call *call)
{
    (void)arg;
    return c->drv->shutdown_full(c->tls, call);
}

static int lib_keyupdate(shim_conn *c, void *arg, shim_call *call)
{
    return c->drv->keyupdate(c->tls, *(bool *)arg, call);
}

/* The outcome of a step that called the library, from its last call; a
 * want left over (nowait, or no progress possible) is the outcome. */
void shim_outcome_from_call(step_report *rep, const shim_call *last)
{
    if (last->want == SHIM_WANT_READ)
        step_report_outcome(rep, "want_read");
    else if (last->want == SHIM_WANT_WRITE)
        step_report_outcome(rep, "want_write");
    else if (last->outcome[0])
        step_report_outcome(rep, last->outcome);
    else
        step_report_outcome(rep, "error:other");
}

/* Turns the IO loop's result into the report. A timeout overrides the last
 * call's outcome; a completed step in memory mode is only over once its
 * bytes are on the socket. A reset the runner met (memory mode) does not
 * override anything: the library's result is the outcome, and the line's
 * `transport` field says what the runner saw (shim_steps.c). */
static int finish_lib_step(shim_run *r, const shim_step *st, int64_t deadline, shim_trace *t,
                           int rc, step_report *rep)
{
    rep->wants = t->wants;
    rep->calls = t->calls;
    rep->has_native = t->called;
    rep->native = t->last;
    if (t->called)
        r->last_ret = t->last.ret;
    if (rc == TC_OK && t->last.want == SHIM_WANT_NONE && !st->nowait)
        rc = shim_io_flush(r->cur, deadline);
    if (rc == TC_ERR_TIMEOUT) {
        step_report_outcome(rep, "error:timeout");
        return rc;
    }
    if (rc < 0)
        return rc;
    if (!rep->outcome[0])
        shim_outcome_from_call(rep, &t->last);
    return TC_OK;
}

/* ---- ops that call the library ---------------------------------------- */

static int step_simple_call(shim_run *r, const shim_step *st, int64_t deadline, shim_lib_fn fn,
                            void *arg, step_report *rep)
{
    shim_trace t = {0};
    int rc = shim_io_call(r->cur, fn, arg, deadline, st->nowait, &t);
    return finish_lib_step(r, st, deadline, &t, rc, rep);
}

int shim_step_handshake(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    return step_simple_call(r, st, dl, lib_handshake, NULL, rep);
}

int shim_step_shutdown(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    static const shim_lib_fn fns[] = {
        [OP_SHUTDOWN] = lib_shutdown,
        [OP_SHUTDOWN_QUIET] = lib_shutdown_quiet,
        [OP_SHUTDOWN_FULL] = lib_shutdown_full,
    };
    r->cur->shut_down = true;
    return step_simple_call(r, st, dl, fns[st->op], NULL, rep);
}

int shim_step_keyupdate(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    bool request = st->request_peer;
    return step_simple_call(r, st, dl, lib_keyupdate, &request, rep);
}

/* Data steps report the total of all their calls. */
static int finish_data_step(shim_run *r, const shim_step *st, int64_t dl, shim_trace *t, int rc,
                            const char *prefix, size_t total, step_report *rep)
{
    rep->bytes = total;
    rc = finish_lib_step(r, st, dl, t, rc, rep);
    if (rc == TC_OK && strncmp(rep->outcome, prefix, strlen(prefix)) == 0)
        step_report_count(rep, prefix, total);
    return rc;
}

/* A warning alert other than close_notify is not the end of the stream: a
 * library that hands it to the application (GnuTLS:
 * GNUTLS_E_WARNING_ALERT_RECEIVED, which gnutls_error_is_fatal() calls
 * non-fatal) expects the application to read on, so "until close" does.
 * So does a renegotiation request the library hands over
 * (GNUTLS_E_REHANDSHAKE, also non-fatal): an application that does not
 * renegotiate reads on, as the GnuTLS manual says it may. */
static bool is_nonfatal_notice(const char *outcome)
{
    static const char alert[] = "error:warning_alert:";
    return strncmp(outcome, alert, sizeof alert - 1) == 0 ||
           strcmp(outcome, "error:renegotiation") == 0;
}

static bool read_past_nonfatal(const shim_step *st, const shim_call *last, step_report *rep)
{
    if (!st->until_close || !is_nonfatal_notice(last->outcome))
        return false;
    if (rep->n_read_past == SHIM_MAX_READ_PAST)
        return false; /* a stream of warnings: report it instead of looping on */
    snprintf(rep->read_past[rep->n_read_past++], sizeof rep->read_past[0], "%s", last->outcome);
    return true;
}

int shim_step_read(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    shim_trace t = {0};
    size_t total = 0;
    int rc;
    for (;;) {
        io_arg a = {r->rbuf, SHIM_READ_CHUNK};
        if (st->bytes >= 0 && (size_t)st->bytes - total < a.len)
            a.len = (size_t)st->bytes - total;
        rc = shim_io_call(r->cur, lib_read, &a, dl, st->nowait, &t);
        if (rc == TC_OK && t.last.want == SHIM_WANT_NONE && t.last.bytes == 0 &&
            read_past_nonfatal(st, &t.last, rep))
            continue;
        if (rc < 0 || t.last.want != SHIM_WANT_NONE || t.last.bytes == 0)
            break;
        total += t.last.bytes;
        bool more = st->until_close || (st->bytes >= 0 && total < (size_t)st->bytes);
        if (st->nowait || !more)
            break;
    }
    return finish_data_step(r, st, dl, &t, rc, "data:", total, rep);
}

/* Writes len pattern bytes, repeating after partial writes. Stops at a want
 * when the step must not wait (nowait, until_blocked). *written counts
 * what the library took. A block a want interrupted after some bytes is
 * repeated from where the library stopped, with the very arguments of the
 * call that reported the want: a library that takes part of a buffer
 * (NSS's PR_Send keeps the last byte of a record it could not send yet,
 * ssl3_SendApplicationData) expects the rest, never the block from its
 * start again. r->write_off keeps that place for the next write of the
 * same size, this step's (until_blocked) or a later one's. */
static int write_block(shim_run *r, size_t len, bool nowait, int64_t dl, shim_trace *t,
                       size_t *written)
{
    size_t off = len > 0 && r->write_len == len ? r->write_off : 0;
    r->write_len = 0;
    do {
        io_arg a = {r->pattern + off, len - off};
        int rc = shim_io_call(r->cur, lib_write, &a, dl, nowait, t);
        if (rc == TC_OK && t->last.want != SHIM_WANT_NONE && off > 0) {
            r->write_len = len;
            r->write_off = off;
        }
        if (rc < 0 || t->last.want != SHIM_WANT_NONE || t->last.bytes == 0)
            return rc;
        off += t->last.bytes;
        *written += t->last.bytes;
    } while (off < len);
    return TC_OK;
}

int shim_step_write(shim_run *r, const shim_step *st, int64_t dl, step_report *rep)
{
    shim_trace t = {0};
    size_t total = 0;
    size_t len = (size_t)st->bytes;
    int rc;
    if (!st->until_blocked) {
        rc = write_block(r, len, st->nowait, dl, &t, &total);
        return finish_data_step(r, st, dl, &t, rc, "ok:", total, rep);
    }
    /* A peer that keeps reading never blocks us: the deadline ends it. A
     * want_write counts only once the stall lasts (shim_io_send_stalled),
     * else the next step could find room the kernel freed meanwhile. */
    uint64_t mark = 0;
    for (;;) {
        rc = write_block(r, len, true, dl, &t, &total);
        if (rc == TC_OK && t.last.want == SHIM_WANT_WRITE) {
            bool stalled = true;
            rc = shim_io_send_stalled(r->cur, dl, &mark, &stalled);
            if (rc == TC_OK && !stalled)
                continue;
        }
        if (rc == TC_OK && t.last.want == SHIM_WANT_NONE && tc_ms_left(dl) == 0)
            rc = tc_err_set(TC_ERR_TIMEOUT, "the write never blocked");
        if (rc != TC_OK || t.last.want != SHIM_WANT_NONE || t.last.bytes == 0)
            break;
    }
    return finish_data_step(r, st, dl, &t, rc, "ok:", total, rep);
}
