/* shim_runner: shim_main, the part of every C shim that is the same for
 * every library (docs/shim-protocol.md). The order of a run:
 *   1. command line (exit 2 on a bad one), or --version;
 *   2. the hello line;
 *   3. the script, checked whole before any IO: syntax (exit 2), then what
 *      this stack and command line can do (exit 77 with a skip line, or 2);
 *   4. driver init and the first connection (exit 4 when the shim itself
 *      cannot start, 77 when the driver reports something unsupported);
 *   5. the steps, one JSON line each; a deadline ends the run (exit 3);
 *   6. cleanup on every path: sessions freed, sockets closed gracefully.
 * Persistent mode (`--serve`, common/serve.h) runs 2-6 per request in a
 * forked process, with the request's args and inline script; markers are
 * then JSON lines on stdin/stdout instead of pipes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonio.h"
#include "serve.h"
#include "shim_args.h"
#include "shim_driver.h"
#include "shim_mutant.h"
#include "shim_output.h"
#include "shim_steps.h"
#include "step_script.h"
#include "tc_err.h"
#include "transport.h"

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 2,
    EXIT_TIMEOUT = 3,
    EXIT_FAILURE_SHIM = 4,
    EXIT_SKIP = 77,
};

static int exit_code_for(int err)
{
    switch (err) {
    case TC_OK: return EXIT_OK;
    case TC_ERR_USAGE: return EXIT_USAGE;
    case TC_ERR_TIMEOUT: return EXIT_TIMEOUT;
    case TC_ERR_UNSUPPORTED: return EXIT_SKIP;
    default: return EXIT_FAILURE_SHIM;
    }
}

/* Prints the end line for a failed run (and the message on stderr for a
 * person) and returns the exit code. */
static int end_run(int err, size_t step, const char *message)
{
    int code = exit_code_for(err);
    const char *kind = code == EXIT_TIMEOUT ? "timeout" : code == EXIT_SKIP ? "skip" : "error";
    fprintf(stderr, "shim: %s\n", message);
    shim_out_end(kind, step, message, code);
    return code;
}

static double now_precise_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- what this stack and command line can do -------------------------- */

static const char *missing_callback(const shim_driver *d, step_op op)
{
    switch (op) {
    case OP_SHUTDOWN_QUIET: return d->shutdown_quiet ? NULL : "has no quiet shutdown";
    case OP_SHUTDOWN_FULL: return d->shutdown_full ? NULL : "has no one-call bidirectional shutdown";
    case OP_GET_ERROR_AFTER: return d->error_after ? NULL : "has no error query on a return value";
    case OP_KEYUPDATE: return d->keyupdate ? NULL : "cannot request a key update";
    case OP_SESSION_RESUMABLE:
        return d->session_resumable ? NULL : "cannot tell whether a session is resumable";
    case OP_RESUME:
        return d->session_save && d->session_reused ? NULL : "cannot resume sessions";
    case OP_CLEAR:
        return d->clear && d->session_attach ? NULL
                                             : "cannot reset a TLS object for another connection";
    default: return NULL;
    }
}

static bool can_set_option(const shim_driver *d, const shim_step *st)
{
    unsigned bits = st->context_scope ? d->options_context : d->options_connection;
    return d->set_option && (bits & (1u << st->option));
}

/* What the stack cannot do: a skip (77). */
static int check_support(const shim_driver *d, const shim_args *a, const shim_step *st, size_t i)
{
    const char *op = step_op_name(st->op);
    const char *why = missing_callback(d, st->op);
    if (why)
        return tc_err_set(TC_ERR_UNSUPPORTED, "step %zu (%s): %s %s", i + 1, op, d->name, why);
    if (st->op == OP_SET_OPTION && !can_set_option(d, st))
        return tc_err_set(TC_ERR_UNSUPPORTED, "step %zu (%s): %s cannot set %s on %s", i + 1,
                          op, d->name, step_option_name(st->option),
                          st->context_scope ? "the context (for later connections)"
                                            : "a connection");
    if (st->until_blocked && a->cfg.io == SHIM_IO_BLOCKING)
        return tc_err_set(TC_ERR_UNSUPPORTED,
                          "step %zu (%s): until_blocked needs --io nonblocking or memory "
                          "(a blocking write never reports a want)", i + 1, op);
    return TC_OK;
}

