#include "floor_spawn.h"

#include "tc_err.h"
#include "transport.h"

#include <errno.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILD_ARGS 16

extern char **environ;

/* The listener is close-on-exec and gone before the children start; the two
 * connected ends are inheritable and each child closes the other's. */
static int loopback_pair(int *client, int *server)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lst < 0)
        return tc_err_set(TC_ERR_SYS, "socket: %s", strerror(errno));
    *client = *server = -1;
    if (bind(lst, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lst, 1) < 0 ||
        getsockname(lst, (struct sockaddr *)&addr, &len) < 0 ||
        (*client = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        connect(*client, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        (*server = accept(lst, NULL, NULL)) < 0) {
        int rc = tc_err_set(TC_ERR_SYS, "loopback connection: %s", strerror(errno));
        if (*client >= 0)
            close(*client);
        close(lst);
        return rc;
    }
    close(lst);
    int rc = tc_set_nodelay(*client);
    if (rc == TC_OK)
        rc = tc_set_nodelay(*server);
    if (rc != TC_OK) {
        close(*client);
        close(*server);
    }
    return rc;
}

static int spawn_child(const char *self, const char *role, int keep, int drop,
                       char *const extra[], pid_t *pid)
{
    char fd_text[16];
    char *argv[MAX_CHILD_ARGS] = {(char *)self, "--child", (char *)role, "--fd", fd_text};
    int argc = 5;
    snprintf(fd_text, sizeof fd_text, "%d", keep);
    for (int i = 0; extra[i]; i++) {
        if (argc == MAX_CHILD_ARGS - 1)
            return tc_err_set(TC_ERR_USAGE, "too many child arguments");
        argv[argc++] = extra[i];
    }
    argv[argc] = NULL;
    posix_spawn_file_actions_t actions;
    int err = posix_spawn_file_actions_init(&actions);
    if (err == 0)
        err = posix_spawn_file_actions_addclose(&actions, drop);
    if (err == 0)
        err = posix_spawn(pid, self, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    return err ? tc_err_set(TC_ERR_SYS, "posix_spawn %s child: %s", role, strerror(err)) : TC_OK;
}

static int reap(pid_t pid, const char *role)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return tc_err_set(TC_ERR_SYS, "waitpid %s child: %s", role, strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return TC_OK;
    if (WIFSIGNALED(status))
        return tc_err_set(TC_ERR_SYS, "%s child killed by signal %d", role, WTERMSIG(status));
    return tc_err_set(TC_ERR_LIBRARY, "%s child exited with status %d", role, WEXITSTATUS(status));
}

int floor_spawn_pair(const char *self, char *const child_args[])
{
    int client = -1, server = -1;
    pid_t pids[2];
    int started = 0;
    int rc = loopback_pair(&client, &server);
    if (rc != TC_OK)
        return rc;
    rc = spawn_child(self, "server", server, client, child_args, &pids[0]);
    if (rc == TC_OK) {
        started = 1;
        rc = spawn_child(self, "client", client, server, child_args, &pids[1]);
        if (rc == TC_OK)
            started = 2;
    }
    /* Our copies go before the wait: an end still open here would keep the
     * connection alive after its child closes it. */
    close(client);
    close(server);
    int reaped = started > 0 ? reap(pids[0], "server") : TC_OK;
    char first[256];   /* the server's failure explains the client's, keep it */
    snprintf(first, sizeof first, "%s", tc_err_msg());
    int reaped_client = started > 1 ? reap(pids[1], "client") : TC_OK;
    if (rc == TC_OK && reaped != TC_OK)
        return tc_err_set(reaped, "%s", first);
    return rc == TC_OK ? reaped_client : rc;
}
