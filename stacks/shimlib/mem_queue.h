/* mem_queue: a byte queue in memory, the buffer between a TLS library and
 * the shim runner in memory IO mode (docs/shim-protocol.md §4). A driver
 * keeps two, input (runner -> library) and output (library -> runner), and
 * its library-specific callbacks translate "empty" and "full" into that
 * library's would-block codes.
 *
 * Needs: a queue zeroed or set up by mem_queue_init; one thread at a time.
 * Returns: bytes in first-in first-out order. A queue may have a limit: it
 * then never holds more than that many bytes, so a library writing to a
 * peer that does not read sees a full transport, as on a socket.
 * Never: blocks, touches a socket, or drops or reorders bytes it accepted.
 * An allocation failure leaves the queue as it was. */
#ifndef TLSCLOSE_MEM_QUEUE_H
#define TLSCLOSE_MEM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len;   /* bytes queued */
    size_t alloc; /* bytes allocated */
    size_t limit; /* most bytes queued at once; 0: no limit */
    bool eof;     /* the writing side has finished */
} mem_queue;

/* An empty queue with the given limit (0: none), on a queue that holds no
 * storage (new or freed). A zeroed queue is the same as
 * mem_queue_init(q, 0). */
void mem_queue_init(mem_queue *q, size_t limit);
/* Releases the bytes; the queue is zeroed (no limit) afterwards. */
void mem_queue_free(mem_queue *q);

/* How many of n bytes the queue accepts now (n when it has no limit). */
size_t mem_queue_fit(const mem_queue *q, size_t n);
/* Appends all n bytes, or fails with TC_ERR_USAGE when they exceed
 * mem_queue_fit, or TC_ERR_SYS when memory runs out. */
int mem_queue_append(mem_queue *q, const uint8_t *src, size_t n);
/* Moves up to cap bytes from the front into dst; returns how many. */
size_t mem_queue_take(mem_queue *q, uint8_t *dst, size_t cap);
/* Bytes queued and not yet taken. */
size_t mem_queue_pending(const mem_queue *q);

/* The writing side will append nothing more. */
void mem_queue_set_eof(mem_queue *q);
/* True once mem_queue_set_eof was called and every byte was taken: the
 * reader's end of stream. */
bool mem_queue_ended(const mem_queue *q);

#endif
