/* shim_mutant: deliberately broken driver variants (shim_mutant.h). Every
 * wrapper calls the real driver first and then breaks exactly one thing, so
 * the rest of the stack's behaviour stays that of the real library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim_mutant.h"
#include "tc_err.h"

static const shim_driver *orig;   /* the real driver */
static shim_driver mutant;        /* its broken copy */

/* Per process, which is one cell: what the script did so far. */
static struct {
    int shutdowns;        /* shutdown calls that returned without a want */
    bool read_closed;     /* a read reported the peer's close_notify */
    const shim_session *closed;  /* the session the last such shutdown was on */
} seen;

static bool is(const shim_call *c, const char *outcome)
{
    return c->want == SHIM_WANT_NONE && strcmp(c->outcome, outcome) == 0;
}

static bool starts(const shim_call *c, const char *prefix)
{
    return c->want == SHIM_WANT_NONE && strncmp(c->outcome, prefix, strlen(prefix)) == 0;
}

static void say(shim_call *c, const char *outcome, long ret)
{
    snprintf(c->outcome, sizeof c->outcome, "%s", outcome);
    c->want = SHIM_WANT_NONE;
    c->ret = ret;
    c->error[0] = '\0';
    c->queue_len = 0;
    c->sys_errno = 0;
}

/* ---- reads --------------------------------------------------------------- */

static int read_eof_as_close(shim_session *s, uint8_t *b, size_t n, shim_call *c)
{
    int rc = orig->read(s, b, n, c);
    if (rc == TC_OK && is(c, "truncated"))
        say(c, "closed", 0);
    return rc;
}

static int read_close_as_eof(shim_session *s, uint8_t *b, size_t n, shim_call *c)
{
    int rc = orig->read(s, b, n, c);
    if (rc == TC_OK && is(c, "closed"))
        say(c, "truncated", 0);
    return rc;
}

static int read_error_as_close(shim_session *s, uint8_t *b, size_t n, shim_call *c)
{
    int rc = orig->read(s, b, n, c);
    if (rc == TC_OK && (starts(c, "error:alert:") || is(c, "error:decode") ||
                        is(c, "error:protocol") || is(c, "error:reset")))
        say(c, "closed", 0);
    return rc;
}

/* After the peer's close_notify, a read hands out 100 bytes it never got. */
static int read_after_close(shim_session *s, uint8_t *b, size_t n, shim_call *c)
{
    if (seen.read_closed && n >= 100) {
        memset(b, 0, 100);
        say(c, "data:100", 100);
        c->bytes = 100;
        return TC_OK;
    }
    int rc = orig->read(s, b, n, c);
    if (rc == TC_OK && is(c, "closed"))
        seen.read_closed = true;
    return rc;
}

static int read_one_short(shim_session *s, uint8_t *b, size_t n, shim_call *c)
{
    int rc = orig->read(s, b, n, c);
    if (rc == TC_OK && c->want == SHIM_WANT_NONE && c->bytes > 1) {
        c->bytes--;
        c->ret--;
    }
    return rc;
}

/* ---- shutdown ------------------------------------------------------------------ */

static int count_shutdown(int rc, shim_call *c)
{
    if (rc == TC_OK && c->want == SHIM_WANT_NONE)
        seen.shutdowns++;
    return rc;
}

/* The close call switches quiet shutdown on: nothing goes out, and it says
 * what a first close says. */
static int shutdown_sends_nothing(shim_session *s, shim_call *c)
{
    int rc = orig->shutdown_quiet(s, c);
    if (rc == TC_OK && c->want == SHIM_WANT_NONE) {
        bool first = seen.shutdowns++ == 0;
        say(c, first ? "sent" : "complete", first ? 0 : 1);
    }
    return rc;
}

/* A first close that waits for the peer's answer (a second call at once). */
static int shutdown_first_waits(shim_session *s, shim_call *c)
{
    int rc = orig->shutdown(s, c);
    if (rc == TC_OK && is(c, "sent") && seen.shutdowns == 0)
        rc = orig->shutdown(s, c);
    return count_shutdown(rc, c);
}

static int shutdown_second_no_wait(shim_session *s, shim_call *c)
{
    if (seen.shutdowns > 0) {
        say(c, "complete", 1);
        return TC_OK;
    }
    return count_shutdown(orig->shutdown(s, c), c);
}

static int shutdown_complete_at_once(shim_session *s, shim_call *c)
{
    int rc = orig->shutdown(s, c);
    if (rc == TC_OK && is(c, "sent"))
        say(c, "complete", 1);
    return count_shutdown(rc, c);
}

