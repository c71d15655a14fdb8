#include "takeover.h"

#include "tc_err.h"
#include "transcript.h"

#include <string.h>

static int init13(const hs_conn *hs, bool server, tc_direction *rd, tc_direction *wr)
{
    const uint8_t *mine = server ? hs->server_secret : hs->client_secret;
    const uint8_t *theirs = server ? hs->client_secret : hs->server_secret;
    int rc = tc_direction_init13(wr, hs->suite, mine, hs->client_secret_len);
    if (rc == TC_OK)
        rc = tc_direction_init13(rd, hs->suite, theirs, hs->server_secret_len);
    return rc;
}

static int init12(const hs_conn *hs, bool server, tc_direction *rd, tc_direction *wr)
{
    tc_traffic_keys client_write, server_write;
    int rc = tc12_key_block(hs->suite, hs->master, hs->client_random, hs->server_random,
                            &client_write, &server_write);
    if (rc == TC_OK)
        rc = tc_direction_init12(wr, hs->suite, server ? &server_write : &client_write, 0);
    if (rc == TC_OK)
        rc = tc_direction_init12(rd, hs->suite, server ? &client_write : &server_write, 0);
    OPENSSL_cleanse(&client_write, sizeof client_write);
    OPENSSL_cleanse(&server_write, sizeof server_write);
    return rc;
}

typedef struct {
    tc_direction *d;
    const hs_bytes *log;
    const char *dir;
    const char *by;
    int conn;
    bool tls13;
} count_job;

/* Tries one record under the direction's current key; logs and counts it
 * when it authenticates. *counted tells whether it did. */
static int try_record(count_job *j, const uint8_t *rec, size_t rec_len, bool *counted)
{
    static uint8_t plain[TC_MAX_RECORD];
    uint8_t type;
    size_t len;
    tr_record_info info = {.dir = j->dir, .by = j->by, .conn = j->conn,
                           .epoch = j->d->epoch, .seq = j->d->seq, .takeover = true};
    int rc = tc_record_unprotect(j->d, rec, rec_len, &type, plain, sizeof plain, &len);
    *counted = rc == TC_OK;
    if (rc != TC_OK)
        return rc == TC_ERR_DECRYPT || rc == TC_ERR_MALFORMED ? TC_OK : rc;
    info.type = type;
    info.content = plain;
    info.len = len;
    tr_record(&info);
    return TC_OK;
}

static int count_records(count_job *j)
{
    bool protected_now = j->tls13;
    size_t off = 0;
    while (off < j->log->len) {
        const uint8_t *rec = j->log->data + off;
        size_t rec_len = 0;
        if (tc_record_frame(rec, j->log->len - off, &rec_len) != 1)
            return tc_err_set(TC_ERR_LIBRARY, "handshake bytes (%s) do not end on a record boundary",
                              j->dir);
        off += rec_len;
        if (!protected_now) {
            protected_now = rec[0] == TC_CT_CHANGE_CIPHER_SPEC;
            continue;
        }
        if (j->tls13 && rec[0] != TC_CT_APPLICATION_DATA)
            continue; /* middlebox-compatibility ChangeCipherSpec */
        bool counted;
        int rc = try_record(j, rec, rec_len, &counted);
        if (rc < 0)
            return rc;
        if (!j->tls13 && !counted)
            return tc_err_set(TC_ERR_LIBRARY, "TLS 1.2: a record (%s) after ChangeCipherSpec does "
                              "not authenticate under the derived keys", j->dir);
    }
    return TC_OK;
}

int takeover_build(const hs_conn *hs, bool server, int conn_id, tc_direction *rd,
                   tc_direction *wr)
{
    bool tls13 = hs->suite->tls13;
    memset(rd, 0, sizeof *rd);
    memset(wr, 0, sizeof *wr);
    int rc = tls13 ? init13(hs, server, rd, wr) : init12(hs, server, rd, wr);
    count_job sent = {wr, &hs->sent, "sent", "library", conn_id, tls13};
    count_job recv = {rd, &hs->consumed, "recv", "sut", conn_id, tls13};
    if (rc == TC_OK)
        rc = count_records(&sent);
    if (rc == TC_OK)
        rc = count_records(&recv);
    if (rc < 0) {
        tc_direction_free(rd);
        tc_direction_free(wr);
    }
    return rc;
}
