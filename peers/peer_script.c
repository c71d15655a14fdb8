#include "peer_script.h"

#include "jsonio.h"
#include "personality.h"
#include "tc_err.h"
#include "tls_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DATA_BYTES (64 * 1024 * 1024)
#define MAX_TIMEOUT_MS 3600000
#define MAX_RECORD_CONTENT 16384
#define MAX_MARKER 63

typedef int (*parse_fn)(peer_action *a, json_object *o, const char *where, bool tls13);

typedef struct {
    const char *name;
    action_kind kind;
    const char *const *keys;
    parse_fn parse;
} action_spec;

/* ---- field helpers ---- */

static int require(json_object *o, const char *where, const char *field)
{
    if (!json_object_object_get_ex(o, field, NULL))
        return tc_err_set(TC_ERR_USAGE, "%s: field '%s' is required", where, field);
    return TC_OK;
}

static int get_size(json_object *o, const char *where, const char *field, int64_t def,
                    int64_t min, int64_t max, size_t *out)
{
    int64_t v;
    int rc = tc_json_int(o, where, field, def, min, max, &v);
    if (rc == TC_OK)
        *out = (size_t)v;
    return rc;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the bytes of a hex string field to *buf. */
static int append_hex(json_object *o, const char *where, const char *field, uint8_t **buf,
                      size_t *len)
{
    const char *hex = NULL;
    int rc = tc_json_str(o, where, field, "", &hex);
    if (rc < 0)
        return rc;
    size_t n = strlen(hex);
    if (n % 2)
        return tc_err_set(TC_ERR_USAGE, "%s: field '%s': odd number of hex digits", where, field);
    uint8_t *grown = realloc(*buf, *len + n / 2 + 1);
    if (!grown)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    *buf = grown;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_nibble(hex[i]), lo = hex_nibble(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return tc_err_set(TC_ERR_USAGE, "%s: field '%s': '%c%c' is not hex", where, field,
                              hex[i], hex[i + 1]);
        (*buf)[(*len)++] = (uint8_t)(hi << 4 | lo);
    }
    return TC_OK;
}

/* An alert given by name or number. */
static int alert_value(json_object *v, const char *where, const char *field, int *code)
{
    if (json_object_is_type(v, json_type_int)) {
        int64_t n = json_object_get_int64(v);
        if (n < 0 || n > 255)
            return tc_err_set(TC_ERR_USAGE, "%s: field '%s': %lld is outside 0..255", where, field,
                              (long long)n);
        *code = (int)n;
        return TC_OK;
    }
    if (json_object_is_type(v, json_type_string)) {
        *code = tls_alert_code(json_object_get_string(v));
        if (*code >= 0)
            return TC_OK;
        return tc_err_set(TC_ERR_USAGE, "%s: field '%s': unknown alert '%s'", where, field,
                          json_object_get_string(v));
    }
    return tc_err_set(TC_ERR_USAGE, "%s: field '%s': expected an alert name or number", where, field);
}

static int level_value(json_object *o, const char *where, int def, int *level)
{
    json_object *v;
    *level = def;
    if (!json_object_object_get_ex(o, "level", &v))
        return TC_OK;
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    if (s && strcmp(s, "warning") == 0)
        *level = 1;
    else if (s && strcmp(s, "fatal") == 0)
        *level = 2;
    else if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
             json_object_get_int64(v) <= 255)
        *level = (int)json_object_get_int64(v);
    else
        return tc_err_set(TC_ERR_USAGE, "%s: field 'level': expected \"warning\", \"fatal\" or 0..255", where);
    return TC_OK;
}

/* close_notify and user_canceled are the alerts meant to be warnings. */
static int default_level(int code)
{
    return code == 0 || code == 90 ? 1 : 2;
}

static int alloc_data(peer_action *a, size_t len)
{
    a->data = malloc(len ? len : 1);
    a->data_len = 0;
    return a->data ? TC_OK : tc_err_set(TC_ERR_SYS, "out of memory");
}

