/* markers: named synchronisation points between the mock peer and a shim.
 *
 * The harness gives each side one end of two pipes. A marker is one line of
 * text (its name, at most TC_MARKER_MAX-1 bytes, no newline). Markers make
 * orderings that would otherwise depend on timing explicit: "the SUT has
 * called SSL_shutdown once, now answer".
 *
 * In persistent mode (serve.h) markers travel in-band instead: a marker
 * sent is the JSON line {"marker": "NAME"} on standard output (the harness
 * forwards it), a marker received is such a line on standard input, read
 * through the server's line reader. */
#ifndef TLSCLOSE_MARKERS_H
#define TLSCLOSE_MARKERS_H

#include <stdint.h>

#include "lines.h"

#define TC_MARKER_MAX 64

typedef struct {
    int in_fd;   /* read markers from here, -1 if none */
    int out_fd;  /* write markers here, -1 if none */
    char buf[256]; /* bytes read but not yet returned as a line */
    int buf_len;
    tc_lines *inband; /* persistent mode: the line reader of standard input */
} tc_markers;

void tc_markers_init(tc_markers *m, int in_fd, int out_fd);

/* In-band markers over standard output and the reader `in`. */
void tc_markers_init_inband(tc_markers *m, tc_lines *in);

/* Writes "name\n": 0, TC_ERR_USAGE (no --marker-out or bad name), TC_ERR_SYS. */
int tc_marker_send(tc_markers *m, const char *name);

/* Waits for the next marker line before the deadline and checks that it is
 * `name`: 0, TC_ERR_TIMEOUT, TC_ERR_EOF (writer gone), TC_ERR_MALFORMED
 * (another marker arrived; got holds it; in-band also a line that is not
 * a marker), TC_ERR_USAGE (no --marker-in). */
int tc_marker_wait(tc_markers *m, const char *name, int64_t deadline, char got[TC_MARKER_MAX]);

#endif
