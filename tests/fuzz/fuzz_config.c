/* fuzz_config.c — a config file (YAML or JSON) of any bytes: loaded or
 * refused with a message that starts with the file's name and, past the
 * first line, a position; never a crash or a leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *c = NULL;
    char *err = NULL;
    int rc = config_load_string("fuzz.yaml", (const char *)data, size, &c, &err);
    if (rc < 0) {
        FUZZ_CHECK(c == NULL, "a config handed back with an error");
        FUZZ_CHECK(err && strncmp(err, "fuzz.yaml", 9) == 0, "error without the file's name: %s",
                   err ? err : "(none)");
    } else {
        FUZZ_CHECK(c != NULL && err == NULL, "loaded without a config, or with an error");
    }
    free(err);
    config_free(c);
    return 0;
}
