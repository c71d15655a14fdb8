/* shim_example: the smallest complete tlsclose shim, on OpenSSL, blocking
 * sockets only, stand-alone (no shared runner, no project headers), so that
 * it can be copied out of the tree as the start of a shim for another stack.
 * Contract (docs/shim-protocol.md): steps handshake, write, read, shutdown,
 * signal_peer, wait_peer. Any other op, IO mode or option it cannot honour
 * is a skip (exit 77), decided before the first byte is exchanged. It never
 * waits past a step's deadline: socket timeouts and poll bound every call.
 * cc -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE shim_example.c \
 *    $(pkg-config --cflags --libs openssl json-c) -o tlsclose-shim-example */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static const char *MINE = " handshake write read shutdown signal_peer wait_peer ";
static const char *OTHERS = " shutdown_quiet shutdown_full get_shutdown get_error_after keyupdate"
    " close_transport free_without_shutdown session_resumable resume plaintext_write"
    " plaintext_read set_option clear ";
static const char *OPTIONS = " --role --tls --io --cert --key --script --fd --marker-in"
    " --marker-out --deadline-ms --cipher --connect --session-in --session-out ";
static const char *ERR_NAMES[] = {"SSL_ERROR_NONE", "SSL_ERROR_SSL", "SSL_ERROR_WANT_READ",
    "SSL_ERROR_WANT_WRITE", "SSL_ERROR_WANT_X509_LOOKUP", "SSL_ERROR_SYSCALL",
    "SSL_ERROR_ZERO_RETURN"};
static int argc_, fd = -1, mark_in = -1, mark_out = -1;
static char **argv_;
static SSL *ssl;
struct result { char outcome[96], native[512]; long bytes; int calls; };

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int listed(const char *list, const char *word)
{
    char key[48];
    snprintf(key, sizeof key, " %s ", word ? word : "");
    return strstr(list, key) != NULL;
}

static void finish(const char *how, int step, const char *message, int code)
{
    printf("{\"end\":\"%s\"", how);       /* messages are ours: nothing to escape */
    if (step >= 0) printf(",\"step\":%d", step);
    if (message) printf(",\"message\":\"%s\"", message);
    printf("}\n");
    exit(code);
}

static const char *arg(const char *name)
{
    for (int i = 1; i + 1 < argc_; i += 2)
        if (!strcmp(argv_[i], name)) return argv_[i + 1];
    return NULL;
}

static void parse_args(void)
{
    const char *lib = OpenSSL_version(OPENSSL_VERSION);
    if (argc_ == 2 && !strcmp(argv_[1], "--version")) {
        printf("{\"shim\":\"example\",\"library\":\"%s\",\"api\":\"native\"}\n", lib);
        exit(0);
    }
    for (int i = 1; i < argc_; i += 2)
        if (!listed(OPTIONS, argv_[i]) || i + 1 == argc_)
            finish("error", -1, "unknown argument or a missing value", 2);
    if (!listed(" client server ", arg("--role")) || !listed(" 1.2 1.3 ", arg("--tls"))
        || !listed(" blocking nonblocking memory ", arg("--io")) || !arg("--cert")
        || !arg("--key") || !arg("--script"))
        finish("error", -1, "--role, --tls, --io, --cert, --key or --script is missing", 2);
    fd = arg("--fd") ? atoi(arg("--fd")) : -1;    /* a second fd is for resume: not here */
    mark_in = arg("--marker-in") ? atoi(arg("--marker-in")) : -1;
    mark_out = arg("--marker-out") ? atoi(arg("--marker-out")) : -1;
    printf("{\"shim\":\"example\",\"library\":\"%s\",\"api\":\"native\",\"role\":\"%s\","
           "\"tls\":\"%s\",\"io\":\"%s\"}\n", lib, arg("--role"), arg("--tls"), arg("--io"));
}

/* Syntax first (exit 2), then what this shim cannot do (77), then what the
 * command line lacks (2): a skip never follows a half-run script. */
