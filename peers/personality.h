/* personality: the named presets of docs/peer.md ("Personalities"),
 * expanded into the JSON actions a script could have spelt out.
 *
 * personality_expand() reads the script object's "personality" and its
 * parameters (checked strictly: unknown keys, wrong types and bad variants
 * are TC_ERR_USAGE naming "personality (NAME)" and the field) and returns a
 * new JSON array of action objects, which the caller owns and parses like
 * any other actions (peer_script.h). A "timeout_ms" parameter is copied
 * into every action. On failure *out may hold a partial array the caller
 * still releases. No other state, no I/O. */
#ifndef TLSCLOSE_PERSONALITY_H
#define TLSCLOSE_PERSONALITY_H

#include <json-c/json.h>

int personality_expand(json_object *root, json_object **out);

#endif
