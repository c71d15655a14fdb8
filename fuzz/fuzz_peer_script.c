/* libFuzzer target: the mock peer's script parser and personality expansion
 * (peers/peer_script.h). Byte 0 chooses TLS 1.3 or 1.2 (send_keyupdate is
 * refused under 1.2); the rest is JSON text. The parser must answer TC_OK
 * or TC_ERR_USAGE with a message, and free everything either way. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonio.h"
#include "peer_script.h"
#include "tc_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool tls13 = data[0] & 1;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    json_object *root = NULL;
    if (tc_json_parse(text, "fuzz", &root) == TC_OK) {
        peer_script s;
        int rc = peer_script_parse(&s, root, tls13);
        if (rc == TC_OK)
            peer_script_free(&s);
        else if (rc != TC_ERR_USAGE || tc_err_msg()[0] == '\0')
            abort();
    }
    free(text);
    return 0;
}