/* ---- per-action parsers ---- */

static int parse_nothing(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)a, (void)o, (void)where, (void)tls13;
    return TC_OK;
}

static int parse_records(peer_action *a, json_object *list, const char *where)
{
    if (!json_object_is_type(list, json_type_array))
        return tc_err_set(TC_ERR_USAGE, "%s: field 'records': expected a list of sizes", where);
    a->n_records = json_object_array_length(list);
    a->records = calloc(a->n_records ? a->n_records : 1, sizeof *a->records);
    if (!a->records)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    size_t sum = 0;
    for (size_t i = 0; i < a->n_records; i++) {
        json_object *v = json_object_array_get_idx(list, i);
        int64_t n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
        if (n < 0 || n > MAX_RECORD_CONTENT)
            return tc_err_set(TC_ERR_USAGE, "%s: field 'records': item %zu is not a size in 0..%d",
                              where, i + 1, MAX_RECORD_CONTENT);
        a->records[i] = (size_t)n;
        sum += (size_t)n;
    }
    if (json_object_object_get_ex(a->json, "bytes", NULL) && sum != a->bytes)
        return tc_err_set(TC_ERR_USAGE, "%s: field 'records': sizes add up to %zu, not 'bytes' (%zu)",
                          where, sum, a->bytes);
    a->bytes = sum;
    return TC_OK;
}

static int parse_send_data(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)tls13;
    json_object *list;
    int rc = get_size(o, where, "bytes", 0, 0, MAX_DATA_BYTES, &a->bytes);
    if (rc == TC_OK && json_object_object_get_ex(o, "records", &list))
        return parse_records(a, list, where);
    if (rc < 0)
        return rc;
    a->n_records = (a->bytes + MAX_RECORD_CONTENT - 1) / MAX_RECORD_CONTENT;
    a->records = calloc(a->n_records ? a->n_records : 1, sizeof *a->records);
    if (!a->records)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    for (size_t i = 0; i < a->n_records; i++)
        a->records[i] = i + 1 < a->n_records ? MAX_RECORD_CONTENT : a->bytes - i * MAX_RECORD_CONTENT;
    return TC_OK;
}

static int parse_coalesce(peer_action *a, json_object *o, const char *where)
{
    json_object *list;
    if (!json_object_object_get_ex(o, "coalesce", &list))
        return TC_OK;
    if (!json_object_is_type(list, json_type_array))
        return tc_err_set(TC_ERR_USAGE, "%s: field 'coalesce': expected a list of alerts", where);
    size_t n = json_object_array_length(list);
    uint8_t *grown = realloc(a->data, a->data_len + 2 * n + 1);
    if (!grown)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    a->data = grown;
    for (size_t i = 0; i < n; i++) {
        int code;
        int rc = alert_value(json_object_array_get_idx(list, i), where, "coalesce", &code);
        if (rc < 0)
            return rc;
        a->data[a->data_len++] = (uint8_t)default_level(code);
        a->data[a->data_len++] = (uint8_t)code;
    }
    return TC_OK;
}

static int parse_send_alert(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)tls13;
    json_object *v;
    int code = 0, level = 0;
    int rc = require(o, where, "alert");
    if (rc == TC_OK && json_object_object_get_ex(o, "alert", &v))
        rc = alert_value(v, where, "alert", &code);
    if (rc == TC_OK)
        rc = level_value(o, where, default_level(code), &level);
    if (rc == TC_OK)
        rc = get_size(o, where, "fragment", 0, 1, MAX_RECORD_CONTENT, &a->fragment);
    if (rc == TC_OK)
        rc = alloc_data(a, 2);
    if (rc < 0)
        return rc;
    a->data[a->data_len++] = (uint8_t)level;
    a->data[a->data_len++] = (uint8_t)code;
    rc = parse_coalesce(a, o, where);
    return rc == TC_OK ? append_hex(o, where, "trailing", &a->data, &a->data_len) : rc;
}

