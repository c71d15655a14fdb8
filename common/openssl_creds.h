/* openssl_creds: one parsed copy of a certificate file and a key file,
 * kept by a persistent-mode server (serve.h) for all its cells.
 *
 * Reading the PEM files costs OpenSSL 3 about 1.5 ms of CPU per context
 * (its decoder machinery), more than a whole cell's other setup. A server
 * loads the files once (openssl_creds_preload, before it forks a cell) and
 * every cell's own SSL_CTX takes the parsed objects (openssl_creds_use_*),
 * which only adds references: no context, session or key material of a
 * cell is shared, only the same certificate and key a per-process run
 * would read from the same files. A file is read once per path: the
 * harness's credentials do not change while a server runs.
 *
 * Not part of tlsclose_common: each program compiles it against its own
 * OpenSSL (the mock peer, the OpenSSL shim and its BoringSSL and OpenSSL
 * root builds). Without a preload, or for other paths, the use functions
 * read the files, exactly as SSL_CTX_use_certificate_chain_file and
 * SSL_CTX_use_PrivateKey_file do, and return what those return. */
#ifndef TLSCLOSE_OPENSSL_CREDS_H
#define TLSCLOSE_OPENSSL_CREDS_H

#include <openssl/ssl.h>

/* Loads cert (PEM: the leaf first, then its chain) and key, replacing what
 * was cached for other paths. A file that does not load is simply not
 * cached (the cell that needs it reports the failure as it would per
 * process). Clears OpenSSL's error queue. */
void openssl_creds_preload(const char *cert, const char *key);

/* SSL_CTX_use_certificate_chain_file / SSL_CTX_use_PrivateKey_file (PEM),
 * from the cached copy when it was read from this path: 1 or 0, with the
 * reason in OpenSSL's error queue. */
int openssl_creds_use_chain(SSL_CTX *ctx, const char *cert);
int openssl_creds_use_key(SSL_CTX *ctx, const char *key);

#endif
