#include "step_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonio.h"
#include "markers.h"
#include "tc_err.h"

typedef int (*step_decoder)(json_object *obj, const char *where, shim_step *st);

typedef struct {
    const char *name;
    const char *const *keys; /* allowed fields besides op and timeout_ms */
    step_decoder decode;     /* NULL: the op has no fields */
    bool calls_library;
} op_spec;

static int decode_nowait(json_object *obj, const char *where, shim_step *st)
{
    return tc_json_bool(obj, where, "nowait", false, &st->nowait);
}

static int decode_write(json_object *obj, const char *where, shim_step *st)
{
    int rc = tc_json_int(obj, where, "bytes", -1, 0, STEP_MAX_BYTES, &st->bytes);
    if (rc == TC_OK)
        rc = decode_nowait(obj, where, st);
    if (rc == TC_OK)
        rc = tc_json_bool(obj, where, "until_blocked", false, &st->until_blocked);
    if (rc < 0)
        return rc;
    if (st->bytes < 0)
        return tc_err_set(TC_ERR_USAGE, "%s: field 'bytes' is required", where);
    if (st->until_blocked && st->bytes == 0)
        return tc_err_set(TC_ERR_USAGE, "%s: 'until_blocked' needs 'bytes' of at least 1", where);
    if (st->until_blocked && st->nowait)
        return tc_err_set(TC_ERR_USAGE, "%s: 'until_blocked' and 'nowait' exclude each other", where);
    return TC_OK;
}

static int decode_read(json_object *obj, const char *where, shim_step *st)
{
    const char *until = NULL;
    int rc = tc_json_int(obj, where, "bytes", -1, 1, STEP_MAX_BYTES, &st->bytes);
    if (rc == TC_OK)
        rc = decode_nowait(obj, where, st);
    if (rc == TC_OK)
        rc = tc_json_str(obj, where, "until", NULL, &until);
    if (rc < 0)
        return rc;
    if (until && strcmp(until, "close") != 0)
        return tc_err_set(TC_ERR_USAGE, "%s: field 'until': only \"close\" is defined, got \"%s\"",
                          where, until);
    st->until_close = until != NULL;
    if (st->until_close && st->bytes >= 0)
        return tc_err_set(TC_ERR_USAGE, "%s: 'bytes' and 'until' exclude each other", where);
    if (st->until_close && st->nowait)
        return tc_err_set(TC_ERR_USAGE, "%s: 'until' and 'nowait' exclude each other", where);
    return TC_OK;
}

static int decode_keyupdate(json_object *obj, const char *where, shim_step *st)
{
    return tc_json_bool(obj, where, "request_peer", false, &st->request_peer);
}

static int decode_marker(json_object *obj, const char *where, shim_step *st)
{
    int rc = tc_json_str(obj, where, "marker", NULL, &st->marker);
    if (rc < 0)
        return rc;
    size_t n = st->marker ? strlen(st->marker) : 0;
    if (n == 0 || n >= TC_MARKER_MAX || strchr(st->marker, '\n'))
        return tc_err_set(TC_ERR_USAGE, "%s: field 'marker': required, 1-%d bytes, no newline",
                          where, TC_MARKER_MAX - 1);
    return TC_OK;
}

static int decode_text(json_object *obj, const char *where, shim_step *st)
{
    int rc = tc_json_str(obj, where, "text", NULL, &st->text);
    if (rc < 0)
        return rc;
    if (!st->text || !st->text[0])
        return tc_err_set(TC_ERR_USAGE, "%s: field 'text': a non-empty string is required", where);
    return TC_OK;
}

static const char *const option_names[SHIM_OPT_COUNT] = {
    [SHIM_OPT_IGNORE_UNEXPECTED_EOF] = "ignore_unexpected_eof",
    [SHIM_OPT_POST_HANDSHAKE_AUTH] = "post_handshake_auth",
    [SHIM_OPT_QUIET_SHUTDOWN] = "quiet_shutdown",
};

const char *step_option_name(shim_option opt)
{
    return opt < SHIM_OPT_COUNT ? option_names[opt] : "?";
}