static int parse_send_keyupdate(peer_action *a, json_object *o, const char *where, bool tls13)
{
    if (!tls13)
        return tc_err_set(TC_ERR_USAGE, "%s: KeyUpdate exists only in TLS 1.3", where);
    return tc_json_bool(o, where, "request", false, &a->request);
}

/* The message's role is checked when it is built (the script does not know
 * the peer's role); its TLS version here. */
static int parse_send_handshake(peer_action *a, json_object *o, const char *where, bool tls13)
{
    const char *msg = NULL;
    int rc = require(o, where, "msg");
    if (rc == TC_OK)
        rc = tc_json_str(o, where, "msg", "", &msg);
    if (rc == TC_OK && hs_msg_parse(msg, &a->msg) < 0) {
        char why[256];
        snprintf(why, sizeof why, "%s", tc_err_msg());
        return tc_err_set(TC_ERR_USAGE, "%s: %s", where, why);
    }
    if (rc == TC_OK && !hs_msg_fits_version(a->msg, tls13))
        return tc_err_set(TC_ERR_USAGE, "%s: field 'msg': %s is not a TLS %s message", where,
                          msg, tls13 ? "1.3" : "1.2");
    if (rc == TC_OK)
        rc = get_size(o, where, "part", 0, 1, HS_MSG_MAX, &a->part);
    return rc;
}

static int parse_partial(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)tls13;
    return get_size(o, where, "bytes", 100, 1, MAX_RECORD_CONTENT, &a->bytes);
}

static int parse_raw(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)tls13;
    int rc = require(o, where, "hex");
    return rc == TC_OK ? append_hex(o, where, "hex", &a->data, &a->data_len) : rc;
}

static int parse_text(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)tls13;
    const char *text = NULL;
    int rc = require(o, where, "text");
    if (rc == TC_OK)
        rc = tc_json_str(o, where, "text", "", &text);
    if (rc == TC_OK && !*text)
        rc = tc_err_set(TC_ERR_USAGE, "%s: field 'text': must not be empty", where);
    if (rc == TC_OK)
        rc = alloc_data(a, strlen(text));
    if (rc < 0)
        return rc;
    a->data_len = strlen(text);
    memcpy(a->data, text, a->data_len);
    return TC_OK;
}

static int parse_expect_data(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)tls13;
    int rc = require(o, where, "bytes");
    return rc == TC_OK ? get_size(o, where, "bytes", 0, 1, MAX_DATA_BYTES, &a->bytes) : rc;
}

static int parse_marker(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)tls13;
    int rc = require(o, where, "marker");
    if (rc == TC_OK)
        rc = tc_json_str(o, where, "marker", "", &a->marker);
    if (rc == TC_OK && (!*a->marker || strlen(a->marker) > MAX_MARKER || strchr(a->marker, '\n')))
        rc = tc_err_set(TC_ERR_USAGE, "%s: field 'marker': 1..%d characters, no newline", where, MAX_MARKER);
    return rc;
}

/* ---- HTTP actions ---- */

/* A message from http.h ("field 'cut': ...") with the action in front. */
static int http_field_error(const char *where)
{
    char msg[384];
    snprintf(msg, sizeof msg, "%s", tc_err_msg());
    return tc_err_set(TC_ERR_USAGE, "%s: %s", where, msg);
}

static int http_names(json_object *o, const char *where, http_framing def, peer_http *h)
{
    const char *framing = NULL, *cut = NULL;
    int rc = tc_json_str(o, where, "cut", "none", &cut);
    if (rc == TC_OK && http_cut_parse(cut, &h->cut) < 0)
        rc = http_field_error(where);
    h->framing = def;
    if (rc == TC_OK && json_object_object_get_ex(o, "framing", NULL)) {
        rc = tc_json_str(o, where, "framing", "", &framing);
        if (rc == TC_OK && http_framing_parse(framing, &h->framing) < 0)
            rc = http_field_error(where);
    }
    return rc;
}