static json_object *load_script(void)
{
    json_object *s = json_object_from_file(arg("--script"));
    if (!s || !json_object_is_type(s, json_type_array)) finish("error", -1, "bad script", 2);
    int n = (int)json_object_array_length(s), skip = 0;
    for (int i = 0; i < n; i++) {
        json_object *step = json_object_array_get_idx(s, i);
        const char *op = json_object_get_string(json_object_object_get(step, "op"));
        if (!listed(MINE, op) && !listed(OTHERS, op)) finish("error", i + 1, "unknown op", 2);
        json_object *until_blocked = json_object_object_get(step, "until_blocked");
        if (!skip && (!listed(MINE, op) || json_object_get_boolean(until_blocked)))
            skip = i + 1;                 /* until_blocked needs a nonblocking socket */
    }
    if (arg("--cipher") || arg("--connect") || arg("--session-in") || arg("--session-out"))
        finish("skip", 0, "the example takes none of --cipher, --connect, --session-*", 77);
    if (strcmp(arg("--io"), "blocking")) finish("skip", 0, "the example does blocking IO only", 77);
    if (skip) finish("skip", skip, "the example shim does not implement this step", 77);
    int markers = strstr(json_object_to_json_string(s), "\"marker\"") != NULL;
    if (fd < 0 || (markers && (mark_in < 0 || mark_out < 0)))
        finish("error", -1, "needs --fd, and --marker-in/--marker-out for marker steps", 2);
    return s;
}

static SSL *make_ssl(void)
{
    int server = !strcmp(arg("--role"), "server");
    int version = strcmp(arg("--tls"), "1.3") ? TLS1_2_VERSION : TLS1_3_VERSION;
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if (server && (SSL_CTX_use_certificate_chain_file(ctx, arg("--cert")) != 1
                   || SSL_CTX_use_PrivateKey_file(ctx, arg("--key"), SSL_FILETYPE_PEM) != 1))
        finish("error", -1, "cannot load the certificate or key", 4);
    SSL *s = SSL_new(ctx);
    SSL_CTX_free(ctx);                 /* the SSL object keeps its own reference */
    SSL_set_fd(s, fd);
    server ? SSL_set_accept_state(s) : SSL_set_connect_state(s);
    return s;
}

/* The normalized outcome (docs/shim-protocol.md §5) of a call that failed. */
static void classify(char *out, size_t cap, int ret, int err, int sys, int reading)
{
    int reason = ERR_GET_REASON(ERR_peek_error()), alert = reason - SSL_AD_REASON_OFFSET;
    if (err == SSL_ERROR_ZERO_RETURN) snprintf(out, cap, "closed");
    else if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        snprintf(out, cap, "error:timeout");   /* SO_RCVTIMEO / SO_SNDTIMEO ran out */
    else if (err == SSL_ERROR_SYSCALL && (sys == ECONNRESET || sys == EPIPE))
        snprintf(out, cap, "error:reset");
    else if ((err == SSL_ERROR_SYSCALL && ret == 0) || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        snprintf(out, cap, reading ? "truncated" : "error:unexpected_eof");
    else if (reason == SSL_R_PROTOCOL_IS_SHUTDOWN) snprintf(out, cap, "error:shut_down");
    else if (alert > 0 && alert < 256) {   /* "user canceled" -> RFC spelling "user_canceled" */
        const char *name = SSL_alert_desc_string_long(alert);
        if (strcmp(name, "unknown")) snprintf(out, cap, "error:alert:%s", name);
        else snprintf(out, cap, "error:alert:%d", alert);
        for (char *p = out; *p; p++) *p = *p == ' ' ? '_' : *p;
    } else snprintf(out, cap, err == SSL_ERROR_SSL ? "error:protocol" : "error:other");
}

/* Records one library call: its outcome unless ok, its native result (the
 * first error-queue entry), and empties the queue for the next call. */
static int settle(struct result *r, int ret, int ok, int reading)
{
    int sys = errno, err = ok ? SSL_ERROR_NONE : SSL_get_error(ssl, ret);
    const char *reason = ERR_reason_error_string(ERR_peek_error());
    if (!ok) classify(r->outcome, sizeof r->outcome, ret, err, sys, reading);
    snprintf(r->native, sizeof r->native, "{\"ret\":%d,\"error\":\"%s\",\"queue\":[%s%s%s],"
             "\"errno\":%d}", ret, ok ? "" : ERR_NAMES[err % 7], reason ? "\"" : "",
             reason ? reason : "", reason ? "\"" : "", err == SSL_ERROR_SYSCALL ? sys : 0);
    ERR_clear_error();
    r->calls++;
    return ok;
}

static void do_read(struct result *r, json_object *step)
{
    static char buf[16384];
    long want = json_object_get_int64(json_object_object_get(step, "bytes"));
    int until_close = json_object_object_get_ex(step, "until", NULL);
    do {
        long room = want ? want - r->bytes : (long)sizeof buf;
        errno = 0;
        int ret = SSL_read(ssl, buf, room < (long)sizeof buf ? (int)room : (int)sizeof buf);
        if (!settle(r, ret, ret > 0, 1)) return;
        r->bytes += ret;
    } while (until_close || (want && r->bytes < want));
    snprintf(r->outcome, sizeof r->outcome, "data:%ld", r->bytes);
}

/* wait_peer reads a byte at a time: a marker sent early for a later step
 * must stay in the pipe. */
static void do_marker(struct result *r, const char *op, const char *marker, double deadline)
{
    char line[80] = "";
    struct pollfd p = {.fd = mark_in, .events = POLLIN};
    if (!strcmp(op, "signal_peer")) {
        dprintf(mark_out, "%s\n", marker);
        return;
    }
    for (size_t n = 0; n + 1 < sizeof line && !strchr(line, '\n'); n++) {
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&p, 1, left) == 0) {
            snprintf(r->outcome, sizeof r->outcome, "error:timeout");
            return;
        }
        if (read(mark_in, line + n, 1) != 1) break;
    }
    if (strncmp(line, marker, strlen(marker)) || strcmp(line + strlen(marker), "\n"))
        finish("error", -1, "wait_peer: the pipe closed or brought another marker", 4);
}

