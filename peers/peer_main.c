/* tlsclose-peer: the mock peer (docs/peer.md). Parses the command line and
 * the script, opens the first connection, runs the script, and maps the
 * result to the documented exit code with a final "end" event.
 * `tlsclose-peer --serve` is the persistent mode (common/serve.h): one
 * forked process per request runs the same code, with the request's args
 * and inline script, markers in-band and its own listening socket. */
#include "handshake.h"
#include "openssl_creds.h"
#include "peer_actions.h"
#include "peer_script.h"
#include "serve.h"
#include "tc_err.h"
#include "transcript.h"
#include "transport.h"

#include <getopt.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_RAN = 0, EXIT_USAGE = 2, EXIT_TIMEOUT = 3, EXIT_SETUP = 4 };

typedef struct {
    bool server;
    bool tls13;
    const char *cert;
    const char *key;
    const char *script;
    const char *cipher;
    int marker_in;
    int marker_out;
    int stall_fd;           /* --stall-fd: the harness's stall notices, or -1 */
    int64_t deadline_ms;
    const char *listen;     /* --listen HOST:PORT, or NULL */
    int sources;            /* how many of --fd, --connect, --listen-fd, --listen */
    bool serve;             /* a cell of persistent mode */
} peer_args;

/* A listening socket the peer opens itself takes the SUT's connection and
 * the one of a `next_connection`. */
#define LISTEN_BACKLOG 2

static const char usage_text[] =
    "usage: tlsclose-peer --role client|server --tls 1.2|1.3\n"
    "                     (--fd N[,M] | --connect HOST:PORT | --listen-fd N | --listen HOST:PORT)\n"
    "                     --cert CERT.pem --key KEY.pem --script PEER.json\n"
    "                     [--cipher NAME] [--marker-in FD] [--marker-out FD] [--deadline-ms MS]\n"
    "                     [--stall-fd FD]\n"
    "       tlsclose-peer --serve\n";

static int parse_int(const char *opt, const char *text, long min, long max, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < min || v > max)
        return tc_err_set(TC_ERR_USAGE, "%s: '%s' is not a number in %ld..%ld", opt, text, min, max);
    *out = v;
    return TC_OK;
}

static int parse_choice(const char *opt, const char *text, const char *a, const char *b, bool *is_b)
{
    if (strcmp(text, a) != 0 && strcmp(text, b) != 0)
        return tc_err_set(TC_ERR_USAGE, "%s: expected %s or %s, not '%s'", opt, a, b, text);
    *is_b = strcmp(text, b) == 0;
    return TC_OK;
}

static const struct option options[] = {
    {"role", required_argument, NULL, 'r'},   {"tls", required_argument, NULL, 't'},
    {"fd", required_argument, NULL, 'f'},     {"connect", required_argument, NULL, 'c'},
    {"listen-fd", required_argument, NULL, 'l'}, {"cert", required_argument, NULL, 'C'},
    {"key", required_argument, NULL, 'K'},    {"script", required_argument, NULL, 's'},
    {"cipher", required_argument, NULL, 'x'}, {"marker-in", required_argument, NULL, 'i'},
    {"marker-out", required_argument, NULL, 'o'}, {"deadline-ms", required_argument, NULL, 'd'},
    {"listen", required_argument, NULL, 'L'}, {"stall-fd", required_argument, NULL, 'S'},
    {NULL, 0, NULL, 0},
};

/* What a persistent-mode request cannot carry: descriptors and files of the
 * harness, which a request line cannot hand over. --stall-fd can: it names
 * a descriptor the server itself inherited, which every cell inherits. */
static int check_serve_option(int opt)
{
    if (strchr("fclsio", opt) == NULL)
        return TC_OK;
    const struct option *o = options;
    while (o->val != opt)
        o++;
    return tc_err_set(TC_ERR_USAGE, "--%s has no place in a persistent-mode request (the script "
                      "comes inline, markers in-band, the connection through --listen)", o->name);
}

