#include "markers.h"

#include "jsonio.h"
#include "tc_err.h"
#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void tc_markers_init(tc_markers *m, int in_fd, int out_fd)
{
    memset(m, 0, sizeof *m);
    m->in_fd = in_fd;
    m->out_fd = out_fd;
}

void tc_markers_init_inband(tc_markers *m, tc_lines *in)
{
    tc_markers_init(m, -1, -1);
    m->inband = in;
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < TC_MARKER_MAX && !strchr(name, '\n');
}

static int send_inband(const char *name)
{
    json_object *o = json_object_new_object();
    tc_json_set_str(o, "marker", name);
    tc_json_emit(o);
    return TC_OK;
}

int tc_marker_send(tc_markers *m, const char *name)
{
    if (!valid_name(name))
        return tc_err_set(TC_ERR_USAGE, "marker name must be 1-%d bytes without newline", TC_MARKER_MAX - 1);
    if (m->inband)
        return send_inband(name);
    if (m->out_fd < 0)
        return tc_err_set(TC_ERR_USAGE, "marker '%s': no marker pipe to write to (--marker-out)", name);
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

/* The name a {"marker": NAME} line carries, into got. */
static int parse_inband(const char *line, char got[TC_MARKER_MAX])
{
    json_object *o = NULL, *v = NULL;
    int ok = tc_json_parse(line, "marker line", &o) == TC_OK &&
             json_object_is_type(o, json_type_object) && json_object_object_length(o) == 1 &&
             json_object_object_get_ex(o, "marker", &v) && json_object_is_type(v, json_type_string);
    if (ok)
        snprintf(got, TC_MARKER_MAX, "%s", json_object_get_string(v));
    else
        snprintf(got, TC_MARKER_MAX, "%s", line);
    if (o)
        json_object_put(o);
    return ok ? TC_OK : tc_err_set(TC_ERR_MALFORMED, "a line that is not a marker: %.60s", line);
}

/* What ended a wait that timed out: its deadline, or a stall notice. */
static const char *timeout_why(void)
{
    return tc_stall_ended_wait() ? "stalled" : "deadline passed";
}

static int wait_inband(tc_markers *m, const char *name, int64_t deadline, char got[TC_MARKER_MAX])
{
    char *line;
    int rc = tc_lines_next(m->inband, 4096, deadline, &line);
    if (rc == TC_ERR_EOF)
        return tc_err_set(rc, "marker '%s': the marker channel (standard input) closed", name);
    if (rc == TC_ERR_TIMEOUT)
        return tc_err_set(rc, "%s waiting for marker '%s'", timeout_why(), name);
    if (rc == TC_ERR_MALFORMED)
        return tc_err_set(rc, "marker '%s': a line of more than 4096 bytes arrived instead", name);
    if (rc < 0)
        return rc;
    rc = parse_inband(line, got);
    if (rc < 0) {
        char why[160];
        snprintf(why, sizeof why, "%s", tc_err_msg());
        return tc_err_set(rc, "expected marker '%s', got %s", name, why);
    }
    if (strcmp(got, name) != 0)
        return tc_err_set(TC_ERR_MALFORMED, "expected marker '%s', got '%s'", name, got);
    return TC_OK;
}

int tc_marker_wait(tc_markers *m, const char *name, int64_t deadline, char got[TC_MARKER_MAX])
{
    if (m->inband) {
        got[0] = '\0';
        return wait_inband(m, name, deadline, got);
    }
    if (m->in_fd < 0)
        return tc_err_set(TC_ERR_USAGE, "marker '%s': no marker pipe to read from (--marker-in)", name);
    got[0] = '\0';
    while (!take_line(m, got)) {
        if (m->buf_len == (int)sizeof m->buf)
            return tc_err_set(TC_ERR_MALFORMED, "marker line too long");
        int rc = tc_wait_fd(m->in_fd, POLLIN, deadline);
        if (rc < 0)
            return tc_err_set(rc, "%s waiting for marker '%s'", timeout_why(), name);
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