/* The fields both sending actions have. */
static int http_common(json_object *o, const char *where, http_framing def, peer_http *h)
{
    int64_t body = 0;
    int rc = tc_json_int(o, where, "body_bytes", 0, 0, HTTP_BODY_MAX, &body);
    h->body_bytes = (uint64_t)body;
    if (rc == TC_OK)
        rc = get_size(o, where, "chunk", HTTP_DEFAULT_CHUNK, 1, HTTP_BODY_MAX, &h->chunk);
    if (rc == TC_OK)
        rc = get_size(o, where, "record", MAX_RECORD_CONTENT, 1, MAX_RECORD_CONTENT, &h->record);
    if (rc == TC_OK)
        rc = tc_json_bool(o, where, "cut_in_record", false, &h->cut_in_record);
    if (rc == TC_OK)
        rc = http_names(o, where, def, h);
    if (rc == TC_OK && h->framing != HTTP_FRAMING_CHUNKED && json_object_object_get_ex(o, "chunk", NULL))
        rc = tc_err_set(TC_ERR_USAGE, "%s: field 'chunk': only with chunked framing", where);
    return rc;
}

int peer_http_message(const peer_action *a, http_out *m)
{
    const peer_http *h = &a->http;
    if (a->kind == ACT_HTTP_SEND_RESPONSE)
        return http_out_response(m, h->status, h->framing, h->body_bytes, h->chunk);
    return http_out_request(m, h->method, h->target, h->host, h->framing, h->body_bytes, h->chunk);
}

/* Builds the message once, so every combination that cannot be sent is
 * refused here: a cut that does not apply, a partial record with nothing
 * after the cut. */
static int http_check_message(const peer_action *a, const char *where)
{
    http_out m;
    uint64_t cut = 0;
    if (peer_http_message(a, &m) < 0 || http_out_cut(&m, a->http.cut, &cut) < 0)
        return http_field_error(where);
    if (a->http.cut_in_record && cut >= http_out_total(&m))
        return tc_err_set(TC_ERR_USAGE, "%s: field 'cut_in_record': no message bytes follow the "
                          "cut (give a 'cut')", where);
    return TC_OK;
}

static int parse_http_response(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)tls13;
    int64_t status = 200;
    int rc = tc_json_int(o, where, "status", 200, 200, 599, &status);
    a->http.status = (int)status;
    if (rc == TC_OK)
        rc = http_common(o, where, HTTP_FRAMING_LENGTH, &a->http);
    return rc == TC_OK ? http_check_message(a, where) : rc;
}

static int parse_http_request(peer_action *a, json_object *o, const char *where, bool tls13)
{
    (void)tls13;
    peer_http *h = &a->http;
    int rc = tc_json_str(o, where, "method", "GET", &h->method);
    if (rc == TC_OK)
        rc = tc_json_str(o, where, "target", "/", &h->target);
    if (rc == TC_OK)
        rc = tc_json_str(o, where, "host", "localhost", &h->host);
    if (rc == TC_OK)
        rc = http_common(o, where, strcmp(h->method, "POST") == 0 ? HTTP_FRAMING_LENGTH
                                                                   : HTTP_FRAMING_NONE, h);
    return rc == TC_OK ? http_check_message(a, where) : rc;
}

/* ---- the action table ---- */

#define KEYS(...) ((const char *const[]){"do", "timeout_ms", __VA_ARGS__, NULL})
#define NO_KEYS ((const char *const[]){"do", "timeout_ms", NULL})

