/* tlsclose-ctest-client: one ctest entry of the conformance matrix as a
 * thin client of the harness daemon (harness/commands/daemon.py).
 *
 *   tlsclose-ctest-client SOCKET PYTHON FRONT_DOOR RUN_ARG...
 *
 * Sends {"argv": [RUN_ARG...]} to the daemon listening on the Unix socket
 * SOCKET, prints the "output" of its answer and exits with its "exit".
 * Starting the Python harness costs more than the cells of one entry; the
 * daemon is started once by the matrix's ctest fixture. Without a daemon
 * (no socket at SOCKET) the entry runs the harness itself: exec PYTHON
 * FRONT_DOOR run RUN_ARG..., with the same result, only slower. A socket
 * nobody listens on (a daemon that ended without removing it) or one that
 * cannot be used is an error naming SOCKET, exit 3: a daemon that died under
 * the matrix is a fault to see, not to work around. Exit 3 too when the
 * daemon answered nothing readable (it ended during the run). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { EXIT_BROKEN = 3, EXIT_USAGE = 2 };

/* A connected socket, or -1 with errno saying why (ENOENT: no socket there). */
static int connect_to(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
        return fd;
    int err = errno;
    if (fd >= 0)
        close(fd);
    errno = err;
    return -1;
}

/* No daemon: the same run, by the harness itself. Returns only on failure. */
static int run_without_daemon(int argc, char **argv)
{
    char **exec_argv = calloc((size_t)argc + 1, sizeof *exec_argv);
    if (!exec_argv)
        return EXIT_BROKEN;
    exec_argv[0] = argv[2];
    exec_argv[1] = argv[3];
    exec_argv[2] = "run";
    for (int i = 4; i < argc; i++)
        exec_argv[i - 1] = argv[i];
    execv(argv[2], exec_argv);
    perror("tlsclose-ctest-client: exec");
    free(exec_argv);
    return EXIT_BROKEN;
}

static int send_all(int fd, const char *text)
{
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t n = write(fd, text, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        text += n;
        left -= (size_t)n;
    }
    return 0;
}

/* The request line: {"argv": [...]} and a newline. */
static char *request(int argc, char **argv)
{
    json_object *args = json_object_new_array();
    for (int i = 0; i < argc; i++)
        json_object_array_add(args, json_object_new_string(argv[i]));
    json_object *req = json_object_new_object();
    json_object_object_add(req, "argv", args);
    const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
    char *line = malloc(strlen(text) + 2);
    if (line)
        sprintf(line, "%s\n", text);
    json_object_put(req);
    return line;
}

/* Reads until the answer's newline (or the end); the caller frees. */
static char *read_answer(int fd)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                break;
            buf = bigger;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (memchr(buf + len - (size_t)n, '\n', (size_t)n))
            break;
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

static int show_answer(const char *text)
{
    json_object *ans = json_tokener_parse(text);
    json_object *exit_code, *output;
    if (!ans || !json_object_object_get_ex(ans, "exit", &exit_code) ||
        !json_object_object_get_ex(ans, "output", &output)) {
        fprintf(stderr, "tlsclose-ctest-client: the daemon's answer is not readable: %.200s\n",
                text);
        json_object_put(ans);
        return EXIT_BROKEN;
    }
    fputs(json_object_get_string(output), stdout);
    int code = json_object_get_int(exit_code);
    json_object_put(ans);
    return code;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: tlsclose-ctest-client SOCKET PYTHON FRONT_DOOR RUN_ARG...\n");
        return EXIT_USAGE;
    }
    int fd = connect_to(argv[1]);
    if (fd < 0 && errno == ENOENT)
        return run_without_daemon(argc, argv);
    if (fd < 0) {
        fprintf(stderr, "tlsclose-ctest-client: %s: no daemon answers on this socket (%s); "
                        "a daemon that ended without removing it leaves it behind: "
                        "`tlsclose daemon stop --socket %s` removes it\n",
                argv[1], strerror(errno), argv[1]);
        return EXIT_BROKEN;
    }
    char *line = request(argc - 4, argv + 4);
    char *answer = line && send_all(fd, line) == 0 ? read_answer(fd) : NULL;
    close(fd);
    int code = answer && *answer ? show_answer(answer) : EXIT_BROKEN;
    if (!answer || !*answer)
        fprintf(stderr, "tlsclose-ctest-client: no answer from the daemon at %s\n", argv[1]);
    free(line);
    free(answer);
    return code;
}
