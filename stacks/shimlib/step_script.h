/* step_script: the SUT's step script (docs/shim-protocol.md §2), parsed and
 * validated before anything touches the network.
 *
 * Needs: a JSON file holding an array of step objects. Returns TC_OK with
 * every step decoded into a shim_step, or TC_ERR_USAGE with a message naming
 * the step, its op and the field ("step 3 (write): unknown field 'byte'").
 * An unknown op, an unknown field, a wrong type, a value out of range or a
 * contradictory combination (read with both `bytes` and `until`) is an
 * error: a typo never passes silently. Never checks what depends on the
 * stack or the command line (driver support, IO mode, connections left);
 * the runner does that. */
#ifndef TLSCLOSE_STEP_SCRIPT_H
#define TLSCLOSE_STEP_SCRIPT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim_driver.h" /* shim_option */

#define STEP_DEFAULT_TIMEOUT_MS 5000
#define STEP_MAX_BYTES (64 * 1024 * 1024)

typedef enum {
    OP_HANDSHAKE,
    OP_WRITE,
    OP_READ,
    OP_SHUTDOWN,
    OP_SHUTDOWN_QUIET,
    OP_SHUTDOWN_FULL,
    OP_GET_SHUTDOWN,
    OP_GET_ERROR_AFTER,
    OP_KEYUPDATE,
    OP_CLOSE_TRANSPORT,
    OP_FREE_WITHOUT_SHUTDOWN,
    OP_SESSION_RESUMABLE,
    OP_RESUME,
    OP_SIGNAL_PEER,
    OP_WAIT_PEER,
    OP_PLAINTEXT_WRITE,
    OP_PLAINTEXT_READ,
    OP_SET_OPTION,
    OP_CLEAR,
    OP_COUNT
} step_op;


typedef struct {
    step_op op;
    int64_t timeout_ms;
    bool nowait;
    bool until_blocked; /* write */
    bool until_close;   /* read: "until": "close" */
    bool request_peer;  /* keyupdate */
    int64_t bytes;      /* write: required; read: -1 when absent */
    const char *marker; /* signal_peer, wait_peer (points into the JSON) */
    const char *text;   /* plaintext_write, plaintext_read */
    shim_option option; /* set_option */
    bool context_scope; /* set_option: "scope": "context" (else the connection) */
} shim_step;

typedef struct {
    json_object *root;  /* owns the strings the steps point to */
    shim_step *steps;
    size_t count;
    size_t max_write;   /* the largest `bytes` of any write step */
} step_script;

int step_script_load(const char *path, step_script *out);

/* Same from a parsed value; takes ownership of root in every case. */
int step_script_from_json(json_object *root, step_script *out);

void step_script_free(step_script *s);

const char *step_op_name(step_op op);

const char *step_option_name(shim_option opt);

/* Whether the op makes a library call whose return value get_error_after
 * can query. */
bool step_op_calls_library(step_op op);

#endif
