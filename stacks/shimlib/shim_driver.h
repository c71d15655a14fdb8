/* shim_driver: what a C shim for one TLS library provides to the shared shim
 * runner (shim_runner.c).
 *
 * The runner owns everything that is the same for every library: command
 * line, step script, connections, IO modes, deadlines, markers, plaintext
 * steps and the JSON line per step (docs/shim-protocol.md). A driver owns
 * only the library calls. Each library operation is ONE call into the
 * library: the driver never loops on WANT_READ/WANT_WRITE itself; it reports
 * the want in shim_call and the runner decides what an application in the
 * current IO mode would do (poll the socket, move bytes between the memory
 * buffers and the socket, or stop and report because the step said nowait).
 *
 * Socket modes (blocking, nonblocking): the driver's library uses the fd
 * given to session_new directly; the runner has already set O_NONBLOCK as the
 * mode requires. Memory mode: the library reads and writes memory buffers
 * (an OpenSSL BIO pair or memory BIOs, GnuTLS push/pull functions...) and the
 * runner moves bytes with mem_take_output / mem_give_input.
 *
 * Every callback returns TC_OK or a negative tc_err for failures of the shim
 * itself (out of memory, cannot load the certificate); what the LIBRARY
 * reports is data, described in shim_call, and is never an error here.
 * init and session_new set their out parameter only on success and clean
 * up after themselves on failure; TC_ERR_UNSUPPORTED from them (a --cipher
 * the library does not know) makes the run a skip (exit 77). */
#ifndef TLSCLOSE_SHIM_DRIVER_H
#define TLSCLOSE_SHIM_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { SHIM_WANT_NONE = 0, SHIM_WANT_READ, SHIM_WANT_WRITE } shim_want;

/* What a set_option step switches on (docs/shim-protocol.md §2). */
typedef enum {
    SHIM_OPT_IGNORE_UNEXPECTED_EOF,
    SHIM_OPT_POST_HANDSHAKE_AUTH,
    SHIM_OPT_QUIET_SHUTDOWN,
    SHIM_OPT_COUNT
} shim_option;
typedef enum { SHIM_IO_BLOCKING, SHIM_IO_NONBLOCKING, SHIM_IO_MEMORY } shim_io;

#define SHIM_MAX_QUEUE 4

/* The result of one library call: the native view and the normalized one. */
typedef struct {
    long ret;                      /* return value of the library call */
    char error[48];                /* native error name: "SSL_ERROR_ZERO_RETURN",
                                      "GNUTLS_E_PREMATURE_TERMINATION"; "" if none */
    char queue[SHIM_MAX_QUEUE][160]; /* error queue / detail strings, oldest first */
    int queue_len;
    int sys_errno;                 /* errno after the call when the library says
                                      it is relevant, else 0 */
    shim_want want;                /* the call would block: what it waits for */
    size_t bytes;                  /* read/write: application bytes moved */
    char outcome[48];              /* normalized outcome, docs/shim-protocol.md:
                                      "sent", "complete", "data:N", "closed",
                                      "truncated", "error:unexpected_eof", ...
                                      Left empty when want != SHIM_WANT_NONE
                                      (the runner writes "want_read"/"want_write"). */
} shim_call;

/* Shutdown flags as the library sees them; known = false when the library
 * has no such notion (then the JSON line carries "flags": null). */
typedef struct {
    bool known;
    bool sent;
    bool received;
} shim_flags;

typedef struct {
    bool server;          /* --role server */
    int tls_minor;        /* 2 or 3 (--tls 1.2 / 1.3) */
    shim_io io;
    const char *cert;     /* PEM files (--cert, --key) */
    const char *key;
    const char *cipher;   /* --cipher, or NULL for the library default */
    const char *session_in;  /* --session-in / --session-out, or NULL */
    const char *session_out;
} shim_config;

typedef struct shim_session shim_session; /* one TLS connection; the driver's */

