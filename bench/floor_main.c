/* tlsclose-floor: the cost floor of one conformance cell.
 *
 *   tlsclose-floor --cert FILE --key FILE [--reps N] [--deadline-ms MS]
 *
 * Repeats N times (default 200) what a cell cannot avoid (floor_spawn.h:
 * two freshly executed processes on a loopback TCP connection;
 * floor_session.h: a TLS 1.3 handshake, one record each way, a
 * bidirectional close_notify exchange) and prints one JSON line with the
 * wall time of every repetition and their median, in milliseconds. Exit 0,
 * 1 when a repetition fails (the message is on stderr), 2 on bad usage.
 * `--child client|server --fd N` is the children's internal mode. */
#include "floor_session.h"
#include "floor_spawn.h"
#include "jsonio.h"
#include "tc_err.h"
#include "transport.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPS 100000

typedef struct {
    const char *cert, *key, *child, *fd, *deadline_text;
    long reps, deadline_ms;
} floor_args;

static int usage(const char *why)
{
    fprintf(stderr, "tlsclose-floor: %s\nusage: tlsclose-floor --cert FILE --key FILE "
                    "[--reps N] [--deadline-ms MS]\n", why);
    return 2;
}

static int parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < min || v > max)
        return TC_ERR_USAGE;
    *out = v;
    return TC_OK;
}

static const char **slot(floor_args *a, const char *flag)
{
    static const char *const flags[] = {"--cert", "--key", "--child", "--fd", "--deadline-ms"};
    const char **slots[] = {&a->cert, &a->key, &a->child, &a->fd, &a->deadline_text};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcmp(flag, flags[i]) == 0)
            return slots[i];
    return NULL;
}

static int parse_args(int argc, char **argv, floor_args *a)
{
    const char *reps = "200";
    for (int i = 1; i < argc; i += 2) {
        const char **value = strcmp(argv[i], "--reps") == 0 ? &reps : slot(a, argv[i]);
        if (!value || i + 1 >= argc)
            return TC_ERR_USAGE;
        *value = argv[i + 1];
    }
    if (parse_long(reps, 1, MAX_REPS, &a->reps) < 0 ||
        parse_long(a->deadline_text, 100, 600000, &a->deadline_ms) < 0)
        return TC_ERR_USAGE;
    return a->cert && a->key ? TC_OK : TC_ERR_USAGE;
}

static int run_child(const floor_args *a)
{
    long fd;
    if (strcmp(a->child, "client") != 0 && strcmp(a->child, "server") != 0)
        return usage("--child is client or server");
    if (parse_long(a->fd ? a->fd : "", 0, 65535, &fd) < 0)
        return usage("--child needs --fd N");
    /* Backstop for the whole child; each socket wait is bounded anyway. */
    alarm((unsigned)(a->deadline_ms / 1000 + 2));
    floor_session_opts o = {.server = strcmp(a->child, "server") == 0, .fd = (int)fd,
                            .cert = a->cert, .key = a->key,
                            .deadline = tc_now_ms() + a->deadline_ms};
    if (floor_session_run(&o) == TC_OK)
        return 0;
    fprintf(stderr, "tlsclose-floor %s child: %s\n", a->child, tc_err_msg());
    return 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Sorts the samples in place: call it once they have been printed. */
static double median(double *samples, long n)
{
    qsort(samples, (size_t)n, sizeof *samples, by_value);
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

static void emit(const floor_args *a, double *samples)
{
    json_object *line = json_object_new_object();
    json_object *list = json_object_new_array();
    for (long i = 0; i < a->reps; i++)
        json_object_array_add(list, json_object_new_double(samples[i]));
    tc_json_set_str(line, "floor", "tlsclose-floor");
    tc_json_set_str(line, "library", OpenSSL_version(OPENSSL_VERSION));
    tc_json_set_int(line, "reps", a->reps);
    json_object_object_add(line, "median_ms", json_object_new_double(median(samples, a->reps)));
    json_object_object_add(line, "samples_ms", list);
    tc_json_emit(line);
}

static int run_parent(const floor_args *a, const char *self)
{
    double *samples = calloc((size_t)a->reps, sizeof *samples);
    if (!samples)
        return 1;
    char *child_args[] = {"--cert", (char *)a->cert, "--key", (char *)a->key,
                          "--deadline-ms", (char *)a->deadline_text, NULL};
    for (long i = 0; i < a->reps; i++) {
        double start = now_ms();
        if (floor_spawn_pair(self, child_args) != TC_OK) {
            fprintf(stderr, "tlsclose-floor: repetition %ld: %s\n", i + 1, tc_err_msg());
            free(samples);
            return 1;
        }
        samples[i] = now_ms() - start;
    }
    emit(a, samples);
    free(samples);
    return 0;
}

/* The children must run this very binary, whatever argv[0] says. */
static const char *own_path(char *buf, size_t cap, const char *argv0)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0 || (size_t)n >= cap - 1)
        return argv0;
    buf[n] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    floor_args a = {.deadline_text = "10000"};
    if (parse_args(argc, argv, &a) != TC_OK)
        return usage("bad or missing arguments");
    tc_ignore_sigpipe();
    if (a.child)
        return run_child(&a);
    char self[4096];
    return run_parent(&a, own_path(self, sizeof self, argv[0]));
}