static int shutdown_want_is_error(shim_session *s, shim_call *c)
{
    int rc = orig->shutdown(s, c);
    if (rc == TC_OK && c->want == SHIM_WANT_READ) {
        c->want = SHIM_WANT_NONE;
        say(c, "error:other", -1);
    }
    return count_shutdown(rc, c);
}

/* A close that waits and meets an error or the end of the transport says
 * both close_notify were exchanged. */
static int shutdown_error_is_complete(shim_session *s, shim_call *c)
{
    int rc = orig->shutdown(s, c);
    if (rc == TC_OK && starts(c, "error:"))
        say(c, "complete", 1);
    return count_shutdown(rc, c);
}

static int quiet_is_loud(shim_session *s, shim_call *c)
{
    int rc = orig->shutdown(s, c);
    if (rc == TC_OK && c->want == SHIM_WANT_NONE)
        say(c, "complete", 1);
    return rc;
}

/* Memory mode: what the library wrote after a close call never reaches
 * the socket, as if the application dropped the buffer. */
/* Only the closed connection's output is lost: a later connection of the
 * same script (a resumption) starts with its own handshake intact. A new
 * session forgets the closed one (its memory may be reused). */
static int session_new_fresh(void *ctx, int fd, int conn_index, shim_session **s)
{
    seen.closed = NULL;
    return orig->session_new(ctx, fd, conn_index, s);
}

/* SSL_clear makes the same object the next connection's. */
static int clear_fresh(shim_session *s, shim_call *c)
{
    seen.closed = NULL;
    return orig->clear(s, c);
}

static size_t output_dropped(shim_session *s, uint8_t *b, size_t cap)
{
    size_t n = orig->mem_take_output(s, b, cap);
    return seen.shutdowns > 0 && s == seen.closed ? 0 : n;
}

static int shutdown_counted(shim_session *s, shim_call *c)
{
    int rc = count_shutdown(orig->shutdown(s, c), c);
    if (seen.shutdowns > 0)
        seen.closed = s;
    return rc;
}

/* ---- writes, flags, sessions, key updates ----------------------------------------- */

static int write_after_shutdown(shim_session *s, const uint8_t *b, size_t n, shim_call *c)
{
    if (seen.shutdowns > 0) {
        char text[32];
        snprintf(text, sizeof text, "ok:%zu", n);
        say(c, text, (long)n);
        c->bytes = n;
        return TC_OK;
    }
    return orig->write(s, b, n, c);
}

static void flags_never_received(shim_session *s, shim_flags *f)
{
    orig->flags(s, f);
    f->received = false;
}

static void flags_never_sent(shim_session *s, shim_flags *f)
{
    orig->flags(s, f);
    f->sent = false;
}

static int always_resumable(shim_session *s, bool *resumable)
{
    int rc = orig->session_resumable(s, resumable);
    *resumable = true;
    return rc;
}

static int always_reused(shim_session *s, bool *reused)
{
    int rc = orig->session_reused(s, reused);
    *reused = true;
    return rc;
}

static int keyupdate_not_sent(shim_session *s, bool request_peer, shim_call *c)
{
    (void)s;
    (void)request_peer;
    say(c, "ok", 1);
    return TC_OK;
}

/* ---- the catalogue ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *breaks;                 /* the documented behaviour it breaks */
    const char *tls, *io, *role;        /* where it runs in the self-test */
    void (*install)(shim_driver *d);
} mutant_def;

static void m_eof(shim_driver *d) { d->read = read_eof_as_close; }
static void m_close(shim_driver *d) { d->read = read_close_as_eof; }
static void m_error(shim_driver *d) { d->read = read_error_as_close; }
static void m_after(shim_driver *d) { d->read = read_after_close; }
static void m_short(shim_driver *d) { d->read = read_one_short; }
/* Variants that need a callback the driver lacks leave the driver as it is
 * (the self-test then sees no difference and says so). */