static const action_spec specs[] = {
    {"send_data", ACT_SEND_DATA, KEYS("bytes", "records", "hold"), parse_send_data},
    {"send_alert", ACT_SEND_ALERT, KEYS("alert", "level", "fragment", "trailing", "coalesce", "hold"),
     parse_send_alert},
    {"send_keyupdate", ACT_SEND_KEYUPDATE, KEYS("request", "hold"), parse_send_keyupdate},
    {"send_handshake", ACT_SEND_HANDSHAKE, KEYS("msg", "part", "hold"), parse_send_handshake},
    {"send_partial_record", ACT_SEND_PARTIAL_RECORD, KEYS("bytes"), parse_partial},
    {"send_raw", ACT_SEND_RAW, KEYS("hex", "hold"), parse_raw},
    {"send_plaintext", ACT_SEND_PLAINTEXT, KEYS("text", "hold"), parse_text},
    {"fin", ACT_FIN, NO_KEYS, parse_nothing},
    {"rst", ACT_RST, NO_KEYS, parse_nothing},
    {"expect_data", ACT_EXPECT_DATA, KEYS("bytes"), parse_expect_data},
    {"expect_close_notify", ACT_EXPECT_CLOSE_NOTIFY, NO_KEYS, parse_nothing},
    {"expect_eof", ACT_EXPECT_EOF, NO_KEYS, parse_nothing},
    {"expect_rst", ACT_EXPECT_RST, NO_KEYS, parse_nothing},
    {"expect_plaintext", ACT_EXPECT_PLAINTEXT, KEYS("text"), parse_text},
    {"expect_silence", ACT_EXPECT_SILENCE, NO_KEYS, parse_nothing},
    {"read_all", ACT_READ_ALL, NO_KEYS, parse_nothing},
    {"stop_reading", ACT_STOP_READING, NO_KEYS, parse_nothing},
    {"signal_sut", ACT_SIGNAL_SUT, KEYS("marker"), parse_marker},
    {"wait_marker", ACT_WAIT_MARKER, KEYS("marker"), parse_marker},
    {"close", ACT_CLOSE, NO_KEYS, parse_nothing},
    {"next_connection", ACT_NEXT_CONNECTION, NO_KEYS, parse_nothing},
    {"http_read_request", ACT_HTTP_READ_REQUEST, NO_KEYS, parse_nothing},
    {"http_send_response", ACT_HTTP_SEND_RESPONSE,
     KEYS("status", "framing", "body_bytes", "chunk", "record", "cut", "cut_in_record"),
     parse_http_response},
    {"http_send_request", ACT_HTTP_SEND_REQUEST,
     KEYS("method", "target", "host", "framing", "body_bytes", "chunk", "record", "cut",
          "cut_in_record"),
     parse_http_request},
    {"http_read_response", ACT_HTTP_READ_RESPONSE, NO_KEYS, parse_nothing},
};

static const action_spec *find_spec(const char *name)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strcmp(specs[i].name, name) == 0)
            return &specs[i];
    return NULL;
}

static int parse_action(peer_action *a, json_object *o, size_t n, bool tls13)
{
    char where[96];
    const char *what = NULL;
    snprintf(where, sizeof where, "action %zu", n);
    if (!json_object_is_type(o, json_type_object))
        return tc_err_set(TC_ERR_USAGE, "%s: expected an object", where);
    int rc = require(o, where, "do");
    if (rc == TC_OK)
        rc = tc_json_str(o, where, "do", "", &what);
    if (rc < 0)
        return rc;
    const action_spec *spec = find_spec(what);
    if (!spec)
        return tc_err_set(TC_ERR_USAGE, "%s: unknown action '%s'", where, what);
    snprintf(where, sizeof where, "action %zu (%s)", n, spec->name);
    a->kind = spec->kind;
    a->name = spec->name;
    a->json = o;
    rc = tc_json_only_keys(o, where, spec->keys);
    if (rc == TC_OK)
        rc = tc_json_int(o, where, "timeout_ms", ACTION_DEFAULT_TIMEOUT_MS, 0, MAX_TIMEOUT_MS,
                         &a->timeout_ms);
    if (rc == TC_OK)
        rc = tc_json_bool(o, where, "hold", false, &a->hold); /* only where KEYS allow it */
    return rc == TC_OK ? spec->parse(a, o, where, tls13) : rc;
}