static int apply_option(int opt, const char *val, peer_args *a, tc_transport *t)
{
    long v = 0;
    int rc = TC_OK;
    switch (opt) {
    case 'r': return parse_choice("--role", val, "client", "server", &a->server);
    case 't': return parse_choice("--tls", val, "1.2", "1.3", &a->tls13);
    case 'f': a->sources++; return tc_transport_parse_fds(t, val);
    case 'c': a->sources++; t->connect_to = val; return TC_OK;
    case 'l': a->sources++; rc = parse_int("--listen-fd", val, 0, 65535, &v); t->listen_fd = (int)v; return rc;
    case 'L': a->sources++; a->listen = val; return TC_OK;
    case 'C': a->cert = val; return TC_OK;
    case 'K': a->key = val; return TC_OK;
    case 's': a->script = val; return TC_OK;
    case 'x': a->cipher = val; return TC_OK;
    case 'i': rc = parse_int("--marker-in", val, 0, 65535, &v); a->marker_in = (int)v; return rc;
    case 'o': rc = parse_int("--marker-out", val, 0, 65535, &v); a->marker_out = (int)v; return rc;
    case 'd': rc = parse_int("--deadline-ms", val, 1, 3600000, &v); a->deadline_ms = v; return rc;
    case 'S': rc = parse_int("--stall-fd", val, 0, 65535, &v); a->stall_fd = (int)v; return rc;
    default: return tc_err_set(TC_ERR_USAGE, "unknown option");
    }
}

static int check_args(const peer_args *a, bool role_set, bool tls_set)
{
    if (!role_set || !tls_set)
        return tc_err_set(TC_ERR_USAGE, "--role and --tls are required");
    if (a->serve && !a->listen)
        return tc_err_set(TC_ERR_USAGE, "--listen is required in a persistent-mode request");
    if (a->sources != 1)
        return tc_err_set(TC_ERR_USAGE, "give exactly one of --fd, --connect, --listen-fd, --listen");
    if (!a->cert || !a->key || (!a->script && !a->serve))
        return tc_err_set(TC_ERR_USAGE, "--cert, --key and --script are required");
    return TC_OK;
}

static int parse_args(int argc, char **argv, bool serve, peer_args *a, tc_transport *t)
{
    bool role_set = false, tls_set = false;
    int opt;
    *a = (peer_args){.marker_in = -1, .marker_out = -1, .stall_fd = -1, .deadline_ms = 10000,
                     .serve = serve};
    tc_transport_init(t);
    opterr = 0;
    optind = 0; /* a full restart of getopt: a server parses each request's args */
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == '?')
            return tc_err_set(TC_ERR_USAGE, "unknown option or missing value: %s", argv[optind - 1]);
        role_set |= opt == 'r';
        tls_set |= opt == 't';
        int rc = serve ? check_serve_option(opt) : TC_OK;
        if (rc == TC_OK)
            rc = apply_option(opt, optarg, a, t);
        if (rc < 0)
            return rc;
    }
    if (optind < argc)
        return tc_err_set(TC_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
    return check_args(a, role_set, tls_set);
}

static int finish(int rc)
{
    if (rc == TC_OK) {
        tr_end("ok", "", EXIT_RAN);
        return EXIT_RAN;
    }
    int code = rc == TC_ERR_TIMEOUT ? EXIT_TIMEOUT : rc == TC_ERR_USAGE ? EXIT_USAGE : EXIT_SETUP;
    fprintf(stderr, "tlsclose-peer: %s\n", tc_err_msg());
    tr_end(rc == TC_ERR_TIMEOUT ? "timeout" : "error", tc_err_msg(), code);
    return code;
}

/* --listen: the socket is open before the "listen" line tells its port, so
 * a SUT that connects at once finds it in the backlog. */
static int open_listener(const peer_args *a, peer_run *r)
{
    int port = 0;
    int rc = tc_transport_listen(&r->transport, a->listen, LISTEN_BACKLOG, &port);
    if (rc == TC_OK)
        tr_listen(port);
    return rc;
}

static int run(const peer_args *a, peer_run *r, const peer_script *s)
{
    int rc = hs_ctx_init(&r->hs, a->server, a->tls13, a->cert, a->key, a->cipher);
    if (rc < 0)
        return rc;
    if (!s->session_tickets)
        hs_ctx_disable_tickets(&r->hs);
    if (a->listen && (rc = open_listener(a, r)) < 0)
        return rc;
    tr_start(a->server ? "server" : "client", a->tls13 ? "1.3" : "1.2");
    if (s->handshake_marker) {
        char got[TC_MARKER_MAX];
        rc = tc_marker_wait(&r->markers, s->handshake_marker, r->run_deadline, got);
        if (rc < 0)
            return rc;
        tr_marker("recv", s->handshake_marker);
    }
    rc = peer_connect(r, r->run_deadline);
    if (rc == TC_ERR_USAGE)
        return rc;
    /* The "handshake" event says how it failed; the script had nothing to
     * run on, and a failure it allows is not the peer's. */
    if (rc < 0 && rc != TC_ERR_TIMEOUT && s->handshake_may_fail)
        return TC_OK;
    if (rc < 0 && rc != TC_ERR_TIMEOUT) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", tc_err_msg());
        return tc_err_set(TC_ERR_LIBRARY, "connection 1: %s", msg);
    }
    return rc < 0 ? rc : peer_run_script(r, s);
}

