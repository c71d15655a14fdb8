/* jsonio: reading scripts and writing event lines, on top of json-c.
 *
 * Scripts (the peer's actions, a shim's steps) are JSON arrays of objects.
 * The getters below check type and range and, on failure, set a message that
 * names the item and the field ("step 3 (write): field 'bytes': expected a
 * non-negative integer"), so a malformed script is reported precisely.
 *
 * Output is one JSON object per line on stdout, flushed at once, because the
 * harness reads the lines as they come and a process killed at its deadline
 * must still have reported everything it did before. */
#ifndef TLSCLOSE_JSONIO_H
#define TLSCLOSE_JSONIO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* Reads a whole file and parses it. On success *out owns the value (release
 * with json_object_put). TC_ERR_USAGE with a message naming the file. */
int tc_json_load_file(const char *path, json_object **out);

/* Parses a JSON text given inline. */
int tc_json_parse(const char *text, const char *what, json_object **out);

/* Field getters. `where` names the item for messages ("step 3 (write)").
 * A missing field takes the default; a field of the wrong type or out of
 * [min,max] is TC_ERR_USAGE. */
int tc_json_int(json_object *obj, const char *where, const char *field,
                int64_t def, int64_t min, int64_t max, int64_t *out);
int tc_json_bool(json_object *obj, const char *where, const char *field, bool def, bool *out);
/* *out points into obj (valid while obj lives); NULL default allowed. */
int tc_json_str(json_object *obj, const char *where, const char *field,
                const char *def, const char **out);

/* Fails (TC_ERR_USAGE) if obj has a key not in the NULL-terminated list:
 * an unknown knob is a typo, never silently ignored. */
int tc_json_only_keys(json_object *obj, const char *where, const char *const *allowed);

/* Writes obj as one line on stdout, flushes, and releases obj. */
void tc_json_emit(json_object *obj);

/* Convenience for building event objects. */
void tc_json_set_str(json_object *obj, const char *key, const char *val);
void tc_json_set_int(json_object *obj, const char *key, int64_t val);
void tc_json_set_bool(json_object *obj, const char *key, bool val);
/* Lowercase hex of at most max_bytes of buf (the rest is elided). */
void tc_json_set_hex(json_object *obj, const char *key, const uint8_t *buf, size_t len, size_t max_bytes);

#endif
