#include "floor_session.h"

#include "tc_err.h"
#include "transport.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char ping[] = "ping";

/* The library's first queued error (or errno) as the message. */
static int tls_error(SSL *ssl, int rc, const char *what)
{
    int kind = ssl ? SSL_get_error(ssl, rc) : SSL_ERROR_SSL;
    unsigned long e = ERR_get_error();
    char text[256] = "no detail";
    if (e)
        ERR_error_string_n(e, text, sizeof text);
    else if (kind == SSL_ERROR_SYSCALL && errno)
        snprintf(text, sizeof text, "%s", strerror(errno));
    ERR_clear_error();
    if (kind == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
        return tc_err_set(TC_ERR_TIMEOUT, "%s: deadline passed", what);
    if (!ssl)
        return tc_err_set(TC_ERR_LIBRARY, "%s: %s", what, text);
    return tc_err_set(TC_ERR_LIBRARY, "%s: SSL_get_error %d: %s", what, kind, text);
}

/* A blocking socket whose every wait ends at the deadline. */
static int bound_waits(int fd, int64_t deadline)
{
    int ms = tc_ms_left(deadline);
    if (ms == 0)
        return tc_err_set(TC_ERR_TIMEOUT, "deadline passed before the session started");
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        return tc_err_set(TC_ERR_SYS, "setsockopt timeouts: %s", strerror(errno));
    return tc_set_nodelay(fd);
}

static int make_ctx(const floor_session_opts *o, SSL_CTX **out)
{
    SSL_CTX *ctx = SSL_CTX_new(o->server ? TLS_server_method() : TLS_client_method());
    if (!ctx)
        return tls_error(NULL, 0, "SSL_CTX_new");
    *out = ctx;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
        return tls_error(NULL, 0, "TLS 1.3 only");
    if (!o->server)
        return TC_OK;   /* self-signed test certificate: nothing to verify against */
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1)
        return tls_error(NULL, 0, "loading the credentials");
    return TC_OK;
}

static int send_record(SSL *ssl)
{
    int rc = SSL_write(ssl, ping, (int)sizeof ping);
    return rc == (int)sizeof ping ? TC_OK : tls_error(ssl, rc, "SSL_write");
}

static int receive_record(SSL *ssl)
{
    char buf[64];
    int rc = SSL_read(ssl, buf, (int)sizeof buf);
    if (rc != (int)sizeof ping || memcmp(buf, ping, sizeof ping) != 0)
        return rc > 0 ? tc_err_set(TC_ERR_MALFORMED, "SSL_read: unexpected %d bytes", rc)
                      : tls_error(ssl, rc, "SSL_read");
    return TC_OK;
}

/* Reads until the peer's close_notify: SSL_read must end in ZERO_RETURN. */
static int receive_close(SSL *ssl)
{
    char buf[64];
    int rc = SSL_read(ssl, buf, (int)sizeof buf);
    if (rc > 0)
        return tc_err_set(TC_ERR_MALFORMED, "data where close_notify was expected");
    if (SSL_get_error(ssl, rc) != SSL_ERROR_ZERO_RETURN)
        return tls_error(ssl, rc, "SSL_read for close_notify");
    return TC_OK;
}

static int expect_shutdown(SSL *ssl, int want)
{
    int rc = SSL_shutdown(ssl);
    if (rc != want)
        return rc < 0 ? tls_error(ssl, rc, "SSL_shutdown")
                      : tc_err_set(TC_ERR_LIBRARY, "SSL_shutdown returned %d, not %d", rc, want);
    return TC_OK;
}

static int handshake(SSL *ssl, bool server)
{
    int rc = server ? SSL_accept(ssl) : SSL_connect(ssl);
    return rc == 1 ? TC_OK : tls_error(ssl, rc, server ? "SSL_accept" : "SSL_connect");
}

/* The client speaks first and closes first, so the server's SSL_shutdown
 * answers a received close_notify (1) and the client's starts it (0). */
static int exchange(SSL *ssl, bool server)
{
    int rc = handshake(ssl, server);
    if (rc == TC_OK)
        rc = server ? receive_record(ssl) : send_record(ssl);
    if (rc == TC_OK)
        rc = server ? send_record(ssl) : receive_record(ssl);
    if (rc == TC_OK)
        rc = server ? receive_close(ssl) : expect_shutdown(ssl, 0);
    if (rc == TC_OK)
        rc = server ? expect_shutdown(ssl, 1) : receive_close(ssl);
    return rc;
}

int floor_session_run(const floor_session_opts *o)
{
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    int rc = bound_waits(o->fd, o->deadline);
    if (rc == TC_OK)
        rc = make_ctx(o, &ctx);
    if (rc == TC_OK && (!(ssl = SSL_new(ctx)) || SSL_set_fd(ssl, o->fd) != 1))
        rc = tls_error(NULL, 0, "SSL_new");
    if (rc == TC_OK)
        rc = exchange(ssl, o->server);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (rc != TC_OK) {
        close(o->fd);   /* keep the first failure's message */
        return rc;
    }
    return tc_close_graceful(o->fd, o->deadline, NULL);
}
