/* tc_err: the one error convention of tlsclose's C code.
 *
 * Every fallible function returns 0 (TC_OK) on success or a negative tc_err
 * code on failure, and on failure records a human-readable message with
 * tc_err_set(). Callers check every return value and either handle the error
 * or return it unchanged, so the message that reaches the user describes the
 * first thing that went wrong, not the last.
 *
 * The message buffer is per thread; it is overwritten by the next failure. */
#ifndef TLSCLOSE_TC_ERR_H
#define TLSCLOSE_TC_ERR_H

enum tc_err {
    TC_OK = 0,
    TC_ERR_USAGE = -1,    /* bad argument or malformed script: the caller's fault */
    TC_ERR_SYS = -2,      /* a system call failed; errno is in the message */
    TC_ERR_CRYPTO = -3,   /* an OpenSSL EVP/KDF call failed */
    TC_ERR_DECRYPT = -4,  /* a record failed authentication */
    TC_ERR_MALFORMED = -5, /* bytes from the network do not parse */
    TC_ERR_TIMEOUT = -6,  /* a deadline passed */
    TC_ERR_EOF = -7,      /* the transport ended (FIN) */
    TC_ERR_RESET = -8,    /* the transport was reset (RST) */
    TC_ERR_UNSUPPORTED = -9, /* asked for something this build cannot do */
    TC_ERR_LIBRARY = -10, /* the TLS library under the handshake failed */
};

/* Records the message (printf format) and returns code, so a failure site
 * reads: return tc_err_set(TC_ERR_SYS, "connect: %s", strerror(errno)); */
int tc_err_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The message of the most recent failure in this thread ("" if none). */
const char *tc_err_msg(void);

/* A short stable name for a code ("timeout", "eof", ...), for JSON output. */
const char *tc_err_name(int code);

#endif
