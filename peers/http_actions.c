#include "http_actions.h"

#include "jsonio.h"
#include "tc_err.h"
#include "transcript.h"

#include <stdio.h>
#include <string.h>

/* ---- sending ---- */

typedef struct {
    uint64_t wire_sent;  /* message bytes in whole records */
    uint64_t body_sent;  /* body bytes among them */
    size_t records;
    size_t partial;      /* content bytes of the record sent in part, 0 if none */
} send_progress;

static void add_u64(json_object *o, const char *key, uint64_t v)
{
    tc_json_set_int(o, key, (int64_t)v);
}

static int log_sent(const peer_conn *c, const peer_action *a, const http_out *m,
                    const send_progress *s)
{
    char full[HTTP_SHA256_HEX], sent[HTTP_SHA256_HEX];
    int rc = http_body_sha256(m->body_len, full);
    if (rc == TC_OK)
        rc = http_body_sha256(s->body_sent, sent);
    if (rc < 0)
        return rc;
    const peer_http *h = &a->http;
    json_object *o = json_object_new_object();
    tc_json_set_str(o, "dir", "sent");
    tc_json_set_str(o, "what", a->kind == ACT_HTTP_SEND_RESPONSE ? "response" : "request");
    tc_json_set_int(o, "conn", c->id);
    if (a->kind == ACT_HTTP_SEND_RESPONSE) {
        tc_json_set_int(o, "status", h->status);
    } else {
        tc_json_set_str(o, "method", h->method);
        tc_json_set_str(o, "target", h->target);
    }
    tc_json_set_str(o, "framing", http_framing_name(m->framing));
    add_u64(o, "head_len", m->head_len);
    add_u64(o, "body_bytes", m->body_len);
    add_u64(o, "body_sent", s->body_sent);
    add_u64(o, "wire_bytes", http_out_total(m));
    add_u64(o, "wire_sent", s->wire_sent);
    tc_json_set_int(o, "records", (int64_t)s->records);
    tc_json_set_str(o, "cut", http_cut_name(h->cut));
    if (s->partial)
        tc_json_set_int(o, "partial_record", (int64_t)s->partial);
    tc_json_set_bool(o, "complete", http_out_complete_at(m, s->wire_sent));
    tc_json_set_str(o, "body_sha256", full);
    tc_json_set_str(o, "sent_sha256", sent);
    tr_http(o);
    return TC_OK;
}

static size_t min_size(uint64_t a, size_t b)
{
    return a < b ? (size_t)a : b;
}

/* Whole records up to the cut, then (cut_in_record) the part of the next. */
static int send_message(peer_conn *c, const peer_http *h, const http_out *m, uint64_t cut,
                        int64_t deadline, send_progress *s)
{
    static uint8_t buf[TC_MAX_PLAINTEXT];
    http_cursor cur;
    http_cursor_init(&cur, m);
    while (cur.pos < cut) {
        size_t n = http_cursor_next(&cur, buf, min_size(cut - cur.pos, h->record));
        int rc = conn_send_record(c, TC_CT_APPLICATION_DATA, buf, n, deadline);
        if (rc < 0)
            return rc;
        s->wire_sent = cur.pos;
        s->body_sent = cur.body_pos;
        s->records++;
    }
    if (!h->cut_in_record)
        return TC_OK;
    size_t n = http_cursor_next(&cur, buf, min_size(http_out_total(m) - cut, h->record));
    int rc = conn_send_partial(c, buf, n, deadline);
    if (rc == TC_OK)
        s->partial = n;
    return rc;
}

int http_act_send(peer_conn *c, const peer_action *a, int64_t deadline)
{
    http_out m;
    uint64_t cut = 0;
    send_progress s = {0};
    int rc = peer_http_message(a, &m);
    if (rc == TC_OK)
        rc = http_out_cut(&m, a->http.cut, &cut);
    if (rc < 0)
        return rc; /* checked when the script was parsed: cannot happen */
    rc = send_message(c, &a->http, &m, cut, deadline, &s);
    if (rc == TC_ERR_SYS || rc == TC_ERR_CRYPTO)
        return rc;
    /* what went out is reported whether or not the SUT let all of it */
    int logged = log_sent(c, a, &m, &s);
    return logged < 0 ? logged : rc;
}

/* ---- reading ---- */

typedef struct {
    http_result result;
    const char *ended_by;  /* NULL: the framing ended the message, or the time ran out */
    bool timed_out;
    bool stalled;          /* the time ran out by a stall notice */
    size_t extra;          /* bytes after the message in its last record */
    size_t bad_records;
} read_outcome;

static bool is_close_notify(const conn_event *ev)
{
    return ev->type == TC_CT_ALERT && ev->len == 2 && ev->content[1] == 0;
}

/* A closure or fatal alert, or one that is not two bytes: the SUT will send
 * nothing more worth reading for this message. */
static bool is_final_alert(const conn_event *ev)
{
    return ev->type == TC_CT_ALERT && (ev->len != 2 || ev->content[0] == 2);
}

