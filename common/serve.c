#include "serve.h"

#include "jsonio.h"
#include "tc_err.h"
#include "transport.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

enum { EXIT_USAGE = 2, EXIT_SERVER_FAILED = 4 };

/* What the running cell shares with its server. end_printed lives in a
 * shared page: the child's end line is the one fact the server cannot see
 * in the child's exit status. */
static tc_lines input;
static bool cell_on;
static const char *cell_id;
static volatile int *end_printed;

bool tc_serve_active(void)
{
    return cell_on;
}

void tc_serve_end_fields(json_object *end, int exit_code, const char *signal)
{
    if (!cell_on)
        return;
    if (signal)
        tc_json_set_str(end, "signal", signal);
    json_object_object_add(end, "exit", exit_code >= 0 ? json_object_new_int(exit_code) : NULL);
    tc_json_set_str(end, "cell", cell_id);
}

void tc_serve_end_printed(void)
{
    if (cell_on && end_printed)
        *end_printed = 1;
}

tc_lines *tc_serve_input(void)
{
    return &input;
}

const char *tc_signal_name(int sig, char buf[16])
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGILL, "SIGILL"},   {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"},
        {SIGPIPE, "SIGPIPE"}, {SIGTRAP, "SIGTRAP"}, {SIGSYS, "SIGSYS"},   {SIGHUP, "SIGHUP"},
        {SIGQUIT, "SIGQUIT"}, {SIGALRM, "SIGALRM"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"},
        {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    snprintf(buf, 16, "SIG%d", sig);
    return buf;
}

/* ---- requests ------------------------------------------------------------ */

typedef struct {
    json_object *root;
    tc_serve_request req;
    char *argv[TC_SERVE_MAX_ARGS + 2];
} request;

static int parse_args(json_object *args, const char *program, request *r)
{
    if (!args || !json_object_is_type(args, json_type_array))
        return tc_err_set(TC_ERR_USAGE, "request: field 'args': an array of strings is required");
    size_t n = json_object_array_length(args);
    if (n > TC_SERVE_MAX_ARGS)
        return tc_err_set(TC_ERR_USAGE, "request: field 'args': at most %d arguments",
                          TC_SERVE_MAX_ARGS);
    r->argv[0] = (char *)program;
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(args, i);
        if (!json_object_is_type(a, json_type_string))
            return tc_err_set(TC_ERR_USAGE, "request: field 'args': item %zu is not a string", i);
        r->argv[i + 1] = (char *)json_object_get_string(a);
    }
    r->argv[n + 1] = NULL;
    r->req.argc = (int)n + 1;
    r->req.argv = r->argv;
    return TC_OK;
}

/* 1: a marker line, not a request. */
static int is_stray_marker(json_object *root)
{
    return json_object_is_type(root, json_type_object) && json_object_object_length(root) == 1 &&
           json_object_object_get_ex(root, "marker", NULL);
}

static int parse_request(const char *line, const char *program, request *r)
{
    static const char *const keys[] = {"cell", "args", "script", NULL};
    memset(r, 0, sizeof *r);
    int rc = tc_json_parse(line, "request", &r->root);
    if (rc < 0)
        return rc;
    if (is_stray_marker(r->root))
        return 1;
    json_object *v = NULL;
    /* The cell first: even a request with another problem names its cell. */
    if (json_object_is_type(r->root, json_type_object) &&
        json_object_object_get_ex(r->root, "cell", &v) && json_object_is_type(v, json_type_string))
        r->req.cell = json_object_get_string(v);
    rc = tc_json_only_keys(r->root, "request", keys);
    if (rc == TC_OK && !r->req.cell)
        rc = tc_err_set(TC_ERR_USAGE, "request: field 'cell': a string is required");
    if (rc == TC_OK)
        rc = parse_args(json_object_object_get(r->root, "args"), program, r);
    if (rc == TC_OK && !json_object_object_get_ex(r->root, "script", &r->req.script))
        rc = tc_err_set(TC_ERR_USAGE, "request: field 'script' is required");
    return rc;
}

/* ---- cells ------------------------------------------------------------------ */

static void server_end(const tc_serve_ops *ops, const char *status, const char *message,
                       int exit_code, const char *signal)
{
    if (message)
        fprintf(stderr, "%s: cell %s: %s\n", ops->program, cell_id ? cell_id : "(none)", message);
    ops->server_end(ops->ctx, status, message, exit_code, signal);
}

static void report_child(const tc_serve_ops *ops, int status)
{
    char msg[128], buf[16];
    if (*end_printed)
        return;
    if (WIFSIGNALED(status)) {
        const char *sig = tc_signal_name(WTERMSIG(status), buf);
        fprintf(stderr, "%s: cell %s: its process died of %s\n", ops->program, cell_id, sig);
        ops->server_end(ops->ctx, "crash", NULL, -1, sig);
        return;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_SERVER_FAILED;
    snprintf(msg, sizeof msg, "the cell's process exited with code %d without an end line", code);
    server_end(ops, "error", msg, code, NULL);
}

/* The child: dies with the server, runs the cell, never returns. */
static _Noreturn void child(const tc_serve_ops *ops, const request *r, pid_t server)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (getppid() != server) /* the server died before the line above */
        _exit(EXIT_SERVER_FAILED);
    int code = ops->run_cell(ops->ctx, &r->req);
    fflush(stdout);
    fflush(stderr);
    /* _exit: the server's atexit handlers (a library's cleanup) are the
     * server's business, not each cell's. */
    _exit(code & 0xff);
}

static void run_cell(const tc_serve_ops *ops, const request *r)
{
    fflush(stdout); /* nothing buffered may be printed twice */
    fflush(stderr);
    *end_printed = 0;
    if (ops->cell_start)
        ops->cell_start(ops->ctx, &r->req);
    pid_t server = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child(ops, r, server);
    if (pid < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "fork: %s", strerror(errno));
        server_end(ops, "error", msg, EXIT_SERVER_FAILED, NULL);
        return;
    }
    tc_lines_forget(&input); /* what was read ahead is the child's */
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            char msg[128];
            snprintf(msg, sizeof msg, "waitpid: %s", strerror(errno));
            server_end(ops, "error", msg, EXIT_SERVER_FAILED, NULL);
            return;
        }
    }
    report_child(ops, status);
}

