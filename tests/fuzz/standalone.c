/* tests/fuzz/standalone.c: a main() for the libFuzzer harnesses of tests/fuzz/ without
 * libFuzzer: every file named on the command line (folders: every file in them) goes once
 * through LLVMFuzzerTestOneInput. `make check-asan` links the harnesses with it (gcc,
 * -fsanitize=address,undefined) to replay the seed corpora and tests/fuzz/regressions/ on every
 * CI run, so that a fixed finding stays fixed without clang. Exit 0 when every input ran
 * (a finding aborts the process with the sanitizer's report, naming the input first). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "standalone: cannot open %s\n", path);
        return -1;
    }
    /* inputs are regular files (main expands folders): read them by their size */
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    rewind(f);
    uint8_t *buf = size >= 0 ? malloc(size > 0 ? (size_t)size : 1) : NULL;
    size_t len = buf ? fread(buf, 1, (size_t)size, f) : 0;
    fclose(f);
    if (!buf) {
        fprintf(stderr, "standalone: cannot read %s\n", path);
        return -1;
    }
    fprintf(stderr, "standalone: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int n = 0, bad = 0;
    for (int i = 1; i < argc; ++i) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "standalone: %s: no such file or folder\n", argv[i]);
            bad = 1;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            bad |= run_file(argv[i]) != 0;
            ++n;
            continue;
        }
        /* a folder: its files in name order (reproducible logs) */
        DIR *d = opendir(argv[i]);
        if (!d) {
            bad = 1;
            continue;
        }
        char **names = NULL;
        size_t k = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            if (k == cap) {
                cap = cap ? 2 * cap : 64;
                char **nn = realloc(names, cap * sizeof *names);
                if (!nn)
                    break;
                names = nn;
            }
            size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
            names[k] = malloc(len);
            if (names[k])
                snprintf(names[k++], len, "%s/%s", argv[i], e->d_name);
        }
        closedir(d);
        if (k > 0)
            qsort(names, k, sizeof *names, cmp_str);
        for (size_t j = 0; j < k; ++j) {
            bad |= run_file(names[j]) != 0;
            ++n;
            free(names[j]);
        }
        free(names);
    }
    fprintf(stderr, "standalone: %d inputs, %s\n", n, bad ? "some could not be read" : "done");
    return bad ? 1 : 0;
}
