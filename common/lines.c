#include "lines.h"

#include "tc_err.h"
#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 4096

void tc_lines_init(tc_lines *l, int fd)
{
    memset(l, 0, sizeof *l);
    l->fd = fd;
}

void tc_lines_free(tc_lines *l)
{
    free(l->buf);
    tc_lines_init(l, l->fd);
}

void tc_lines_forget(tc_lines *l)
{
    l->len = 0;
    l->taken = 0;
    l->skipping = false;
}

static void drop_taken(tc_lines *l)
{
    if (l->taken == 0)
        return;
    l->len -= l->taken;
    memmove(l->buf, l->buf + l->taken, l->len);
    l->taken = 0;
}

static int wait_forever(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0)
        if (errno != EINTR)
            return tc_err_set(TC_ERR_SYS, "poll: %s", strerror(errno));
    return TC_OK;
}

/* One read(2) of at most READ_CHUNK bytes, after waiting for input. */
static int fill(tc_lines *l, int64_t deadline)
{
    if (l->cap - l->len < READ_CHUNK + 1) {
        size_t cap = l->cap ? l->cap * 2 : 2 * READ_CHUNK;
        char *grown = realloc(l->buf, cap);
        if (!grown)
            return tc_err_set(TC_ERR_SYS, "out of memory");
        l->buf = grown;
        l->cap = cap;
    }
    for (;;) {
        int rc = deadline >= 0 ? tc_wait_fd(l->fd, POLLIN, deadline) : wait_forever(l->fd);
        if (rc < 0)
            return rc;
        ssize_t n = read(l->fd, l->buf + l->len, READ_CHUNK);
        if (n > 0) {
            l->len += (size_t)n;
            return TC_OK;
        }
        if (n == 0) {
            l->eof = true;
            return TC_OK;
        }
        if (errno != EINTR && errno != EAGAIN)
            return tc_err_set(TC_ERR_SYS, "read: %s", strerror(errno));
    }
}

int tc_lines_next(tc_lines *l, size_t max, int64_t deadline, char **line)
{
    drop_taken(l);
    for (;;) {
        char *nl = l->len ? memchr(l->buf, '\n', l->len) : NULL;
        if (l->skipping) {
            /* The rest of a line that was too long goes, up to its end. */
            l->taken = nl ? (size_t)(nl - l->buf) + 1 : l->len;
            drop_taken(l);
            if (nl || l->eof) {
                l->skipping = false;
                return tc_err_set(TC_ERR_MALFORMED, "a line longer than %zu bytes", max);
            }
        } else if (nl || (l->eof && l->len > 0)) {
            size_t n = nl ? (size_t)(nl - l->buf) : l->len;
            l->taken = nl ? n + 1 : n;
            if (n > max)
                return tc_err_set(TC_ERR_MALFORMED, "a line longer than %zu bytes", max);
            l->buf[n] = '\0'; /* the newline's place, or the spare byte fill() keeps */
            *line = l->buf;
            return (int)n;
        } else if (l->len > max) {
            l->skipping = true;
            continue;
        } else if (l->eof) {
            return tc_err_set(TC_ERR_EOF, "end of input");
        }
        int rc = fill(l, deadline);
        if (rc < 0)
            return rc;
    }
}
