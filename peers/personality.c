#include "personality.h"

#include "jsonio.h"
#include "tc_err.h"

#include <stdio.h>
#include <string.h>

#define MAX_DATA_BYTES (64 * 1024 * 1024)
#define MAX_TIMEOUT_MS 3600000

static int get_size(json_object *o, const char *where, const char *field, int64_t def,
                    int64_t min, int64_t max, size_t *out)
{
    int64_t v;
    int rc = tc_json_int(o, where, field, def, min, max, &v);
    if (rc == TC_OK)
        *out = (size_t)v;
    return rc;
}

typedef struct {
    size_t bytes;
    const char *variant;
    size_t silence_ms;
} persona_params;

typedef int (*expand_fn)(json_object *out, const persona_params *p, const char *where);

static json_object *add(json_object *out, const char *what)
{
    json_object *o = json_object_new_object();
    tc_json_set_str(o, "do", what);
    json_object_array_add(out, o);
    return o;
}

static void add_data(json_object *out, size_t bytes)
{
    if (bytes > 0)
        tc_json_set_int(add(out, "send_data"), "bytes", (int64_t)bytes);
}

static void add_alert(json_object *out, const char *name)
{
    tc_json_set_str(add(out, "send_alert"), "alert", name);
}

static int expand_well_behaved(json_object *out, const persona_params *p, const char *where)
{
    (void)where;
    add_data(out, p->bytes);
    add(out, "expect_close_notify");
    add_alert(out, "close_notify");
    add(out, "close");
    return TC_OK;
}

static int expand_no_close_notify(json_object *out, const persona_params *p, const char *where)
{
    (void)where;
    add_data(out, p->bytes);
    add(out, "fin");
    add(out, "read_all");
    add(out, "close");
    return TC_OK;
}

static int expand_data_after_close(json_object *out, const persona_params *p, const char *where)
{
    if (strcmp(p->variant, "legal") == 0) {
        add(out, "expect_close_notify");
        add_data(out, p->bytes);
        add_alert(out, "close_notify");
        add(out, "close");
    } else if (strcmp(p->variant, "illegal") == 0) {
        add_alert(out, "close_notify");
        add_data(out, p->bytes);
        add(out, "fin");
        add(out, "read_all");
        add(out, "close");
    } else {
        return tc_err_set(TC_ERR_USAGE, "%s: field 'variant': expected \"legal\" or \"illegal\"", where);
    }
    return TC_OK;
}

static int expand_truncating(json_object *out, const persona_params *p, const char *where)
{
    add_data(out, p->bytes);
    if (strcmp(p->variant, "rst") == 0) {
        add(out, "rst");
        return TC_OK;
    }
    if (strcmp(p->variant, "mid-record") == 0)
        add(out, "send_partial_record");
    else if (strcmp(p->variant, "between-records") != 0)
        return tc_err_set(TC_ERR_USAGE, "%s: field 'variant': expected \"mid-record\", "
                          "\"between-records\" or \"rst\"", where);
    add(out, "fin");
    add(out, "read_all");
    add(out, "close");
    return TC_OK;
}

static int expand_quiet(json_object *out, const persona_params *p, const char *where)
{
    (void)where;
    add_data(out, p->bytes);
    tc_json_set_int(add(out, "read_all"), "timeout_ms", (int64_t)p->silence_ms);
    add(out, "close");
    return TC_OK;
}

typedef struct {
    const char *name;
    const char *const *keys;
    const char *default_variant;
    size_t default_bytes;
    expand_fn expand;
} persona_spec;

#define PKEYS(...) ((const char *const[]){"personality", "answer_keyupdate", "bytes", "timeout_ms", __VA_ARGS__, NULL})

static const persona_spec personas[] = {
    {"well-behaved", PKEYS(NULL), NULL, 0, expand_well_behaved},
    {"no-close-notify", PKEYS(NULL), NULL, 0, expand_no_close_notify},
    {"data-after-close", PKEYS("variant"), "legal", 100, expand_data_after_close},
    {"truncating", PKEYS("variant"), "mid-record", 0, expand_truncating},
    {"quiet", PKEYS("silence_ms"), NULL, 0, expand_quiet},
};

static const persona_spec *find_persona(const char *name)
{
    for (size_t i = 0; i < sizeof personas / sizeof personas[0]; i++)
        if (strcmp(personas[i].name, name) == 0)
            return &personas[i];
    return NULL;
}

/* A personality's timeout_ms applies to each of its actions that has none. */
static void apply_timeout(json_object *out, json_object *root)
{
    json_object *t;
    if (!json_object_object_get_ex(root, "timeout_ms", &t))
        return;
    for (size_t i = 0; i < json_object_array_length(out); i++) {
        json_object *a = json_object_array_get_idx(out, i);
        if (!json_object_object_get_ex(a, "timeout_ms", NULL))
            json_object_object_add(a, "timeout_ms", json_object_get(t));
    }
}

static int persona_params_get(json_object *root, const persona_spec *ps, const char *where,
                              persona_params *p)
{
    int rc = tc_json_only_keys(root, where, ps->keys);
    if (rc == TC_OK)
        rc = get_size(root, where, "bytes", (int64_t)ps->default_bytes, 0, MAX_DATA_BYTES, &p->bytes);
    if (rc == TC_OK)
        rc = tc_json_str(root, where, "variant", ps->default_variant, &p->variant);
    if (rc == TC_OK)
        rc = get_size(root, where, "silence_ms", 2000, 0, MAX_TIMEOUT_MS, &p->silence_ms);
    return rc;
}

int personality_expand(json_object *root, json_object **out)
{
    const char *name = NULL;
    char where[96];
    int rc = tc_json_str(root, "script", "personality", "", &name);
    if (rc < 0)
        return rc;
    const persona_spec *ps = find_persona(name);
    if (!ps)
        return tc_err_set(TC_ERR_USAGE, "script: unknown personality '%s'", name);
    snprintf(where, sizeof where, "personality (%s)", ps->name);
    persona_params p = {0};
    rc = persona_params_get(root, ps, where, &p);
    if (rc < 0)
        return rc;
    *out = json_object_new_array();
    rc = ps->expand(*out, &p, where);
    if (rc == TC_OK)
        apply_timeout(*out, root);
    return rc;
}
