/* replay.c — runs a fuzz harness over files, without libFuzzer, so every
 * build (gcc, ASan) replays the kept corpus in `make test`.
 *
 *   fuzz_NAME DIR|FILE...   one TAP line per directory or file given
 *
 * A harness that fails aborts the process; the runner then reports the
 * program's exit status, and the last "input:" line on stderr names the
 * file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    unsigned char *data = malloc(cap);
    size_t got;
    while (data && (got = fread(data + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            unsigned char *bigger = realloc(data, cap * 2);
            if (!bigger) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!data)
        return -1;
    fprintf(stderr, "input: %s\n", path);
    /* an exact-size copy, so a read past the input's end is caught */
    char *exact = fuzz_copy(data, len, 0);
    free(data);
    LLVMFuzzerTestOneInput((const uint8_t *)exact, len);
    free(exact);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir, in name order. Returns how many ran, -1 on error. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
        }
        names[n] = strdup(de->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    long ran = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) != 0)
                ran = -1;
            else if (ran >= 0)
                ran++;
        }
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    int bad = 0;
    /* absolute first: a harness may change the current directory */
    for (int i = 1; i < argc; i++) {
        char *abs = realpath(argv[i], NULL);
        if (abs)
            argv[i] = abs;   /* kept to the end */
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long ran;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            ran = -1;
        } else if (S_ISDIR(st.st_mode)) {
            ran = run_dir(argv[i]);
        } else {
            ran = run_file(argv[i]) == 0 ? 1 : -1;
        }
        if (ran > 0) {
            printf("ok - %s: %ld inputs from %s\n", name, ran, argv[i]);
        } else {
            printf("not ok - %s: %s (%s)\n", name, argv[i], ran == 0 ? "no inputs" : "unreadable");
            bad = 1;
        }
    }
    return bad;
}
