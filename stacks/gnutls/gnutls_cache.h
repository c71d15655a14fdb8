/* gnutls_cache: the in-memory TLS 1.2 session-ID cache of a GnuTLS server
 * shim, so that a `resume` step offering a session ID has something to
 * resume (GnuTLS keeps no server-side cache of its own; an application
 * provides one through gnutls_db_set_*).
 *
 * Needs: one gt_cache per process, shared by every connection.
 * Promises: keeps at most GT_CACHE_SLOTS sessions, the oldest replaced
 * first; retrieve returns a copy allocated with gnutls_malloc, which GnuTLS
 * frees.
 * Never: persists anything or expires entries by time (a run lasts seconds). */
#ifndef TLSCLOSE_GNUTLS_CACHE_H
#define TLSCLOSE_GNUTLS_CACHE_H

#include <gnutls/gnutls.h>

#define GT_CACHE_SLOTS 8

typedef struct {
    gnutls_datum_t key[GT_CACHE_SLOTS];
    gnutls_datum_t value[GT_CACHE_SLOTS];
    unsigned next; /* slot to fill next */
} gt_cache;

/* Installs the store/retrieve/remove callbacks on a server session. */
void gt_cache_attach(gt_cache *cache, gnutls_session_t tls);
void gt_cache_free(gt_cache *cache);

#endif