static int decode_set_option(json_object *obj, const char *where, shim_step *st)
{
    const char *name = NULL, *scope = NULL;
    int rc = tc_json_str(obj, where, "option", NULL, &name);
    if (rc == TC_OK)
        rc = tc_json_str(obj, where, "scope", "connection", &scope);
    if (rc < 0)
        return rc;
    if (!name)
        return tc_err_set(TC_ERR_USAGE, "%s: field 'option' is required", where);
    int i = 0;
    while (i < SHIM_OPT_COUNT && strcmp(option_names[i], name) != 0)
        i++;
    if (i == SHIM_OPT_COUNT)
        return tc_err_set(TC_ERR_USAGE, "%s: field 'option': expected ignore_unexpected_eof, "
                          "post_handshake_auth or quiet_shutdown, got \"%s\"", where, name);
    if (strcmp(scope, "connection") != 0 && strcmp(scope, "context") != 0)
        return tc_err_set(TC_ERR_USAGE, "%s: field 'scope': expected connection or context, "
                          "got \"%s\"", where, scope);
    st->option = (shim_option)i;
    st->context_scope = strcmp(scope, "context") == 0;
    return TC_OK;
}

static const char *const k_none[] = {NULL};
static const char *const k_nowait[] = {"nowait", NULL};
static const char *const k_write[] = {"bytes", "nowait", "until_blocked", NULL};
static const char *const k_read[] = {"bytes", "until", "nowait", NULL};
static const char *const k_keyupdate[] = {"request_peer", NULL};
static const char *const k_marker[] = {"marker", NULL};
static const char *const k_text[] = {"text", NULL};
static const char *const k_option[] = {"option", "scope", NULL};

static const op_spec specs[OP_COUNT] = {
    [OP_HANDSHAKE] = {"handshake", k_nowait, decode_nowait, true},
    [OP_WRITE] = {"write", k_write, decode_write, true},
    [OP_READ] = {"read", k_read, decode_read, true},
    [OP_SHUTDOWN] = {"shutdown", k_nowait, decode_nowait, true},
    [OP_SHUTDOWN_QUIET] = {"shutdown_quiet", k_none, NULL, true},
    [OP_SHUTDOWN_FULL] = {"shutdown_full", k_nowait, decode_nowait, true},
    [OP_GET_SHUTDOWN] = {"get_shutdown", k_none, NULL, false},
    [OP_GET_ERROR_AFTER] = {"get_error_after", k_none, NULL, false},
    [OP_KEYUPDATE] = {"keyupdate", k_keyupdate, decode_keyupdate, true},
    [OP_CLOSE_TRANSPORT] = {"close_transport", k_none, NULL, false},
    [OP_FREE_WITHOUT_SHUTDOWN] = {"free_without_shutdown", k_none, NULL, false},
    [OP_SESSION_RESUMABLE] = {"session_resumable", k_none, NULL, false},
    [OP_RESUME] = {"resume", k_none, NULL, false},
    [OP_SIGNAL_PEER] = {"signal_peer", k_marker, decode_marker, false},
    [OP_WAIT_PEER] = {"wait_peer", k_marker, decode_marker, false},
    [OP_PLAINTEXT_WRITE] = {"plaintext_write", k_text, decode_text, false},
    [OP_PLAINTEXT_READ] = {"plaintext_read", k_text, decode_text, false},
    [OP_SET_OPTION] = {"set_option", k_option, decode_set_option, false},
    [OP_CLEAR] = {"clear", k_none, NULL, false},
};

const char *step_op_name(step_op op)
{
    return op < OP_COUNT ? specs[op].name : "?";
}

bool step_op_calls_library(step_op op)
{
    return op < OP_COUNT && specs[op].calls_library;
}

static int find_op(json_object *obj, const char *where, step_op *op)
{
    const char *name = NULL;
    if (!json_object_is_type(obj, json_type_object))
        return tc_err_set(TC_ERR_USAGE, "%s: expected an object", where);
    int rc = tc_json_str(obj, where, "op", NULL, &name);
    if (rc < 0)
        return rc;
    if (!name)
        return tc_err_set(TC_ERR_USAGE, "%s: field 'op' is required", where);
    for (int i = 0; i < OP_COUNT; i++) {
        if (strcmp(specs[i].name, name) == 0) {
            *op = (step_op)i;
            return TC_OK;
        }
    }
    return tc_err_set(TC_ERR_USAGE, "%s: unknown op '%s'", where, name);
}

/* The allowed keys of a step: its op's fields plus the two every step has. */
static int check_keys(json_object *obj, const char *where, const op_spec *spec)
{
    const char *allowed[8] = {"op", "timeout_ms"};
    size_t n = 2;
    for (const char *const *k = spec->keys; *k && n < 7; k++)
        allowed[n++] = *k;
    allowed[n] = NULL;
    return tc_json_only_keys(obj, where, allowed);
}