/* What the command line does not give the script: a usage error (2). */
static int check_needs(const shim_args *a, const shim_step *st, size_t i, int *resumes)
{
    const char *op = step_op_name(st->op);
    if (st->op == OP_SIGNAL_PEER && a->marker_out < 0 && !a->serve)
        return tc_err_set(TC_ERR_USAGE, "step %zu (%s): needs --marker-out", i + 1, op);
    if (st->op == OP_WAIT_PEER && a->marker_in < 0 && !a->serve)
        return tc_err_set(TC_ERR_USAGE, "step %zu (%s): needs --marker-in", i + 1, op);
    if (st->op != OP_RESUME)
        return TC_OK;
    if (++*resumes >= TC_MAX_CONNECTIONS)
        return tc_err_set(TC_ERR_USAGE, "step %zu (%s): at most %d connections", i + 1, op,
                          TC_MAX_CONNECTIONS);
    if (*resumes >= a->transport.fd_count && !a->transport.connect_to)
        return tc_err_set(TC_ERR_USAGE,
                          "step %zu (%s): no --fd left for this connection "
                          "(give one descriptor per connection)", i + 1, op);
    return TC_OK;
}

/* All skips before all usage errors: a script this stack cannot run is a
 * skip whatever else the command line lacks. *step gets the step to blame
 * (0 for the run as a whole). */
static int check_capabilities(const shim_driver *d, const shim_args *a, const step_script *s,
                              size_t *step)
{
    *step = 0;
    if (a->cfg.io == SHIM_IO_MEMORY &&
        (!d->mem_take_output || !d->mem_give_input || !d->mem_give_eof))
        return tc_err_set(TC_ERR_UNSUPPORTED, "%s: memory IO is not implemented", d->name);
    int resumes = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < s->count; i++) {
            int rc = pass == 0 ? check_support(d, a, &s->steps[i], i)
                               : check_needs(a, &s->steps[i], i, &resumes);
            if (rc < 0) {
                *step = i + 1;
                return rc;
            }
        }
    }
    return TC_OK;
}

/* ---- setup and cleanup ------------------------------------------------- */

static int alloc_buffers(shim_run *r, const step_script *s)
{
    size_t rbuf_len = SHIM_READ_CHUNK;
    for (size_t i = 0; i < s->count; i++)
        if (s->steps[i].text && strlen(s->steps[i].text) > rbuf_len)
            rbuf_len = strlen(s->steps[i].text);
    r->pattern_len = s->max_write > 0 ? s->max_write : 1;
    r->pattern = malloc(r->pattern_len);
    r->rbuf = malloc(rbuf_len);
    if (!r->pattern || !r->rbuf)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    for (size_t i = 0; i < r->pattern_len; i++)
        r->pattern[i] = (uint8_t)(i & 0xff);
    return TC_OK;
}

static int setup(shim_run *r, const step_script *s, int64_t deadline)
{
    int rc = alloc_buffers(r, s);
    if (rc == TC_OK)
        rc = r->drv->init(&r->args->cfg, &r->ctx);
    if (rc == TC_OK)
        rc = shim_run_open_conn(r, deadline);
    return rc;
}

/* A run that ended well gets until its deadline to close gracefully; one
 * that failed closes at once (FIN, then only what is already there is
 * drained). */
static void cleanup(shim_run *r, int64_t deadline)
{
    for (int i = 0; i < r->nconns; i++) {
        shim_conn_close(r->conns[i], deadline);
        free(r->conns[i]);
    }
    if (r->ctx)
        r->drv->deinit(r->ctx);
    free(r->pattern);
    free(r->rbuf);
}

/* ---- the steps -------------------------------------------------------- */

static int64_t step_deadline(const shim_step *st, int64_t run_deadline)
{
    int64_t d = tc_now_ms() + st->timeout_ms;
    return d < run_deadline ? d : run_deadline;
}

static int run_steps(shim_run *r, const step_script *s, int64_t run_deadline, size_t *failed)
{
    for (size_t i = 0; i < s->count; i++) {
        const shim_step *st = &s->steps[i];
        step_report rep;
        step_report_init(&rep, i + 1, step_op_name(st->op));
        int64_t deadline = step_deadline(st, run_deadline);
        double t0 = now_precise_ms();
        int rc = shim_step_run(r, st, deadline, &rep);
        rep.ms = now_precise_ms() - t0;
        *failed = i + 1;
        if (rc == TC_OK || rc == TC_ERR_TIMEOUT)
            shim_out_step(&rep);
        if (rc == TC_ERR_TIMEOUT)
            return tc_err_set(rc, "step %zu (%s): %s deadline passed", i + 1, rep.op,
                              deadline == run_deadline ? "run" : "step");
        if (rc < 0) {
            char why[512];
            snprintf(why, sizeof why, "%s", tc_err_msg());
            return tc_err_set(rc, "step %zu (%s): %s", i + 1, rep.op, why);
        }
    }
    *failed = 0;
    return TC_OK;
}