static void serve_line(const tc_serve_ops *ops, const char *line)
{
    request r;
    int rc = parse_request(line, ops->program, &r);
    cell_on = true;
    cell_id = r.req.cell;
    if (rc == 1)
        fprintf(stderr, "%s: a marker arrived between cells and was dropped: %s\n", ops->program,
                line);
    else if (rc < 0)
        server_end(ops, "error", tc_err_msg(), EXIT_USAGE, NULL);
    else
        run_cell(ops, &r);
    cell_on = false;
    cell_id = NULL;
    if (r.root)
        json_object_put(r.root);
}

/* ---- the server --------------------------------------------------------- */

static void own_process_group(const char *program)
{
    /* A shell with job control already gives each job its own group, and a
     * group that is not the terminal's would be stopped reading it. */
    if (isatty(STDIN_FILENO) || getpgrp() == getpid())
        return;
    if (setpgid(0, 0) < 0)
        fprintf(stderr, "%s: setpgid: %s\n", program, strerror(errno));
}

static int setup(const tc_serve_ops *ops)
{
    tc_ignore_sigpipe();
    own_process_group(ops->program);
    void *page = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return tc_err_set(TC_ERR_SYS, "mmap: %s", strerror(errno));
    end_printed = page;
    tc_lines_init(&input, STDIN_FILENO);
    return ops->preinit ? ops->preinit(ops->ctx) : TC_OK;
}

int tc_serve_main(const tc_serve_ops *ops)
{
    int rc = setup(ops);
    for (char *line; rc == TC_OK;) {
        int n = tc_lines_next(&input, TC_SERVE_MAX_LINE, -1, &line);
        if (n == TC_ERR_EOF)
            break;
        if (n == TC_ERR_MALFORMED) {
            cell_on = true;
            server_end(ops, "error", "request: the line is longer than 16 MiB", EXIT_USAGE, NULL);
            cell_on = false;
        } else if (n < 0) {
            rc = n;
        } else if (line[strspn(line, " \t\r")] != '\0') {
            serve_line(ops, line);
        }
    }
    tc_lines_free(&input);
    if (rc == TC_OK)
        return 0;
    fprintf(stderr, "%s: serve: %s\n", ops->program, tc_err_msg());
    return EXIT_SERVER_FAILED;
}
