/* lines: newline-terminated lines read from a descriptor with read(2).
 *
 * Why not stdio: in persistent mode (serve.h) a server reads its requests
 * from standard input and the process that runs a cell, a fork of the
 * server, reads that cell's markers from the same descriptor. A stdio
 * buffer would swallow bytes meant for the other process. Here every byte
 * read is in one plain buffer that fork() copies: the child goes on with
 * what the server had read ahead, and the server forgets it
 * (tc_lines_forget) so that no byte is taken twice.
 *
 * Never reads past what it needs to find one newline; never waits past the
 * deadline it is given. */
#ifndef TLSCLOSE_LINES_H
#define TLSCLOSE_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int fd;
    char *buf;        /* bytes read and not yet returned as a line */
    size_t len;
    size_t cap;
    size_t taken;     /* the line returned last (with its newline): dropped by the next call */
    bool eof;         /* read(2) returned 0 */
    bool skipping;    /* discarding the rest of a line that was too long */
} tc_lines;

void tc_lines_init(tc_lines *l, int fd);
void tc_lines_free(tc_lines *l);

/* The next line, without its newline and NUL-terminated, in *line (valid
 * until the next call). A last line without newline before EOF counts as a
 * line. deadline < 0 waits as long as it takes. Returns the line's length,
 * or TC_ERR_EOF (no line left), TC_ERR_TIMEOUT, TC_ERR_MALFORMED (the line
 * was longer than max bytes: it is discarded up to its newline, so the next
 * call starts on the following line), TC_ERR_SYS. */
int tc_lines_next(tc_lines *l, size_t max, int64_t deadline, char **line);

/* Drops whatever is buffered: after a fork, the child owns those bytes. */
void tc_lines_forget(tc_lines *l);

#endif