/* One event's effect; true when reading is over. */
static bool take_event(http_parser *p, const conn_event *ev, read_outcome *o)
{
    size_t used = 0;
    switch (ev->kind) {
    case CONN_RECORD:
        if (ev->type == TC_CT_APPLICATION_DATA) {
            o->result = http_parser_feed(p, ev->content, ev->len, &used);
            o->extra = ev->len - used;
            return o->result != HTTP_NEED_MORE;
        }
        if (is_close_notify(ev))
            o->ended_by = "close_notify";
        else if (is_final_alert(ev))
            o->ended_by = "alert";
        return o->ended_by != NULL;
    case CONN_BAD: o->bad_records++; return false;
    case CONN_EOF: o->ended_by = "fin"; return true;
    case CONN_RESET: o->ended_by = "reset"; return true;
    case CONN_TIMEOUT: o->timed_out = true; o->stalled = ev->stalled; return true;
    }
    return true;
}

static bool read_complete(const http_parser *p, const read_outcome *o)
{
    if (o->result == HTTP_DONE)
        return true;
    if (o->result == HTTP_BAD || !o->ended_by)
        return false;
    return http_parser_complete(p, strcmp(o->ended_by, "close_notify") == 0);
}

static void add_start_line(json_object *o, const http_parser *p)
{
    if (p->kind == HTTP_REQUEST) {
        tc_json_set_str(o, "method", p->method[0] ? p->method : NULL);
        tc_json_set_str(o, "target", p->target[0] ? p->target : NULL);
    }
    tc_json_set_str(o, "version", p->version[0] ? p->version : NULL);
    if (p->kind == HTTP_RESPONSE) {
        if (p->status)
            tc_json_set_int(o, "status", p->status);
        else
            json_object_object_add(o, "status", NULL);
        tc_json_set_str(o, "reason", p->reason);
        if (p->interim)
            tc_json_set_int(o, "interim", (int64_t)p->interim);
    }
    json_object *fields = json_object_new_array();
    for (size_t i = 0; i < p->n_fields; i++)
        json_object_array_add(fields, json_object_new_string(p->fields[i]));
    json_object_object_add(o, "headers", fields);
}

static void add_body(json_object *o, const http_parser *p, const char *sha)
{
    bool head_done = p->head_bytes > 0;
    add_u64(o, "head_len", head_done ? p->head_bytes : p->head_len);
    if (head_done)
        tc_json_set_str(o, "framing", http_framing_name(p->framing));
    else
        json_object_object_add(o, "framing", NULL);
    if (p->has_length)
        add_u64(o, "content_length", p->content_length);
    add_u64(o, "body", p->body);
    tc_json_set_str(o, "body_sha256", sha);
    if (p->framing == HTTP_FRAMING_CHUNKED) {
        tc_json_set_int(o, "chunks", (int64_t)p->chunks);
        tc_json_set_bool(o, "last_chunk", p->last_chunk);
        tc_json_set_int(o, "trailers", (int64_t)p->trailers);
    }
}

static void add_outcome(json_object *o, const http_parser *p, const read_outcome *r, bool complete)
{
    tc_json_set_bool(o, "complete", complete);
    tc_json_set_str(o, "ended_by", r->ended_by);
    tc_json_set_str(o, "state", http_parser_state_name(p));
    if (r->result == HTTP_BAD)
        tc_json_set_str(o, "error", p->error);
    if (r->timed_out)
        tc_json_set_bool(o, "timed_out", true);
    if (r->extra)
        tc_json_set_int(o, "extra", (int64_t)r->extra);
    if (r->bad_records)
        tc_json_set_int(o, "bad_records", (int64_t)r->bad_records);
}

static void expect_detail(const http_parser *p, const read_outcome *r, char *out, size_t cap)
{
    const char *end = r->stalled     ? "stalled"
                      : r->timed_out ? "the time ran out"
                      : r->ended_by  ? r->ended_by
                                     : "";
    if (r->result == HTTP_BAD)
        snprintf(out, cap, "malformed: %s", p->error);
    else
        snprintf(out, cap, "stopped in %s after %llu body bytes: %s", http_parser_state_name(p),
                 (unsigned long long)p->body, end);
}

static int log_recv(const peer_conn *c, const http_parser *p, const read_outcome *r)
{
    char sha[HTTP_SHA256_HEX], detail[256] = "";
    int rc = http_parser_body_sha256(p, sha);
    if (rc < 0)
        return rc;
    bool complete = read_complete(p, r);
    const char *what = p->kind == HTTP_REQUEST ? "request" : "response";
    json_object *o = json_object_new_object();
    tc_json_set_str(o, "dir", "recv");
    tc_json_set_str(o, "what", what);
    tc_json_set_int(o, "conn", c->id);
    add_start_line(o, p);
    add_body(o, p, sha);
    add_outcome(o, p, r, complete);
    tr_http(o);
    if (!complete)
        expect_detail(p, r, detail, sizeof detail);
    tr_expect(p->kind == HTTP_REQUEST ? "http_request" : "http_response", complete, detail);
    return TC_OK;
}

int http_act_read(peer_conn *c, http_kind kind, int64_t deadline)
{
    http_parser p;
    read_outcome r = {.result = HTTP_NEED_MORE};
    conn_event ev;
    int rc = http_parser_init(&p, kind);
    if (rc < 0)
        return rc;
    do {
        rc = conn_read_event(c, deadline, &ev);
    } while (rc == TC_OK && !take_event(&p, &ev, &r));
    if (rc == TC_OK)
        rc = log_recv(c, &p, &r);
    http_parser_free(&p);
    if (rc == TC_OK && r.timed_out)
        rc = tc_err_set(TC_ERR_TIMEOUT, "deadline passed");
    return rc;
}
