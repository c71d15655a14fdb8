#include "shim_output.h"

#include <stdio.h>
#include <string.h>

#include "jsonio.h"
#include "serve.h"
#include "shim_args.h"

void step_report_init(step_report *rep, size_t step, const char *op)
{
    memset(rep, 0, sizeof *rep);
    rep->step = step;
    rep->op = op;
    rep->reused = -1;
    rep->resumable = -1;
    rep->drained = -1;
}

void shim_wants_add(shim_wants *w, shim_want want)
{
    if (w->count < SHIM_MAX_WANTS)
        w->list[w->count++] = want;
    else
        w->dropped++;
}

void step_report_outcome(step_report *rep, const char *outcome)
{
    snprintf(rep->outcome, sizeof rep->outcome, "%s", outcome);
}

void step_report_count(step_report *rep, const char *prefix, size_t n)
{
    snprintf(rep->outcome, sizeof rep->outcome, "%s%zu", prefix, n);
}

static json_object *base_line(const shim_driver *drv)
{
    json_object *o = json_object_new_object();
    tc_json_set_str(o, "shim", drv->name);
    tc_json_set_str(o, "library", drv->library_version());
    tc_json_set_str(o, "api", drv->api);
    return o;
}

void shim_out_version(const shim_driver *drv)
{
    json_object *o = base_line(drv);
    tc_json_set_bool(o, "serve", true); /* every shim of this runner has --serve */
    tc_json_emit(o);
}

void shim_out_hello(const shim_driver *drv, const shim_config *cfg)
{
    json_object *o = base_line(drv);
    tc_json_set_str(o, "role", shim_args_role(cfg));
    tc_json_set_str(o, "tls", shim_args_tls(cfg));
    tc_json_set_str(o, "io", shim_args_io(cfg->io));
    tc_json_emit(o);
}

static json_object *wants_array(const shim_wants *w)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < w->count; i++)
        json_object_array_add(a, json_object_new_string(
            w->list[i] == SHIM_WANT_WRITE ? "want_write" : "want_read"));
    return a;
}

static json_object *native_object(const shim_call *c)
{
    json_object *o = json_object_new_object();
    tc_json_set_int(o, "ret", c->ret);
    tc_json_set_str(o, "error", c->error);
    json_object *q = json_object_new_array();
    for (int i = 0; i < c->queue_len && i < SHIM_MAX_QUEUE; i++)
        json_object_array_add(q, json_object_new_string(c->queue[i]));
    json_object_object_add(o, "queue", q);
    tc_json_set_int(o, "errno", c->sys_errno);
    return o;
}

static json_object *flags_object(const shim_flags *f)
{
    json_object *o = json_object_new_object();
    tc_json_set_bool(o, "sent", f->sent);
    tc_json_set_bool(o, "received", f->received);
    return o;
}

static void add_extras(json_object *o, const step_report *rep)
{
    if (rep->reused >= 0)
        tc_json_set_bool(o, "reused", rep->reused);
    if (rep->resumable >= 0)
        tc_json_set_bool(o, "resumable", rep->resumable);
    if (rep->got)
        json_object_object_add(o, "got", json_object_new_string_len(rep->got, (int)rep->got_len));
    if (rep->drained >= 0)
        tc_json_set_int(o, "drained", rep->drained);
    if (rep->transport)
        tc_json_set_str(o, "transport", rep->transport);
    if (rep->n_read_past > 0) {
        json_object *list = json_object_new_array();
        for (int i = 0; i < rep->n_read_past; i++)
            json_object_array_add(list, json_object_new_string(rep->read_past[i]));
        json_object_object_add(o, "read_past", list);
    }
}

void shim_out_step(const step_report *rep)
{
    json_object *o = json_object_new_object();
    tc_json_set_int(o, "step", (int64_t)rep->step);
    tc_json_set_str(o, "op", rep->op);
    tc_json_set_str(o, "outcome", rep->outcome);
    json_object_object_add(o, "wants", wants_array(&rep->wants));
    if (rep->wants.dropped)
        tc_json_set_int(o, "wants_dropped", rep->wants.dropped);
    tc_json_set_int(o, "calls", rep->calls);
    json_object_object_add(o, "native", rep->has_native ? native_object(&rep->native) : NULL);
    json_object_object_add(o, "flags", rep->has_flags ? flags_object(&rep->flags) : NULL);
    tc_json_set_int(o, "bytes", (int64_t)rep->bytes);
    /* Two decimals: enough to tell a delayed-ACK stall from a fast step. */
    char ms[32];
    snprintf(ms, sizeof ms, "%.2f", rep->ms);
    json_object_object_add(o, "ms", json_object_new_double_s(rep->ms, ms));
    add_extras(o, rep);
    tc_json_emit(o);
}

void shim_out_end(const char *kind, size_t step, const char *message, int exit_code)
{
    json_object *o = json_object_new_object();
    tc_json_set_str(o, "end", kind);
    if (step > 0 || strcmp(kind, "skip") == 0)
        tc_json_set_int(o, "step", (int64_t)step);
    if (message)
        tc_json_set_str(o, "message", message);
    tc_serve_end_fields(o, exit_code, NULL);
    tc_json_emit(o);
    tc_serve_end_printed();
}

void shim_out_server_end(const char *status, const char *message, int exit_code,
                         const char *signal)
{
    json_object *o = json_object_new_object();
    tc_json_set_str(o, "end", status);
    if (message)
        tc_json_set_str(o, "message", message);
    tc_serve_end_fields(o, exit_code, signal);
    tc_json_emit(o);
}
