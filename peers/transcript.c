#include "transcript.h"

#include "jsonio.h"
#include "serve.h"
#include "tls_names.h"

#include <stdio.h>
#include <time.h>

static struct timespec started;

#define HEX_PREFIX 16

void tr_init(void)
{
    clock_gettime(CLOCK_MONOTONIC, &started);
}

static double elapsed_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - started.tv_sec) * 1000.0 +
           (double)(now.tv_nsec - started.tv_nsec) / 1e6;
}

static json_object *event(const char *name)
{
    json_object *o = json_object_new_object();
    tc_json_set_str(o, "ev", name);
    return o;
}

/* "ms" goes last so that every line reads event first, time last. */
static void emit(json_object *o)
{
    char text[32];
    double ms = elapsed_ms();
    snprintf(text, sizeof text, "%.3f", ms);
    json_object_object_add(o, "ms", json_object_new_double_s(ms, text));
    tc_json_emit(o);
}

void tr_start(const char *role, const char *tls)
{
    json_object *o = event("start");
    tc_json_set_str(o, "role", role);
    tc_json_set_str(o, "tls", tls);
    emit(o);
}

void tr_handshake(int conn, const char *tls, const char *cipher, bool resumed)
{
    json_object *o = event("handshake");
    tc_json_set_int(o, "conn", conn);
    tc_json_set_str(o, "tls", tls);
    tc_json_set_str(o, "cipher", cipher);
    tc_json_set_bool(o, "resumed", resumed);
    emit(o);
}

void tr_handshake_error(int conn, const char *message)
{
    json_object *o = event("handshake");
    tc_json_set_int(o, "conn", conn);
    tc_json_set_str(o, "error", message);
    emit(o);
}

static void add_unknown_number(json_object *o, const char *key, unsigned v)
{
    char text[24];
    snprintf(text, sizeof text, "unknown:%u", v);
    tc_json_set_str(o, key, text);
}

/* A well-formed alert is exactly level + description. Anything else is
 * reported as it is (R12 needs the exact bytes), never reassembled. */
static void add_alert(json_object *o, const uint8_t *c, size_t len)
{
    if (len >= 1) {
        const char *level = tls_alert_level_name(c[0]);
        tc_json_set_str(o, "level", level ? level : "unknown");
        tc_json_set_int(o, "level_byte", c[0]);
    }
    if (len >= 2) {
        const char *name = tls_alert_name(c[1]);
        tc_json_set_str(o, "alert", name ? name : "unknown");
        tc_json_set_int(o, "code", c[1]);
    }
    if (len != 2) {
        tc_json_set_bool(o, "malformed", true);
        tc_json_set_hex(o, "hex", c, len, HEX_PREFIX);
    }
    if (len < 2)
        tc_json_set_bool(o, "fragment", true);
}

static json_object *handshake_name(uint8_t type)
{
    const char *name = tls_handshake_name(type);
    char text[24];
    if (!name) {
        snprintf(text, sizeof text, "unknown:%u", type);
        name = text;
    }
    return json_object_new_string(name);
}

/* `handshake` names the first message; `messages` lists every message the
 * record carries, in order, since a stack may put several in one record
 * (a NewSessionTicket and a KeyUpdate, say) and wire checks must see all. */
static void add_handshake(json_object *o, const uint8_t *c, size_t len)
{
    if (len < 1)
        return;
    const char *name = tls_handshake_name(c[0]);
    if (name)
        tc_json_set_str(o, "handshake", name);
    else
        add_unknown_number(o, "handshake", c[0]);
    json_object *messages = json_object_new_array();
    size_t at = 0;
    while (len - at >= 4) {
        size_t body = ((size_t)c[at + 1] << 16) | ((size_t)c[at + 2] << 8) | c[at + 3];
        json_object_array_add(messages, handshake_name(c[at]));
        if (c[at] == 24 && body == 1 && len - at >= 5)
            tc_json_set_bool(o, "request_update", c[at + 4] == 1);
        if (len - at - 4 < body)
            break; /* the rest of this message is in a later record */
        at += 4 + body;
    }
    json_object_object_add(o, "messages", messages);
}

static void add_content(json_object *o, const tr_record_info *r)
{
    const char *name = tls_content_type_name(r->type);
    if (name)
        tc_json_set_str(o, "type", name);
    else
        add_unknown_number(o, "type", r->type);
    if (r->type == 21)
        add_alert(o, r->content, r->len);
    else if (r->type == 22)
        add_handshake(o, r->content, r->len);
    else if (r->type != 20 || r->len != 1)
        tc_json_set_hex(o, "hex", r->content, r->len, HEX_PREFIX);
}

