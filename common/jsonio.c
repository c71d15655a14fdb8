#include "jsonio.h"

#include "tc_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tc_json_load_file(const char *path, json_object **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tc_err_set(TC_ERR_USAGE, "%s: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *grown = realloc(text, cap + 1);
            if (!grown) {
                free(text);
                fclose(f);
                return tc_err_set(TC_ERR_SYS, "%s: out of memory", path);
            }
            text = grown;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    text[len] = '\0';
    int rc = tc_json_parse(text, path, out);
    free(text);
    return rc;
}

int tc_json_parse(const char *text, const char *what, json_object **out)
{
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return tc_err_set(TC_ERR_SYS, "out of memory");
    *out = json_tokener_parse_ex(tok, text, (int)strlen(text));
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t offset = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success || !*out) {
        if (*out)
            json_object_put(*out);
        *out = NULL;
        if (jerr == json_tokener_continue)
            return tc_err_set(TC_ERR_USAGE, "%s: JSON ends too early", what);
        return tc_err_set(TC_ERR_USAGE, "%s: JSON error at byte %zu: %s", what, offset,
                          json_tokener_error_desc(jerr));
    }
    return TC_OK;
}

int tc_json_int(json_object *obj, const char *where, const char *field,
                int64_t def, int64_t min, int64_t max, int64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, field, &v)) {
        *out = def;
        return TC_OK;
    }
    if (!json_object_is_type(v, json_type_int))
        return tc_err_set(TC_ERR_USAGE, "%s: field '%s': expected an integer", where, field);
    errno = 0;
    int64_t n = json_object_get_int64(v);
    if (errno || n < min || n > max)
        return tc_err_set(TC_ERR_USAGE, "%s: field '%s': %lld is outside %lld..%lld", where, field,
                          (long long)n, (long long)min, (long long)max);
    *out = n;
    return TC_OK;
}

int tc_json_bool(json_object *obj, const char *where, const char *field, bool def, bool *out)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, field, &v)) {
        *out = def;
        return TC_OK;
    }
    if (!json_object_is_type(v, json_type_boolean))
        return tc_err_set(TC_ERR_USAGE, "%s: field '%s': expected true or false", where, field);
    *out = json_object_get_boolean(v);
    return TC_OK;
}

int tc_json_str(json_object *obj, const char *where, const char *field,
                const char *def, const char **out)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, field, &v)) {
        *out = def;
        return TC_OK;
    }
    if (!json_object_is_type(v, json_type_string))
        return tc_err_set(TC_ERR_USAGE, "%s: field '%s': expected a string", where, field);
    *out = json_object_get_string(v);
    return TC_OK;
}

int tc_json_only_keys(json_object *obj, const char *where, const char *const *allowed)
{
    if (!json_object_is_type(obj, json_type_object))
        return tc_err_set(TC_ERR_USAGE, "%s: expected an object", where);
    json_object_object_foreach(obj, key, val) {
        (void)val;
        const char *const *a = allowed;
        while (*a && strcmp(*a, key) != 0)
            a++;
        if (!*a)
            return tc_err_set(TC_ERR_USAGE, "%s: unknown field '%s'", where, key);
    }
    return TC_OK;
}

void tc_json_emit(json_object *obj)
{
    fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
    fputc('\n', stdout);
    fflush(stdout);
    json_object_put(obj);
}

void tc_json_set_str(json_object *obj, const char *key, const char *val)
{
    json_object_object_add(obj, key, val ? json_object_new_string(val) : NULL);
}

void tc_json_set_int(json_object *obj, const char *key, int64_t val)
{
    json_object_object_add(obj, key, json_object_new_int64(val));
}

void tc_json_set_bool(json_object *obj, const char *key, bool val)
{
    json_object_object_add(obj, key, json_object_new_boolean(val));
}

void tc_json_set_hex(json_object *obj, const char *key, const uint8_t *buf, size_t len, size_t max_bytes)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = len < max_bytes ? len : max_bytes;
    char text[2 * 64 + 1];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        text[2 * i] = digits[buf[i] >> 4];
        text[2 * i + 1] = digits[buf[i] & 15];
    }
    text[2 * n] = '\0';
    tc_json_set_str(obj, key, text);
}
