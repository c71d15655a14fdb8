#include "hs_messages.h"

#include "tc_err.h"

#include <string.h>

#define TLS12_VERIFY_DATA 12

static const char *const names[HS_MSG_COUNT] = {
    [HS_MSG_HELLO_REQUEST] = "hello_request",
    [HS_MSG_CLIENT_HELLO] = "client_hello",
    [HS_MSG_NEW_SESSION_TICKET] = "new_session_ticket",
    [HS_MSG_CERTIFICATE_REQUEST] = "certificate_request",
};

int hs_msg_parse(const char *name, hs_msg_kind *kind)
{
    for (int i = 0; i < HS_MSG_COUNT; i++) {
        if (strcmp(names[i], name) == 0) {
            *kind = (hs_msg_kind)i;
            return TC_OK;
        }
    }
    return tc_err_set(TC_ERR_USAGE, "field 'msg': expected hello_request, client_hello, "
                      "new_session_ticket or certificate_request, not '%s'", name);
}

bool hs_msg_fits_version(hs_msg_kind kind, bool tls13)
{
    return tls13 == (kind == HS_MSG_NEW_SESSION_TICKET || kind == HS_MSG_CERTIFICATE_REQUEST);
}

/* A small writer over the caller's buffer. Every message here has a fixed
 * size well under HS_MSG_MAX (the largest, client_hello, is about 90 bytes),
 * so no write needs a bound check. */
typedef struct {
    uint8_t *p;
    size_t len;
} writer;

static void put(writer *w, const void *bytes, size_t n)
{
    memcpy(w->p + w->len, bytes, n);
    w->len += n;
}

static void put_u8(writer *w, unsigned v)
{
    w->p[w->len++] = (uint8_t)v;
}

static void put_u16(writer *w, unsigned v)
{
    put_u8(w, v >> 8);
    put_u8(w, v);
}

static void put_u32(writer *w, uint32_t v)
{
    put_u16(w, v >> 16);
    put_u16(w, v & 0xffff);
}

/* Fills in a length field of `width` bytes at `at` for what follows it. */
static void patch_len(writer *w, size_t at, int width)
{
    size_t n = w->len - at - (size_t)width;
    for (int i = width - 1; i >= 0; i--, n >>= 8)
        w->p[at + (size_t)i] = (uint8_t)n;
}

static void start_msg(writer *w, uint8_t type)
{
    put_u8(w, type);
    put_u8(w, 0);
    put_u16(w, 0); /* the length, patched by end_msg */
}

static void end_msg(writer *w)
{
    patch_len(w, 1, 3);
}

/* signature_algorithms: ECDSA P-256, RSA-PSS and RSA PKCS#1 with SHA-256,
 * which every stack under test can sign or verify with. */
static void put_signature_algorithms(writer *w)
{
    static const uint8_t algs[] = {0x04, 0x03, 0x08, 0x04, 0x04, 0x01};
    put_u16(w, 0x000d);
    put_u16(w, 2 + sizeof algs);
    put_u16(w, sizeof algs);
    put(w, algs, sizeof algs);
}

static void build_ticket(writer *w)
{
    start_msg(w, 4);
    put_u32(w, 7200);       /* ticket_lifetime */
    put_u32(w, 0x5a5a5a5a); /* ticket_age_add */
    put_u8(w, 1);           /* ticket_nonce */
    put_u8(w, 0);
    put_u16(w, 32);         /* ticket: bytes no server issued */
    for (unsigned i = 0; i < 32; i++)
        put_u8(w, 0xa0 + i);
    put_u16(w, 0);          /* no extensions */
    end_msg(w);
}

static void build_certificate_request(writer *w)
{
    start_msg(w, 13);
    put_u8(w, 1); /* certificate_request_context: non-empty after the handshake */
    put_u8(w, 0x2a);
    size_t ext_len = w->len;
    put_u16(w, 0);
    put_signature_algorithms(w);
    patch_len(w, ext_len, 2);
    end_msg(w);
}

/* RFC 5746 §3.5: the renegotiating ClientHello carries the client's
 * verify_data of the previous handshake, and no SCSV. */
static int build_client_hello(writer *w, const SSL *ssl, uint16_t suite_id)
{
    uint8_t verify[TLS12_VERIFY_DATA];
    if (SSL_get_finished(ssl, verify, sizeof verify) != sizeof verify)
        return tc_err_set(TC_ERR_USAGE, "client_hello: the first handshake left no client "
                          "verify_data to renegotiate with");
    start_msg(w, 1);
    put_u16(w, 0x0303);
    for (unsigned i = 0; i < 32; i++) /* client random: never reused, never secret here */
        put_u8(w, 0x30 + i);
    put_u8(w, 0);                    /* no session_id: a full handshake */
    put_u16(w, 2);
    put_u16(w, suite_id);
    put_u8(w, 1);                    /* compression: null only */
    put_u8(w, 0);
    size_t ext_len = w->len;
    put_u16(w, 0);
    put_u16(w, 0xff01);              /* renegotiation_info */
    put_u16(w, 1 + sizeof verify);
    put_u8(w, sizeof verify);
    put(w, verify, sizeof verify);
    put_u16(w, 0x000a);              /* supported_groups: x25519, secp256r1 */
    put_u16(w, 6);
    put_u16(w, 4);
    put_u16(w, 0x001d);
    put_u16(w, 0x0017);
    put_u16(w, 0x000b);              /* ec_point_formats: uncompressed */
    put_u16(w, 2);
    put_u8(w, 1);
    put_u8(w, 0);
    put_signature_algorithms(w);
    if (SSL_get_extms_support((SSL *)ssl) == 1) {
        put_u16(w, 0x0017);          /* extended_master_secret, as negotiated before */
        put_u16(w, 0);
    }
    patch_len(w, ext_len, 2);
    end_msg(w);
    return TC_OK;
}

int hs_msg_build(hs_msg_kind kind, bool server, const SSL *ssl, uint16_t suite_id,
                 uint8_t *out, size_t *len)
{
    writer w = {out, 0};
    bool server_msg = kind != HS_MSG_CLIENT_HELLO;
    if (server_msg != server)
        return tc_err_set(TC_ERR_USAGE, "%s is sent by a %s, and the peer is the %s",
                          names[kind], server_msg ? "server" : "client",
                          server ? "server" : "client");
    int rc = TC_OK;
    switch (kind) {
    case HS_MSG_HELLO_REQUEST: start_msg(&w, 0); end_msg(&w); break;
    case HS_MSG_CLIENT_HELLO: rc = build_client_hello(&w, ssl, suite_id); break;
    case HS_MSG_NEW_SESSION_TICKET: build_ticket(&w); break;
    case HS_MSG_CERTIFICATE_REQUEST: build_certificate_request(&w); break;
    case HS_MSG_COUNT: break;
    }
    *len = w.len;
    return rc;
}