void tr_record(const tr_record_info *r)
{
    json_object *o = event("record");
    tc_json_set_str(o, "dir", r->dir);
    tc_json_set_str(o, "by", r->by);
    tc_json_set_int(o, "conn", r->conn);
    add_content(o, r);
    if (r->in_handshake) {
        tc_json_set_bool(o, "in_handshake", true);
    } else if (r->unprotected) {
        tc_json_set_bool(o, "protected", false);
    } else {
        tc_json_set_int(o, "epoch", r->epoch);
        tc_json_set_int(o, "seq", (int64_t)r->seq);
    }
    tc_json_set_int(o, "len", (int64_t)r->len);
    if (r->partial)
        tc_json_set_int(o, "partial", (int64_t)r->partial);
    if (r->takeover)
        tc_json_set_bool(o, "takeover", true);
    emit(o);
}

void tr_bad_record(const char *dir, int conn, const char *why, const uint8_t *bytes, size_t len)
{
    json_object *o = event("bad_record");
    tc_json_set_str(o, "dir", dir);
    tc_json_set_int(o, "conn", conn);
    tc_json_set_str(o, "why", why);
    tc_json_set_int(o, "len", (int64_t)len);
    tc_json_set_hex(o, "hex", bytes, len, HEX_PREFIX);
    emit(o);
}

void tr_tcp(const char *dir, const char *what, int conn, long long drained)
{
    json_object *o = event("tcp");
    tc_json_set_str(o, "dir", dir);
    tc_json_set_str(o, "what", what);
    tc_json_set_int(o, "conn", conn);
    if (drained >= 0)
        tc_json_set_int(o, "drained", drained);
    emit(o);
}

/* Printable prefix only: the line must stay valid, readable JSON whatever
 * the SUT sent. */
void tr_plaintext(const char *dir, int conn, const uint8_t *text, size_t len)
{
    char shown[65];
    size_t n = len < sizeof shown - 1 ? len : sizeof shown - 1;
    for (size_t i = 0; i < n; i++)
        shown[i] = (text[i] >= 0x20 && text[i] < 0x7f) ? (char)text[i] : '.';
    shown[n] = '\0';
    json_object *o = event("plaintext");
    tc_json_set_str(o, "dir", dir);
    tc_json_set_int(o, "conn", conn);
    tc_json_set_int(o, "len", (int64_t)len);
    tc_json_set_str(o, "text", shown);
    /* Plaintext that opens like a TLS record header (a content type 20..24,
     * then version 3.x) is most likely a record the other side sent after
     * the closure, where only application bytes belong; cases can tell it
     * from late or garbled application data this way. */
    if (len >= 3 && text[0] >= 20 && text[0] <= 24 && text[1] == 3 && text[2] <= 4)
        tc_json_set_bool(o, "record_header", true);
    emit(o);
}

void tr_raw(const char *dir, int conn, const uint8_t *bytes, size_t len)
{
    json_object *o = event("raw");
    tc_json_set_str(o, "dir", dir);
    tc_json_set_int(o, "conn", conn);
    tc_json_set_int(o, "len", (int64_t)len);
    tc_json_set_hex(o, "hex", bytes, len, 64);
    emit(o);
}

void tr_marker(const char *dir, const char *name)
{
    json_object *o = event("marker");
    tc_json_set_str(o, "dir", dir);
    tc_json_set_str(o, "name", name);
    emit(o);
}

void tr_expect(const char *what, bool ok, const char *detail)
{
    json_object *o = event("expect");
    tc_json_set_str(o, "what", what);
    tc_json_set_bool(o, "ok", ok);
    if (detail && *detail)
        tc_json_set_str(o, "detail", detail);
    emit(o);
}

void tr_http(json_object *fields)
{
    json_object *o = event("http");
    json_object_object_foreach(fields, key, val) {
        json_object_object_add(o, key, json_object_get(val));
    }
    json_object_put(fields);
    emit(o);
}

void tr_action(size_t n, json_object *action)
{
    json_object *o = event("action");
    tc_json_set_int(o, "n", (int64_t)n);
    json_object_object_foreach(action, key, val) {
        if (!json_object_object_get_ex(o, key, NULL))
            json_object_object_add(o, key, json_object_get(val));
    }
    emit(o);
}

void tr_end(const char *status, const char *message, int exit_code)
{
    json_object *o = event("end");
    tc_json_set_str(o, "status", status);
    if (message && *message)
        tc_json_set_str(o, "message", message);
    tc_serve_end_fields(o, exit_code, NULL);
    emit(o);
    tc_serve_end_printed();
}

void tr_server_end(const char *status, const char *message, int exit_code, const char *signal)
{
    json_object *o = event("end");
    tc_json_set_str(o, "status", status);
    if (message && *message)
        tc_json_set_str(o, "message", message);
    tc_serve_end_fields(o, exit_code, signal);
    emit(o);
}

void tr_listen(int port)
{
    json_object *o = event("listen");
    tc_json_set_int(o, "port", port);
    emit(o);
}
