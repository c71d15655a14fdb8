#include "boringssl_glue.h"

#include <stddef.h>

static int session_index = -1;

static void free_session(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int index, long argl,
                         void *argp)
{
    (void)parent, (void)ad, (void)index, (void)argl, (void)argp;
    SSL_SESSION_free(ptr);
}

/* Takes ownership of sess (return 1) and keeps the newest one. */
static int keep_new_session(SSL *ssl, SSL_SESSION *sess)
{
    SSL_SESSION *old = SSL_get_ex_data(ssl, session_index);
    if (!SSL_set_ex_data(ssl, session_index, sess))
        return 0; /* BoringSSL frees sess */
    SSL_SESSION_free(old);
    return 1;
}

void bssl_glue_keep_sessions(SSL_CTX *ctx)
{
    if (session_index < 0)
        session_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_session);
    if (session_index < 0)
        return; /* no slot: sessions just are not kept */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_sess_set_new_cb(ctx, keep_new_session);
}

SSL_SESSION *bssl_glue_session(SSL *ssl)
{
    SSL_SESSION *kept = session_index < 0 ? NULL : SSL_get_ex_data(ssl, session_index);
    return kept ? kept : SSL_get_session(ssl);
}

SSL_SESSION *bssl_glue_get1_session(SSL *ssl)
{
    SSL_SESSION *sess = bssl_glue_session(ssl);
    if (sess && !SSL_SESSION_up_ref(sess))
        return NULL;
    return sess;
}

int bssl_glue_flush(SSL *ssl)
{
    static const unsigned char none[1];
    int ret = SSL_write(ssl, none, 0);
    return ret == 0 ? 1 : ret;
}
