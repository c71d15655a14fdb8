/* shim_args: the shim's command line (docs/shim-protocol.md §1).
 *
 * Needs: argv as main() got it. Returns TC_OK with every field filled in, or
 * TC_ERR_USAGE with a message naming the argument. Never opens a file or a
 * socket: it only records what was asked; the runner checks that the
 * descriptors and files work when it uses them.
 *
 * Persistent mode (`--serve`): a request's "args" are the same command line
 * without --script, --fd, --marker-in and --marker-out (the script comes
 * inline, connections from --connect, markers in-band);
 * shim_args_parse_cell parses them with the same code and rejects those
 * four as it rejects any unknown argument. */
#ifndef TLSCLOSE_SHIM_ARGS_H
#define TLSCLOSE_SHIM_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "shim_driver.h"
#include "transport.h"

#define SHIM_DEFAULT_DEADLINE_MS 10000

typedef struct {
    bool version_only;      /* --version: print the version line and exit */
    bool serve;             /* a cell of persistent mode: markers in-band,
                               the script inline */
    shim_config cfg;        /* role, version, IO mode, credentials, cipher */
    tc_transport transport; /* --fd or --connect */
    const char *script;     /* --script */
    int marker_in;          /* --marker-in, or -1 */
    int marker_out;         /* --marker-out, or -1 */
    int64_t deadline_ms;    /* --deadline-ms */
} shim_args;

int shim_args_parse(int argc, char **argv, shim_args *out);

/* The "args" of a persistent-mode request (argv[0] is the program). */
int shim_args_parse_cell(int argc, char **argv, shim_args *out);

/* "client"/"server", "1.2"/"1.3", "blocking"/... for the hello line. */
const char *shim_args_role(const shim_config *cfg);
const char *shim_args_tls(const shim_config *cfg);
const char *shim_args_io(shim_io io);

#endif