static void m_nothing(shim_driver *d)
{
    if (d->shutdown_quiet)
        d->shutdown = shutdown_sends_nothing;
}
static void m_waits(shim_driver *d) { d->shutdown = shutdown_first_waits; }
static void m_nowait(shim_driver *d) { d->shutdown = shutdown_second_no_wait; }
static void m_atonce(shim_driver *d) { d->shutdown = shutdown_complete_at_once; }
static void m_wanterr(shim_driver *d) { d->shutdown = shutdown_want_is_error; }
static void m_errcomplete(shim_driver *d) { d->shutdown = shutdown_error_is_complete; }
static void m_loud(shim_driver *d)
{
    if (d->shutdown_quiet)
        d->shutdown_quiet = quiet_is_loud;
}
static void m_dropped(shim_driver *d)
{
    d->session_new = session_new_fresh;
    if (d->clear)
        d->clear = clear_fresh;
    d->shutdown = shutdown_counted;
    if (d->mem_take_output)
        d->mem_take_output = output_dropped;
}
static void m_write(shim_driver *d)
{
    d->shutdown = shutdown_counted;
    d->write = write_after_shutdown;
}
static void m_norecv(shim_driver *d) { d->flags = flags_never_received; }
static void m_nosent(shim_driver *d) { d->flags = flags_never_sent; }
static void m_resumable(shim_driver *d)
{
    if (d->session_resumable)
        d->session_resumable = always_resumable;
}
static void m_reused(shim_driver *d)
{
    if (d->session_reused)
        d->session_reused = always_reused;
}
static void m_keyupdate(shim_driver *d)
{
    if (d->keyupdate)
        d->keyupdate = keyupdate_not_sent;
}

static const mutant_def mutants[] = {
    {"eof-reads-as-close", "a transport end without close_notify is reported as the peer's "
     "close_notify (truncation hidden)", NULL, NULL, NULL, m_eof},
    {"close-notify-reads-as-eof", "the peer's close_notify is reported as a truncation",
     NULL, NULL, NULL, m_close},
    {"error-reads-as-close", "a fatal alert, a malformed record or a reset read as the peer's "
     "close_notify", NULL, NULL, NULL, m_error},
    {"data-after-close-delivered", "a read after the peer's close_notify delivers data",
     NULL, NULL, NULL, m_after},
    {"read-one-byte-short", "a read reports one byte fewer than it delivered", NULL, NULL,
     NULL, m_short},
    {"shutdown-sends-nothing", "the close call sends no close_notify but says it did", "1.3",
     "blocking", "client", m_nothing},
    {"first-shutdown-waits", "the first close call waits for the peer's close_notify",
     NULL, "blocking", NULL, m_waits},
    {"second-shutdown-does-not-wait", "a second close call returns complete without waiting "
     "for the peer's close_notify", NULL, NULL, NULL, m_nowait},
    {"first-shutdown-says-complete", "the first close call says both close_notify were "
     "exchanged", NULL, NULL, NULL, m_atonce},
    {"shutdown-want-read-is-error", "a close call that waits to read reports an error instead "
     "of the want", NULL, "nonblocking", NULL, m_wanterr},
    {"shutdown-error-says-complete", "a close call that meets an error or the transport's end "
     "says complete", NULL, NULL, NULL, m_errcomplete},
    {"quiet-shutdown-sends-close-notify", "quiet shutdown sends close_notify", NULL, NULL, NULL,
     m_loud},
    {"memory-close-notify-dropped", "memory mode: what the library writes after the close "
     "call never reaches the socket", NULL, "memory", NULL, m_dropped},
    {"write-after-shutdown-accepted", "a write after the close call is accepted", NULL, NULL,
     NULL, m_write},
    {"received-flag-never-set", "the shutdown flags never show the peer's close_notify",
     NULL, NULL, NULL, m_norecv},
    {"sent-flag-never-set", "the shutdown flags never show our own close_notify", NULL, NULL,
     NULL, m_nosent},
    {"session-always-resumable", "every session is said to be resumable", NULL, NULL, NULL,
     m_resumable},
    {"resumption-always-reused", "every new connection is said to resume", NULL, NULL, NULL,
     m_reused},
    {"keyupdate-not-sent", "a key update is reported done but never sent", "1.3", NULL, NULL,
     m_keyupdate},
};

static const char *or_all(const char *v)
{
    return v ? v : "*";
}

void shim_mutant_list(void)
{
    for (size_t i = 0; i < sizeof mutants / sizeof mutants[0]; i++) {
        const mutant_def *m = &mutants[i];
        printf("{\"mutant\": \"%s\", \"breaks\": \"%s\", \"scope\": {\"tls\": \"%s\", "
               "\"io\": \"%s\", \"role\": \"%s\"}}\n",
               m->name, m->breaks, or_all(m->tls), or_all(m->io), or_all(m->role));
    }
}

const shim_driver *shim_mutant_wrap(const shim_driver *driver)
{
    const char *name = getenv("TLSCLOSE_MUTANT");
    if (!name || !*name)
        return driver;
    for (size_t i = 0; i < sizeof mutants / sizeof mutants[0]; i++) {
        if (strcmp(mutants[i].name, name) == 0) {
            orig = driver;
            mutant = *driver;
            mutants[i].install(&mutant);
            return &mutant;
        }
    }
    tc_err_set(TC_ERR_USAGE, "TLSCLOSE_MUTANT=%s: no such variant (--mutants lists them)", name);
    return NULL;
}