static void run_step(int n, json_object *step, double run_deadline)
{
    json_object *v;
    const char *op = json_object_get_string(json_object_object_get(step, "op"));
    double t0 = now_ms(), deadline = t0 + 5000;
    if (json_object_object_get_ex(step, "timeout_ms", &v)) deadline = t0 + json_object_get_int(v);
    deadline = deadline < run_deadline ? deadline : run_deadline;
    long ms = deadline - t0 < 1 ? 1 : (long)(deadline - t0);
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct result r = {.outcome = "ok", .native = "null"};
    errno = 0;
    if (!strcmp(op, "handshake")) {
        int ret = SSL_do_handshake(ssl);
        settle(&r, ret, ret == 1, 0);
    } else if (!strcmp(op, "write")) {   /* partial writes are off: SSL_write sends all or fails */
        long size = json_object_get_int64(json_object_object_get(step, "bytes")), ret = 0;
        unsigned char *buf = malloc(size ? (size_t)size : 1);
        if (!buf) finish("error", n, "out of memory", 4);
        for (long i = 0; i < size; i++) buf[i] = (unsigned char)(i & 0xff);
        if (size) ret = SSL_write(ssl, buf, (int)size);
        if (!size || settle(&r, (int)ret, ret > 0, 0))
            snprintf(r.outcome, sizeof r.outcome, "ok:%ld", r.bytes = size);
        free(buf);
    } else if (!strcmp(op, "read")) {
        do_read(&r, step);
    } else if (!strcmp(op, "shutdown")) {
        int ret = SSL_shutdown(ssl);     /* 0: our close_notify is out; 1: the peer's came too */
        if (settle(&r, ret, ret >= 0, 0))
            snprintf(r.outcome, sizeof r.outcome, ret ? "complete" : "sent");
    } else {
        do_marker(&r, op, json_object_get_string(json_object_object_get(step, "marker")), deadline);
    }
    int f = SSL_get_shutdown(ssl);
    printf("{\"step\":%d,\"op\":\"%s\",\"outcome\":\"%s\",\"wants\":[],\"calls\":%d,\"native\":%s,"
           "\"flags\":{\"sent\":%s,\"received\":%s},\"bytes\":%ld,\"ms\":%.2f}\n", n, op,
           r.outcome, r.calls, r.native, f & SSL_SENT_SHUTDOWN ? "true" : "false",
           f & SSL_RECEIVED_SHUTDOWN ? "true" : "false", r.bytes, now_ms() - t0);
    if (!strcmp(r.outcome, "error:timeout")) finish("timeout", n, "step deadline passed", 3);
}

int main(int argc, char **argv)
{
    argc_ = argc, argv_ = argv;
    signal(SIGPIPE, SIG_IGN);          /* a reset peer must be an outcome, not a death */
    setvbuf(stdout, NULL, _IOLBF, 0);  /* the harness reads each JSON line as soon as it ends */
    parse_args();
    json_object *script = load_script();
    double deadline = now_ms() + (arg("--deadline-ms") ? atol(arg("--deadline-ms")) : 10000);
    ssl = make_ssl();
    for (int i = 0; i < (int)json_object_array_length(script); i++)
        run_step(i + 1, json_object_array_get_idx(script, i), deadline);
    SSL_free(ssl);
    json_object_put(script);
    finish("ok", -1, NULL, 0);
}
