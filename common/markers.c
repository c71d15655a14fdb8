#include "markers.h"

#include "tc_err.h"
#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

void tc_markers_init(tc_markers *m, int in_fd, int out_fd)
{
    memset(m, 0, sizeof *m);
    m->in_fd = in_fd;
    m->out_fd = out_fd;
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < TC_MARKER_MAX && !strchr(name, '\n');
}

int tc_marker_send(tc_markers *m, const char *name)
{
    if (m->out_fd < 0)
        return tc_err_set(TC_ERR_USAGE, "marker '%s': no marker pipe to write to (--marker-out)", name);
    if (!valid_name(name))
        return tc_err_set(TC_ERR_USAGE, "marker name must be 1-%d bytes without newline", TC_MARKER_MAX - 1);
    char line[TC_MARKER_MAX + 1];
    size_t n = strlen(name);
    memcpy(line, name, n);
    line[n] = '\n';
    if (write(m->out_fd, line, n + 1) != (ssize_t)(n + 1))
        return tc_err_set(TC_ERR_SYS, "marker write: %s", strerror(errno));
    return TC_OK;
}

/* Moves the first complete line out of the buffer; 1 if there was one. */
static int take_line(tc_markers *m, char got[TC_MARKER_MAX])
{
    char *nl = memchr(m->buf, '\n', (size_t)m->buf_len);
    if (!nl)
        return 0;
    int len = (int)(nl - m->buf);
    int keep = len < TC_MARKER_MAX ? len : TC_MARKER_MAX - 1;
    memcpy(got, m->buf, (size_t)keep);
    got[keep] = '\0';
    m->buf_len -= len + 1;
    memmove(m->buf, nl + 1, (size_t)m->buf_len);
    return 1;
}

int tc_marker_wait(tc_markers *m, const char *name, int64_t deadline, char got[TC_MARKER_MAX])
{
    if (m->in_fd < 0)
        return tc_err_set(TC_ERR_USAGE, "marker '%s': no marker pipe to read from (--marker-in)", name);
    got[0] = '\0';
    while (!take_line(m, got)) {
        if (m->buf_len == (int)sizeof m->buf)
            return tc_err_set(TC_ERR_MALFORMED, "marker line too long");
        int rc = tc_wait_fd(m->in_fd, POLLIN, deadline);
        if (rc < 0)
            return tc_err_set(rc, "deadline passed waiting for marker '%s'", name);
        ssize_t n = read(m->in_fd, m->buf + m->buf_len, sizeof m->buf - (size_t)m->buf_len);
        if (n == 0)
            return tc_err_set(TC_ERR_EOF, "marker '%s': the other side closed its marker pipe", name);
        if (n < 0 && errno != EINTR)
            return tc_err_set(TC_ERR_SYS, "marker read: %s", strerror(errno));
        if (n > 0)
            m->buf_len += (int)n;
    }
    if (strcmp(got, name) != 0)
        return tc_err_set(TC_ERR_MALFORMED, "expected marker '%s', got '%s'", name, got);
    return TC_OK;
}