/* --session-out keeps the last connection's session for another process
 * even when no step asked for it. */
static int save_session_out(shim_run *r)
{
    shim_conn *c = r->cur;
    if (!r->args->cfg.session_out || !c || !c->tls || c->saved || !r->drv->session_save)
        return TC_OK;
    c->saved = true;
    return r->drv->session_save(c->tls);
}

static int run(shim_run *r, const step_script *s, int64_t run_deadline)
{
    size_t failed = 0;
    int rc = setup(r, s, run_deadline);
    if (rc == TC_OK)
        rc = run_steps(r, s, run_deadline, &failed);
    if (rc == TC_OK)
        rc = save_session_out(r);
    if (rc < 0) {
        rc = end_run(rc, failed, tc_err_msg());
        cleanup(r, tc_now_ms());
        return rc;
    }
    cleanup(r, run_deadline);
    shim_out_end("ok", 0, NULL, EXIT_OK);
    return EXIT_OK;
}

/* Everything after the command line, for one run or one cell: the script
 * comes from --script, or inline (persistent mode). */
static int run_parsed(const shim_driver *driver, shim_args *args, json_object *inline_script)
{
    int64_t run_deadline = tc_now_ms() + args->deadline_ms;
    shim_out_hello(driver, &args->cfg);
    step_script script;
    size_t step = 0;
    int rc = inline_script ? step_script_from_json(json_object_get(inline_script), &script)
                           : step_script_load(args->script, &script);
    if (rc < 0)
        return end_run(rc, 0, tc_err_msg());
    rc = check_capabilities(driver, args, &script, &step);
    if (rc < 0) {
        step_script_free(&script);
        return end_run(rc, step, tc_err_msg());
    }
    shim_run r = {.drv = driver, .args = args};
    if (args->serve)
        tc_markers_init_inband(&r.markers, tc_serve_input());
    else
        tc_markers_init(&r.markers, args->marker_in, args->marker_out);
    rc = run(&r, &script, run_deadline);
    step_script_free(&script);
    return rc;
}

/* ---- persistent mode ---------------------------------------------------- */

static int serve_preinit(void *ctx)
{
    const shim_driver *driver = ctx;
    return driver->preinit ? driver->preinit() : TC_OK;
}

/* The cell parses its args again (and reports a bad one): this parse only
 * tells the driver which credentials a server cell will load. */
static void serve_cell_start(void *ctx, const tc_serve_request *req)
{
    const shim_driver *driver = ctx;
    shim_args args;
    if (driver->preload && shim_args_parse_cell(req->argc, req->argv, &args) == TC_OK &&
        args.cfg.server)
        driver->preload(&args.cfg);
}

static int serve_cell(void *ctx, const tc_serve_request *req)
{
    shim_args args;
    if (shim_args_parse_cell(req->argc, req->argv, &args) < 0)
        return end_run(TC_ERR_USAGE, 0, tc_err_msg());
    return run_parsed(ctx, &args, req->script);
}

static void serve_end(void *ctx, const char *status, const char *message, int exit_code,
                      const char *signal)
{
    (void)ctx;
    shim_out_server_end(status, message, exit_code, signal);
}

static int serve(const shim_driver *driver, const char *program)
{
    tc_serve_ops ops = {
        .program = program,
        .ctx = (void *)driver,
        .preinit = serve_preinit,
        .cell_start = serve_cell_start,
        .run_cell = serve_cell,
        .server_end = serve_end,
    };
    return tc_serve_main(&ops);
}

int shim_main(const shim_driver *driver, int argc, char **argv)
{
    tc_ignore_sigpipe();
    if (argc == 2 && strcmp(argv[1], "--mutants") == 0) {
        shim_mutant_list();
        return EXIT_OK;
    }
    driver = shim_mutant_wrap(driver);
    if (!driver)
        return end_run(TC_ERR_USAGE, 0, tc_err_msg());
    if (argc == 2 && strcmp(argv[1], "--serve") == 0)
        return serve(driver, argv[0]);
    shim_args args;
    if (shim_args_parse(argc, argv, &args) < 0)
        return end_run(TC_ERR_USAGE, 0, tc_err_msg());
    if (args.version_only) {
        shim_out_version(driver);
        return EXIT_OK;
    }
    return run_parsed(driver, &args, NULL);
}
