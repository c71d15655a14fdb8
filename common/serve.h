/* serve: persistent mode (`--serve`), shared by the mock peer and every C
 * shim (docs/shim-protocol.md "Persistent mode", docs/peer.md).
 *
 * The server reads one JSON request per line on standard input,
 *     {"cell": "ID", "args": [ARGS...], "script": SCRIPT}
 * and runs each cell in a child process forked for it, one cell at a time:
 * the child starts from the server's state after its one-time
 * initialisation (loaded code, nothing a cell did), runs the same code as a
 * per-process run with argv rebuilt from "args" and the script given
 * inline, prints its lines on the shared standard output and exits. The
 * server waits for it, and when the child died of a signal or exited
 * without printing its end line, prints the end line for it. Then it reads
 * the next request; at EOF it exits 0.
 *
 * The server makes itself the leader of its own process group (unless its
 * standard input is a terminal), so a harness ends the server and its
 * running cell with one kill of the group; a child also gets SIGKILL when
 * the server dies (PR_SET_PDEATHSIG), so none outlives it.
 *
 * A request that is not one (not JSON, a field missing or of the wrong
 * type) gets an end line with exit 2 from the server itself, and the server
 * goes on. A line {"marker": ...} between cells is a marker the last cell
 * never waited for: it is dropped (noted on standard error). */
#ifndef TLSCLOSE_SERVE_H
#define TLSCLOSE_SERVE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "lines.h"

#define TC_SERVE_MAX_ARGS 64
#define TC_SERVE_MAX_LINE (16 * 1024 * 1024)

typedef struct {
    const char *cell;    /* the request's "cell" */
    int argc;
    char **argv;         /* argv[0] is the server's program name, then "args";
                            argv[argc] is NULL */
    json_object *script; /* the request's "script" (borrowed) */
} tc_serve_request;

typedef struct {
    const char *program; /* argv[0] of every cell */
    void *ctx;           /* passed to every hook */
    /* Once, before the first request (optional): e.g. OpenSSL's own
     * initialisation, so that no cell pays for it. Never per-cell state. */
    int (*preinit)(void *ctx);
    /* In the server, just before each fork (optional): e.g. a clock that
     * the child and the server's own end line both count from, or reading
     * the credentials the request names once for all cells. Nothing a cell
     * could change. */
    void (*cell_start)(void *ctx, const tc_serve_request *req);
    /* In the child: runs the cell and returns its exit code. The cell's end
     * line is printed with tc_serve_end_fields and tc_serve_end_printed. */
    int (*run_cell)(void *ctx, const tc_serve_request *req);
    /* In the server: prints an end line on a cell's behalf (a bad request,
     * a crashed child, a child that exited without one). status is "error"
     * or "crash"; message may be NULL; the line gets its "signal", "exit"
     * and "cell" fields from tc_serve_end_fields. */
    void (*server_end)(void *ctx, const char *status, const char *message, int exit_code,
                       const char *signal);
} tc_serve_ops;

/* Runs the server until EOF on standard input: 0, or 4 when the server
 * itself cannot go on (preinit failed, standard input unreadable). */
int tc_serve_main(const tc_serve_ops *ops);

/* Whether this process runs a cell of a server (the child), or the server
 * is printing a cell's end line: then end lines carry "exit" and "cell". */
bool tc_serve_active(void);

/* Adds to an end line, in this order: "signal" (when not NULL), "exit"
 * (null when exit_code < 0) and "cell". Only while tc_serve_active(). */
void tc_serve_end_fields(json_object *end, int exit_code, const char *signal);

/* Tells the server the cell's end line is out (call right after printing
 * it), so the server prints none for it. */
void tc_serve_end_printed(void);

/* The server's standard input: a cell reads its markers from it. */
tc_lines *tc_serve_input(void);

/* "SIGSEGV" for SIGSEGV; "SIG<n>" for a signal without a name here. */
const char *tc_signal_name(int sig, char buf[16]);

#endif