static int parse_actions(peer_script *s, json_object *list, bool tls13)
{
    if (!json_object_is_type(list, json_type_array))
        return tc_err_set(TC_ERR_USAGE, "script: field 'actions': expected a list");
    size_t n = json_object_array_length(list);
    s->actions = calloc(n ? n : 1, sizeof *s->actions);
    if (!s->actions)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    for (; s->n < n; s->n++) {
        int rc = parse_action(&s->actions[s->n], json_object_array_get_idx(list, s->n), s->n + 1, tls13);
        if (rc < 0) {
            s->n++; /* so that peer_script_free releases what it holds */
            return rc;
        }
    }
    return TC_OK;
}

/* ---- the script ---- */

static const char *const action_script_keys[] = {"actions", "answer_keyupdate", "session_tickets",
                                                 "handshake_may_fail", "handshake_after_marker",
                                                 NULL};

/* The marker the first handshake waits for: the SUT's first flight stays
 * unread until the SUT says it has done what the case wants done first. */
static int parse_handshake_marker(peer_script *s, json_object *root)
{
    if (!json_object_object_get_ex(root, "handshake_after_marker", NULL))
        return TC_OK;
    int rc = tc_json_str(root, "script", "handshake_after_marker", "", &s->handshake_marker);
    if (rc == TC_OK && (!*s->handshake_marker || strlen(s->handshake_marker) > MAX_MARKER ||
                        strchr(s->handshake_marker, '\n')))
        rc = tc_err_set(TC_ERR_USAGE, "script: field 'handshake_after_marker': 1..%d characters, "
                        "no newline", MAX_MARKER);
    return rc;
}

static int parse_root(peer_script *s, json_object *root, bool tls13)
{
    json_object *actions;
    if (!json_object_is_type(root, json_type_object))
        return tc_err_set(TC_ERR_USAGE, "script: expected a JSON object");
    bool has_actions = json_object_object_get_ex(root, "actions", &actions);
    bool has_persona = json_object_object_get_ex(root, "personality", NULL);
    if (has_actions == has_persona)
        return tc_err_set(TC_ERR_USAGE, "script: give exactly one of 'actions' and 'personality'");
    int rc = tc_json_bool(root, "script", "answer_keyupdate", true, &s->answer_keyupdate);
    if (rc == TC_OK)
        rc = tc_json_bool(root, "script", "session_tickets", true, &s->session_tickets);
    if (rc == TC_OK)
        rc = tc_json_bool(root, "script", "handshake_may_fail", false, &s->handshake_may_fail);
    if (rc < 0)
        return rc;
    if (has_actions) {
        rc = tc_json_only_keys(root, "script", action_script_keys);
        if (rc == TC_OK)
            rc = parse_handshake_marker(s, root);
        return rc == TC_OK ? parse_actions(s, actions, tls13) : rc;
    }
    rc = personality_expand(root, &s->expanded);
    return rc == TC_OK ? parse_actions(s, s->expanded, tls13) : rc;
}

int peer_script_parse(peer_script *s, json_object *root, bool tls13)
{
    memset(s, 0, sizeof *s);
    s->root = root;
    int rc = parse_root(s, root, tls13);
    if (rc < 0)
        peer_script_free(s);
    return rc;
}

int peer_script_load(peer_script *s, const char *path, bool tls13)
{
    json_object *root = NULL;
    memset(s, 0, sizeof *s);
    int rc = tc_json_load_file(path, &root);
    return rc == TC_OK ? peer_script_parse(s, root, tls13) : rc;
}

void peer_script_free(peer_script *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->actions[i].records);
        free(s->actions[i].data);
    }
    free(s->actions);
    if (s->expanded)
        json_object_put(s->expanded);
    if (s->root)
        json_object_put(s->root);
    memset(s, 0, sizeof *s);
}
