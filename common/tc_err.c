#include "tc_err.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_message[512];

int tc_err_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return code;
}

const char *tc_err_msg(void)
{
    return last_message;
}

const char *tc_err_name(int code)
{
    switch (code) {
    case TC_OK: return "ok";
    case TC_ERR_USAGE: return "usage";
    case TC_ERR_SYS: return "system";
    case TC_ERR_CRYPTO: return "crypto";
    case TC_ERR_DECRYPT: return "decrypt";
    case TC_ERR_MALFORMED: return "malformed";
    case TC_ERR_TIMEOUT: return "timeout";
    case TC_ERR_EOF: return "eof";
    case TC_ERR_RESET: return "reset";
    case TC_ERR_UNSUPPORTED: return "unsupported";
    case TC_ERR_LIBRARY: return "library";
    default: return "unknown";
    }
}