static int decode_step(json_object *obj, size_t index, shim_step *st)
{
    char where[64];
    snprintf(where, sizeof where, "step %zu", index + 1);
    memset(st, 0, sizeof *st);
    st->bytes = -1;
    int rc = find_op(obj, where, &st->op);
    if (rc < 0)
        return rc;
    const op_spec *spec = &specs[st->op];
    snprintf(where, sizeof where, "step %zu (%s)", index + 1, spec->name);
    rc = check_keys(obj, where, spec);
    if (rc == TC_OK)
        rc = tc_json_int(obj, where, "timeout_ms", STEP_DEFAULT_TIMEOUT_MS, 1, 3600000,
                         &st->timeout_ms);
    if (rc == TC_OK && spec->decode)
        rc = spec->decode(obj, where, st);
    return rc;
}

/* Ops that need the TLS object, and ops that need the socket. */
static bool needs_session(const shim_step *st)
{
    step_op op = st->op;
    return step_op_calls_library(op) || op == OP_GET_SHUTDOWN || op == OP_GET_ERROR_AFTER ||
           op == OP_SESSION_RESUMABLE || op == OP_FREE_WITHOUT_SHUTDOWN || op == OP_CLEAR ||
           (op == OP_SET_OPTION && !st->context_scope);
}

/* After `clear` the object waits for the next connection: only the queries
 * that do no IO may look at it until a `resume` attaches it. */
static bool allowed_after_clear(step_op op)
{
    return op == OP_GET_SHUTDOWN || op == OP_SESSION_RESUMABLE;
}

static bool needs_socket(step_op op)
{
    return op == OP_PLAINTEXT_WRITE || op == OP_PLAINTEXT_READ;
}

/* Rules that span steps: what a step needs must still exist. A `resume`
 * brings a fresh TLS object and socket. */
static int check_sequence(const step_script *s)
{
    size_t freed_at = 0, closed_at = 0, cleared_at = 0;
    for (size_t i = 0; i < s->count; i++) {
        step_op op = s->steps[i].op;
        const char *name = step_op_name(op);
        if (op == OP_GET_ERROR_AFTER && (i == 0 || !step_op_calls_library(s->steps[i - 1].op)))
            return tc_err_set(TC_ERR_USAGE,
                              "step %zu (get_error_after): the previous step must call the library "
                              "(handshake, write, read, shutdown*, keyupdate)", i + 1);
        if (freed_at && needs_session(&s->steps[i]))
            return tc_err_set(TC_ERR_USAGE, "step %zu (%s): the TLS object was freed by step %zu",
                              i + 1, name, freed_at);
        if (cleared_at && needs_session(&s->steps[i]) && !allowed_after_clear(op))
            return tc_err_set(TC_ERR_USAGE, "step %zu (%s): the TLS object was cleared by step "
                              "%zu and waits for a resume", i + 1, name, cleared_at);
        if (closed_at && needs_socket(op))
            return tc_err_set(TC_ERR_USAGE, "step %zu (%s): the transport was closed by step %zu",
                              i + 1, name, closed_at);
        if (op == OP_FREE_WITHOUT_SHUTDOWN)
            freed_at = i + 1;
        if (op == OP_CLOSE_TRANSPORT)
            closed_at = i + 1;
        if (op == OP_CLEAR)
            cleared_at = i + 1;
        if (op == OP_RESUME)
            freed_at = closed_at = cleared_at = 0;
    }
    return TC_OK;
}

static int decode_all(step_script *s)
{
    if (!json_object_is_type(s->root, json_type_array))
        return tc_err_set(TC_ERR_USAGE, "step script: expected a JSON array of steps");
    s->count = json_object_array_length(s->root);
    if (s->count == 0)
        return tc_err_set(TC_ERR_USAGE, "step script: no steps");
    s->steps = calloc(s->count, sizeof *s->steps);
    if (!s->steps)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    for (size_t i = 0; i < s->count; i++) {
        int rc = decode_step(json_object_array_get_idx(s->root, i), i, &s->steps[i]);
        if (rc < 0)
            return rc;
        if (s->steps[i].op == OP_WRITE && (size_t)s->steps[i].bytes > s->max_write)
            s->max_write = (size_t)s->steps[i].bytes;
    }
    return check_sequence(s);
}

int step_script_from_json(json_object *root, step_script *out)
{
    memset(out, 0, sizeof *out);
    out->root = root;
    int rc = decode_all(out);
    if (rc < 0)
        step_script_free(out);
    return rc;
}

int step_script_load(const char *path, step_script *out)
{
    json_object *root;
    memset(out, 0, sizeof *out);
    int rc = tc_json_load_file(path, &root);
    if (rc < 0)
        return rc;
    return step_script_from_json(root, out);
}

void step_script_free(step_script *s)
{
    free(s->steps);
    if (s->root)
        json_object_put(s->root);
    memset(s, 0, sizeof *s);
}