/* One run, or one cell of persistent mode (serve: the script inline,
 * markers in-band, the clock already started by the server). */
static int run_parsed(int argc, char **argv, json_object *inline_script, bool serve)
{
    peer_args a;
    peer_run r;
    peer_script s;
    memset(&r, 0, sizeof r);
    int rc = parse_args(argc, argv, serve, &a, &r.transport);
    if (rc < 0) {
        fputs(usage_text, stderr);
        return finish(rc);
    }
    r.run_deadline = tc_now_ms() + a.deadline_ms;
    r.server = a.server;
    rc = tc_stall_init(a.stall_fd);
    if (rc < 0)
        return finish(rc);
    if (serve)
        tc_markers_init_inband(&r.markers, tc_serve_input());
    else
        tc_markers_init(&r.markers, a.marker_in, a.marker_out);
    rc = inline_script ? peer_script_parse(&s, json_object_get(inline_script), a.tls13)
                       : peer_script_load(&s, a.script, a.tls13);
    if (rc < 0)
        return finish(rc);
    r.answer_keyupdate = s.answer_keyupdate;
    r.handshake_may_fail = s.handshake_may_fail;
    rc = run(&a, &r, &s);
    peer_run_free(&r);
    peer_script_free(&s);
    return finish(rc);
}

/* ---- persistent mode ---------------------------------------------------- */

/* OpenSSL's global initialisation once in the server; every cell builds its
 * own SSL_CTX (hs_ctx_init), so no session cache or ticket key is shared. */
static int serve_preinit(void *ctx)
{
    (void)ctx;
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                         NULL) != 1)
        return tc_err_set(TC_ERR_LIBRARY, "OPENSSL_init_ssl failed");
    /* One context made and freed: OpenSSL 3 keeps what it fetched from its
     * providers (ciphers, digests, signature algorithms, groups) for the
     * process, so each cell's SSL_CTX_new finds them ready (measured: 1.4 ms
     * less CPU per cell). The context, with its ticket keys, is gone before
     * the first fork; the random generator it seeded reseeds in every child
     * (providers/implementations/rands/drbg.c, ossl_prov_drbg_generate:
     * a changed fork_id, i.e. getpid(), forces a reseed). */
    SSL_CTX_free(SSL_CTX_new(TLS_method()));
    return TC_OK;
}

/* The transcript's clock starts in the server just before the fork, so the
 * cell's events and an end line the server prints for it count from the
 * same moment: the start of the cell. A server cell's certificate and key
 * are read here, once per server, not in every cell (openssl_creds.h); the
 * cell parses its args again, and reports a bad one, itself. */
static void serve_cell_start(void *ctx, const tc_serve_request *req)
{
    (void)ctx;
    tr_init();
    peer_args a;
    tc_transport t;
    if (parse_args(req->argc, req->argv, true, &a, &t) == TC_OK && a.server)
        openssl_creds_preload(a.cert, a.key);
}

static int serve_cell(void *ctx, const tc_serve_request *req)
{
    (void)ctx;
    return run_parsed(req->argc, req->argv, req->script, true);
}

static void serve_end(void *ctx, const char *status, const char *message, int exit_code,
                      const char *signal)
{
    (void)ctx;
    tr_server_end(status, message, exit_code, signal);
}

int main(int argc, char **argv)
{
    tr_init();
    tc_ignore_sigpipe();
    if (argc == 2 && strcmp(argv[1], "--serve") == 0) {
        tc_serve_ops ops = {
            .program = argv[0],
            .preinit = serve_preinit,
            .cell_start = serve_cell_start,
            .run_cell = serve_cell,
            .server_end = serve_end,
        };
        return tc_serve_main(&ops);
    }
    return run_parsed(argc, argv, NULL, false);
}
