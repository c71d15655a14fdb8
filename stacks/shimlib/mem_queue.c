#include "mem_queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc_err.h"

/* Where the allocation starts: one record's worth of handshake bytes fits
 * without growing. */
#define MEM_QUEUE_FIRST_ALLOC 4096

void mem_queue_init(mem_queue *q, size_t limit)
{
    memset(q, 0, sizeof *q);
    q->limit = limit;
}

void mem_queue_free(mem_queue *q)
{
    free(q->data);
    memset(q, 0, sizeof *q);
}

size_t mem_queue_fit(const mem_queue *q, size_t n)
{
    if (q->limit == 0)
        return n;
    size_t room = q->len < q->limit ? q->limit - q->len : 0;
    return n < room ? n : room;
}

/* Doubling keeps appends amortized O(1) for a queue that is filled in
 * small pieces (one TLS record at a time). */
static int grow(mem_queue *q, size_t need)
{
    size_t alloc = q->alloc ? q->alloc : MEM_QUEUE_FIRST_ALLOC;
    while (alloc < need) {
        if (alloc > SIZE_MAX / 2)
            return tc_err_set(TC_ERR_SYS, "memory IO: queue too large (%zu bytes)", need);
        alloc *= 2;
    }
    uint8_t *p = realloc(q->data, alloc);
    if (!p)
        return tc_err_set(TC_ERR_SYS, "memory IO: out of memory (%zu bytes)", alloc);
    q->data = p;
    q->alloc = alloc;
    return TC_OK;
}

int mem_queue_append(mem_queue *q, const uint8_t *src, size_t n)
{
    if (n == 0)
        return TC_OK; /* the queue may have no storage yet: no memcpy to NULL */
    if (mem_queue_fit(q, n) < n)
        return tc_err_set(TC_ERR_USAGE, "memory IO: %zu bytes exceed the queue's limit", n);
    if (n > SIZE_MAX - q->len)
        return tc_err_set(TC_ERR_SYS, "memory IO: queue too large");
    if (q->len + n > q->alloc) {
        int r = grow(q, q->len + n);
        if (r != TC_OK)
            return r;
    }
    memcpy(q->data + q->len, src, n);
    q->len += n;
    return TC_OK;
}

size_t mem_queue_take(mem_queue *q, uint8_t *dst, size_t cap)
{
    size_t n = q->len < cap ? q->len : cap;
    if (n == 0)
        return 0;
    memcpy(dst, q->data, n);
    memmove(q->data, q->data + n, q->len - n);
    q->len -= n;
    return n;
}

size_t mem_queue_pending(const mem_queue *q)
{
    return q->len;
}

void mem_queue_set_eof(mem_queue *q)
{
    q->eof = true;
}

bool mem_queue_ended(const mem_queue *q)
{
    return q->eof && q->len == 0;
}