typedef struct {
    const char *name;                       /* "openssl", "gnutls" */
    const char *api;                        /* "openssl" or "native" */
    const char *(*library_version)(void);   /* runtime version string */

    /* Persistent mode (--serve), optional: once per server, before the
     * first cell is forked: the library's own global initialisation, never
     * anything a cell could change (no context, no session, no key), and
     * nothing that must not cross a fork (a library whose state a forked
     * child may not use, NSS for one, initialises in init, per cell). */
    int (*preinit)(void);
    /* Persistent mode, optional: called in the server before a cell is
     * forked, with that cell's configuration: a parsed copy of the
     * credentials a server cell will load may be kept here (and only that:
     * docs/shim-protocol.md "Persistent mode", isolation). */
    void (*preload)(const shim_config *cfg);

    /* Once per run (per cell in persistent mode, in the cell's process):
     * contexts, credentials, session caches. */
    int (*init)(const shim_config *cfg, void **ctx);
    void (*deinit)(void *ctx);

    /* One connection. conn_index is 0 for the first connection, 1 for the
     * one a `resume` step opens (which offers the session of the first). In
     * memory mode fd is -1: the library must not touch the socket. */
    int (*session_new)(void *ctx, int fd, int conn_index, shim_session **s);
    /* Frees the connection. sent_shutdown tells whether the script shut it
     * down, so a driver can free "without shutdown" where the library cares
     * (OpenSSL removes a session freed without shutdown from its cache). */
    void (*session_free)(shim_session *s, bool sent_shutdown);

    /* Memory mode only: take up to cap bytes the library has written (0 if
     * none); give bytes read from the socket; tell it the socket hit EOF. */
    size_t (*mem_take_output)(shim_session *s, uint8_t *buf, size_t cap);
    int (*mem_give_input)(shim_session *s, const uint8_t *buf, size_t len);
    void (*mem_give_eof)(shim_session *s);

    /* One library call each. */
    int (*handshake)(shim_session *s, shim_call *c);
    int (*read)(shim_session *s, uint8_t *buf, size_t cap, shim_call *c);
    int (*write)(shim_session *s, const uint8_t *buf, size_t len, shim_call *c);
    int (*shutdown)(shim_session *s, shim_call *c);
    /* shutdown_quiet: switch quiet shutdown on, then shut down. NULL if the
     * library has no quiet mode (the runner exits with the skip code). */
    int (*shutdown_quiet)(shim_session *s, shim_call *c);
    /* shutdown_full: GnuTLS-style full close (gnutls_bye(GNUTLS_SHUT_RDWR)).
     * NULL where the library has no such call. */
    int (*shutdown_full)(shim_session *s, shim_call *c);
    /* The library's error query applied to the previous call's return value
     * (OpenSSL: SSL_get_error(ssl, prev_ret)); NULL if there is none. */
    int (*error_after)(shim_session *s, long prev_ret, shim_call *c);
    /* Request a key update (TLS 1.3); NULL if unsupported. */
    int (*keyupdate)(shim_session *s, bool request_peer, shim_call *c);

    void (*flags)(shim_session *s, shim_flags *f);
    /* Would the session of this connection be offered/accepted again?
     * NULL if the library cannot tell. */
    int (*session_resumable)(shim_session *s, bool *resumable);
    /* Was this connection a resumption? */
    int (*session_reused)(shim_session *s, bool *reused);
    /* Saves the session for a later `resume` (and to --session-out). Called
     * by the runner just before `resume` opens the next connection, or just
     * before free_without_shutdown frees the connection. */
    int (*session_save)(shim_session *s);

    /* set_option (shim_option): switches the option on for
     * the connection s, or (context_scope) for the connections opened
     * afterwards (s is then NULL). One library call, its result in c (the
     * runner reports "ok" unless the driver set an outcome). NULL, or an
     * option/scope whose bit is missing from options_connection /
     * options_context (bit 1 << option), is a skip (exit 77), decided before
     * any IO. */
    int (*set_option)(void *ctx, shim_session *s, shim_option option, bool context_scope,
                      shim_call *c);
    unsigned options_connection;
    unsigned options_context;
    /* clear: resets the connection's TLS object for another connection
     * (SSL_clear), keeping what the library keeps; session_attach then
     * gives the cleared object the next connection's fd (-1 in memory mode:
     * fresh memory buffers) instead of session_new. Both NULL: skip. */
    int (*clear)(shim_session *s, shim_call *c);
    int (*session_attach)(shim_session *s, int fd);

    /* Memory mode, optional (NULL: assumed 0): how many bytes given with
     * mem_give_input the library has not read yet. The runner gives input
     * only after a want_read, one TLS record (at most 16 KiB) at a time; a
     * want_read while input is still pending means the library is not
     * reading (a stale want after a fatal error) and the runner stops
     * instead of giving more. */
    size_t (*mem_input_pending)(shim_session *s);
} shim_driver;

/* Runs the shim: parses argv, executes the script with the driver, prints the
 * JSON lines and returns the process exit code (docs/shim-protocol.md).
 * `SHIM --serve` runs the persistent mode instead (common/serve.h): one
 * forked process per cell, each running what a per-process run runs. */
int shim_main(const shim_driver *driver, int argc, char **argv);

#endif
