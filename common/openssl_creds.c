#include "openssl_creds.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

static struct {
    char *cert_path;
    X509 *leaf;
    STACK_OF(X509) *chain; /* the certificates after the leaf, maybe none */
    char *key_path;
    EVP_PKEY *key;
} cache;

static void drop_cert(void)
{
    free(cache.cert_path);
    X509_free(cache.leaf);
    sk_X509_pop_free(cache.chain, X509_free);
    cache.cert_path = NULL;
    cache.leaf = NULL;
    cache.chain = NULL;
}

static void drop_key(void)
{
    free(cache.key_path);
    EVP_PKEY_free(cache.key);
    cache.key_path = NULL;
    cache.key = NULL;
}

/* The leaf as SSL_CTX_use_certificate_chain_file reads it (with its
 * trust settings: PEM_read_bio_X509_AUX), then every later certificate. */
static void load_chain(const char *path)
{
    BIO *in = BIO_new_file(path, "r");
    X509 *leaf = in ? PEM_read_bio_X509_AUX(in, NULL, NULL, NULL) : NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *next;
    while (leaf && chain && (next = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(chain, next)) {
            X509_free(next);
            break;
        }
    }
    BIO_free(in);
    cache.cert_path = leaf && chain ? strdup(path) : NULL;
    if (!cache.cert_path) {
        X509_free(leaf);
        sk_X509_pop_free(chain, X509_free);
        return;
    }
    cache.leaf = leaf;
    cache.chain = chain;
}

static void load_key(const char *path)
{
    BIO *in = BIO_new_file(path, "r");
    EVP_PKEY *key = in ? PEM_read_bio_PrivateKey(in, NULL, NULL, NULL) : NULL;
    BIO_free(in);
    cache.key_path = key ? strdup(path) : NULL;
    if (!cache.key_path) {
        EVP_PKEY_free(key);
        return;
    }
    cache.key = key;
}

void openssl_creds_preload(const char *cert, const char *key)
{
    if (cert && (!cache.cert_path || strcmp(cache.cert_path, cert) != 0)) {
        drop_cert();
        load_chain(cert);
    }
    if (key && (!cache.key_path || strcmp(cache.key_path, key) != 0)) {
        drop_key();
        load_key(key);
    }
    ERR_clear_error();
}

int openssl_creds_use_chain(SSL_CTX *ctx, const char *cert)
{
    if (!cache.cert_path || strcmp(cache.cert_path, cert) != 0)
        return SSL_CTX_use_certificate_chain_file(ctx, cert);
    return SSL_CTX_use_certificate(ctx, cache.leaf) == 1 && SSL_CTX_set1_chain(ctx, cache.chain) == 1;
}

int openssl_creds_use_key(SSL_CTX *ctx, const char *key)
{
    if (!cache.key_path || strcmp(cache.key_path, key) != 0)
        return SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
    return SSL_CTX_use_PrivateKey(ctx, cache.key);
}
