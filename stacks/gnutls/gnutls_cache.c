#include "gnutls_cache.h"

#include <string.h>

static int gt_datum_equal(const gnutls_datum_t *a, const gnutls_datum_t *b)
{
    return a->data && a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

static int gt_datum_copy(gnutls_datum_t *dst, const gnutls_datum_t *src)
{
    dst->data = gnutls_malloc(src->size ? src->size : 1);
    if (!dst->data) {
        dst->size = 0;
        return -1;
    }
    memcpy(dst->data, src->data, src->size);
    dst->size = src->size;
    return 0;
}

static void gt_slot_clear(gt_cache *c, unsigned i)
{
    gnutls_free(c->key[i].data);
    gnutls_free(c->value[i].data);
    c->key[i] = (gnutls_datum_t){NULL, 0};
    c->value[i] = (gnutls_datum_t){NULL, 0};
}

static int gt_cache_store(void *ptr, gnutls_datum_t key, gnutls_datum_t value)
{
    gt_cache *c = ptr;
    unsigned i = c->next;
    gt_slot_clear(c, i);
    if (gt_datum_copy(&c->key[i], &key) != 0 || gt_datum_copy(&c->value[i], &value) != 0) {
        gt_slot_clear(c, i);
        return -1;
    }
    c->next = (i + 1) % GT_CACHE_SLOTS;
    return 0;
}

static gnutls_datum_t gt_cache_retrieve(void *ptr, gnutls_datum_t key)
{
    gt_cache *c = ptr;
    gnutls_datum_t out = {NULL, 0};
    for (unsigned i = 0; i < GT_CACHE_SLOTS; i++)
        if (gt_datum_equal(&c->key[i], &key)) {
            if (gt_datum_copy(&out, &c->value[i]) != 0)
                out = (gnutls_datum_t){NULL, 0};
            break;
        }
    return out;
}

static int gt_cache_remove(void *ptr, gnutls_datum_t key)
{
    gt_cache *c = ptr;
    for (unsigned i = 0; i < GT_CACHE_SLOTS; i++)
        if (gt_datum_equal(&c->key[i], &key)) {
            gt_slot_clear(c, i);
            return 0;
        }
    return -1;
}

void gt_cache_attach(gt_cache *cache, gnutls_session_t tls)
{
    gnutls_db_set_ptr(tls, cache);
    gnutls_db_set_store_function(tls, gt_cache_store);
    gnutls_db_set_retrieve_function(tls, gt_cache_retrieve);
    gnutls_db_set_remove_function(tls, gt_cache_remove);
}

void gt_cache_free(gt_cache *cache)
{
    for (unsigned i = 0; i < GT_CACHE_SLOTS; i++)
        gt_slot_clear(cache, i);
    cache->next = 0;
}
