/* fuzz_batch.c — a batch file of any bytes: its tasks loaded, or refused
 * with an error that starts with the file's name; a loaded batch has every
 * task exactly once in its run order, each after the tasks it needs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "batch_file.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("batch", 0);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct bfile f;
    char *err = NULL;
    if (bfile_load(path, &f, &err) < 0) {
        FUZZ_CHECK(err && strncmp(err, path, strlen(path)) == 0,
                   "error without the file's name: %s", err ? err : "(none)");
        free(err);
    } else {
        size_t *pos = malloc((f.n ? f.n : 1) * sizeof *pos);
        if (!pos)
            abort();
        for (size_t i = 0; i < f.n; i++)
            pos[i] = (size_t)-1;
        for (size_t i = 0; i < f.n; i++) {
            size_t t = f.order[i];
            FUZZ_CHECK(t < f.n && pos[t] == (size_t)-1, "task %zu twice in the run order", t);
            pos[t] = i;
        }
        for (size_t i = 0; i < f.n; i++) {
            const struct btask *t = &f.tasks[i];
            FUZZ_CHECK(bfile_find(&f, t->id) != NULL, "task '%s' not found by its id", t->id);
            for (size_t k = 0; k < t->nneeds; k++)
                FUZZ_CHECK(t->need_at[k] < f.n && pos[t->need_at[k]] < pos[i],
                           "task '%s' runs before '%s', which it needs", t->id, t->needs[k]);
        }
        free(pos);
        bfile_fini(&f);
    }
    close(fd);
    return 0;
}
