/* libFuzzer target: the shim's step-script parser (stacks/shimlib/
 * step_script.h), which checks a script completely before any IO. Any JSON
 * text goes in; it must come back as TC_OK or TC_ERR_USAGE with a message,
 * never a crash, a leak or an out-of-bounds access. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonio.h"
#include "step_script.h"
#include "tc_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    json_object *root = NULL;
    if (tc_json_parse(text, "fuzz", &root) == TC_OK) {
        step_script s;
        int rc = step_script_from_json(root, &s);
        if (rc == TC_OK)
            step_script_free(&s);
        else if (rc != TC_ERR_USAGE || tc_err_msg()[0] == '\0')
            abort();
    }
    free(text);
    return 0;
}
