#include "tls_names.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    uint8_t code;
    const char *name;
} named;

static const named alerts[] = {
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {21, "decryption_failed"},
    {22, "record_overflow"},
    {30, "decompression_failure"},
    {40, "handshake_failure"},
    {41, "no_certificate"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {60, "export_restriction"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {100, "no_renegotiation"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {111, "certificate_unobtainable"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
};

static const named handshakes[] = {
    {0, "hello_request"},
    {1, "client_hello"},
    {2, "server_hello"},
    {3, "hello_verify_request"},
    {4, "new_session_ticket"},
    {5, "end_of_early_data"},
    {8, "encrypted_extensions"},
    {11, "certificate"},
    {12, "server_key_exchange"},
    {13, "certificate_request"},
    {14, "server_hello_done"},
    {15, "certificate_verify"},
    {16, "client_key_exchange"},
    {20, "finished"},
    {22, "certificate_status"},
    {24, "key_update"},
    {254, "message_hash"},
};

static const named content_types[] = {
    {20, "change_cipher_spec"},
    {21, "alert"},
    {22, "handshake"},
    {23, "application_data"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *find_name(const named *t, size_t n, uint8_t code)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return t[i].name;
    return NULL;
}

const char *tls_alert_name(uint8_t code)
{
    return find_name(alerts, COUNT(alerts), code);
}

int tls_alert_code(const char *name)
{
    for (size_t i = 0; i < COUNT(alerts); i++)
        if (strcmp(alerts[i].name, name) == 0)
            return alerts[i].code;
    return -1;
}

const char *tls_handshake_name(uint8_t type)
{
    return find_name(handshakes, COUNT(handshakes), type);
}

const char *tls_content_type_name(uint8_t type)
{
    return find_name(content_types, COUNT(content_types), type);
}

const char *tls_alert_level_name(uint8_t level)
{
    return level == 1 ? "warning" : level == 2 ? "fatal" : NULL;
}

const char *tls_alert_outcome_name(int code, char *buf, size_t cap)
{
    const char *name = code >= 0 && code <= 255 ? tls_alert_name((uint8_t)code) : NULL;
    if (name)
        return name;
    snprintf(buf, cap, "unknown_%d", code);
    return buf;
}
