#include "shim_args.h"

#include <stdlib.h>
#include <string.h>

#include "tc_err.h"

/* Every option but --version takes one value; a table keeps the parser to
 * one loop and makes an unknown option an error rather than a guess. */
typedef int (*opt_setter)(shim_args *a, const char *opt, const char *val);

typedef struct {
    const char *name;
    opt_setter set;
    bool per_process_only; /* no place in a persistent-mode request */
} opt_entry;

static int parse_choice(const char *opt, const char *val, const char *const *names, int *out)
{
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], val) == 0) {
            *out = i;
            return TC_OK;
        }
    }
    return tc_err_set(TC_ERR_USAGE, "%s: '%s' is not one of the accepted values", opt, val);
}

static int parse_int(const char *opt, const char *val, long min, long max, long *out)
{
    char *end;
    long v = strtol(val, &end, 10);
    if (end == val || *end || v < min || v > max)
        return tc_err_set(TC_ERR_USAGE, "%s: '%s' is not an integer in %ld..%ld", opt, val, min, max);
    *out = v;
    return TC_OK;
}

static int set_role(shim_args *a, const char *opt, const char *val)
{
    static const char *const names[] = {"client", "server", NULL};
    int i = 0;
    int rc = parse_choice(opt, val, names, &i);
    a->cfg.server = i == 1;
    return rc;
}

static int set_tls(shim_args *a, const char *opt, const char *val)
{
    static const char *const names[] = {"1.2", "1.3", NULL};
    int i = 0;
    int rc = parse_choice(opt, val, names, &i);
    if (rc == TC_OK)
        a->cfg.tls_minor = 2 + i;
    return rc;
}

static int set_io(shim_args *a, const char *opt, const char *val)
{
    static const char *const names[] = {"blocking", "nonblocking", "memory", NULL};
    int i = 0;
    int rc = parse_choice(opt, val, names, &i);
    if (rc == TC_OK)
        a->cfg.io = (shim_io)i;
    return rc;
}

static int set_fd(shim_args *a, const char *opt, const char *val)
{
    (void)opt;
    return tc_transport_parse_fds(&a->transport, val);
}

static int set_connect(shim_args *a, const char *opt, const char *val)
{
    (void)opt;
    a->transport.connect_to = val;
    return TC_OK;
}

static int set_marker(shim_args *a, const char *opt, const char *val)
{
    long fd = -1;
    int rc = parse_int(opt, val, 0, 65535, &fd);
    if (strcmp(opt, "--marker-in") == 0)
        a->marker_in = (int)fd;
    else
        a->marker_out = (int)fd;
    return rc;
}

static int set_deadline(shim_args *a, const char *opt, const char *val)
{
    long ms = SHIM_DEFAULT_DEADLINE_MS;
    int rc = parse_int(opt, val, 1, 3600000, &ms);
    a->deadline_ms = ms;
    return rc;
}

static int set_path(shim_args *a, const char *opt, const char *val)
{
    if (strcmp(opt, "--cert") == 0)
        a->cfg.cert = val;
    else if (strcmp(opt, "--key") == 0)
        a->cfg.key = val;
    else if (strcmp(opt, "--script") == 0)
        a->script = val;
    else if (strcmp(opt, "--cipher") == 0)
        a->cfg.cipher = val;
    else if (strcmp(opt, "--session-in") == 0)
        a->cfg.session_in = val;
    else
        a->cfg.session_out = val;
    return TC_OK;
}

static const opt_entry options[] = {
    {"--role", set_role, false},         {"--tls", set_tls, false},
    {"--io", set_io, false},             {"--fd", set_fd, true},
    {"--connect", set_connect, false},   {"--cert", set_path, false},
    {"--key", set_path, false},          {"--script", set_path, true},
    {"--marker-out", set_marker, true},  {"--marker-in", set_marker, true},
    {"--deadline-ms", set_deadline, false}, {"--cipher", set_path, false},
    {"--session-in", set_path, false},   {"--session-out", set_path, false},
};

static const opt_entry *find_option(const char *name)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

static void set_defaults(shim_args *a)
{
    memset(a, 0, sizeof *a);
    tc_transport_init(&a->transport);
    a->cfg.tls_minor = 0;
    a->cfg.io = (shim_io)-1;
    a->marker_in = -1;
    a->marker_out = -1;
    a->deadline_ms = SHIM_DEFAULT_DEADLINE_MS;
}

/* Required arguments are checked after the loop so that the message names
 * the first one missing, whatever order the others came in. */
static int check_complete(const shim_args *a, bool role_seen)
{
    if (!role_seen)
        return tc_err_set(TC_ERR_USAGE, "--role is required (client or server)");
    if (a->cfg.tls_minor == 0)
        return tc_err_set(TC_ERR_USAGE, "--tls is required (1.2 or 1.3)");
    if ((int)a->cfg.io < 0)
        return tc_err_set(TC_ERR_USAGE, "--io is required (blocking, nonblocking or memory)");
    if (a->serve && !a->transport.connect_to)
        return tc_err_set(TC_ERR_USAGE, "--connect is required (in persistent mode the shim "
                                        "opens every connection itself)");
    if (a->transport.fd_count == 0 && !a->transport.connect_to)
        return tc_err_set(TC_ERR_USAGE, "one of --fd or --connect is required");
    if (a->transport.fd_count > 0 && a->transport.connect_to)
        return tc_err_set(TC_ERR_USAGE, "--fd and --connect exclude each other");
    if (!a->script && !a->serve)
        return tc_err_set(TC_ERR_USAGE, "--script is required");
    if (!a->cfg.cert || !a->cfg.key)
        return tc_err_set(TC_ERR_USAGE, "--cert and --key are required");
    return TC_OK;
}

static int parse_options(int argc, char **argv, shim_args *out)
{
    bool role_seen = false;
    for (int i = 1; i < argc; i += 2) { /* every option takes one value */
        const opt_entry *o = find_option(argv[i]);
        if (!o)
            return tc_err_set(TC_ERR_USAGE, "unknown argument '%s'", argv[i]);
        if (o->per_process_only && out->serve)
            return tc_err_set(TC_ERR_USAGE, "%s has no place in a persistent-mode request "
                              "(the script comes inline, markers in-band, connections from "
                              "--connect)", argv[i]);
        if (i + 1 >= argc)
            return tc_err_set(TC_ERR_USAGE, "%s needs a value", argv[i]);
        int rc = o->set(out, argv[i], argv[i + 1]);
        if (rc < 0)
            return rc;
        role_seen |= o->set == set_role;
    }
    return check_complete(out, role_seen);
}

int shim_args_parse(int argc, char **argv, shim_args *out)
{
    set_defaults(out);
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        out->version_only = true;
        return TC_OK;
    }
    return parse_options(argc, argv, out);
}

int shim_args_parse_cell(int argc, char **argv, shim_args *out)
{
    set_defaults(out);
    out->serve = true;
    return parse_options(argc, argv, out);
}

const char *shim_args_role(const shim_config *cfg)
{
    return cfg->server ? "server" : "client";
}

const char *shim_args_tls(const shim_config *cfg)
{
    return cfg->tls_minor == 2 ? "1.2" : "1.3";
}

const char *shim_args_io(shim_io io)
{
    switch (io) {
    case SHIM_IO_BLOCKING: return "blocking";
    case SHIM_IO_NONBLOCKING: return "nonblocking";
    case SHIM_IO_MEMORY: return "memory";
    }
    return "?";
}
