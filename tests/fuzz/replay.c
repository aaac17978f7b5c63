/* SPDX-License-Identifier: MIT */
/* Runs a fuzz target's LLVMFuzzerTestOneInput() once on each file named on the command line (a
 * directory: on each regular file in it), without libFuzzer: `make check` replays the corpus and
 * the regressions this way under gcc's sanitizers, no clang needed. Exit 0 when every input ran;
 * a crash, a broken invariant or a leak aborts (ASan/UBSan set the exit code). */
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path, unsigned *count) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(freep) uint8_t *data = NULL;
        size_t size = 0, cap = 0, n;

        if (!f) {
                fprintf(stderr, "replay: cannot open '%s': %m\n", path);
                return -errno;
        }
        do {
                if (cap - size < 4096) {
                        uint8_t *t = realloc(data, cap + 65536);
                        if (!t)
                                return -ENOMEM;
                        data = t;
                        cap += 65536;
                }
                n = fread(data + size, 1, cap - size, f);
                size += n;
        } while (n > 0);
        if (ferror(f)) {
                fprintf(stderr, "replay: cannot read '%s'\n", path);
                return -EIO;
        }
        /* Said before the run, so that a crash names its input. */
        if (getenv("REPLAY_VERBOSE"))
                fprintf(stderr, "replay: %s\n", path);
        (void) LLVMFuzzerTestOneInput(data, size);
        (*count)++;
        return 0;
}

static int compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int run_dir(const char *path, unsigned *count) {
        _cleanup_(closedirp) DIR *d = opendir(path);
        _cleanup_(strv_freep) char **names = NULL;
        struct dirent *de;
        int ret = 0;

        if (!d) {
                fprintf(stderr, "replay: cannot open '%s': %m\n", path);
                return -errno;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        if (!names)
                return 0;
        /* In name order, so that two runs replay alike. */
        qsort(names, strv_length(names), sizeof(char *), compare);
        for (char **n = names; *n; n++) {
                _cleanup_(freep) char *p = NULL;
                struct stat st;

                if (asprintf(&p, "%s/%s", path, *n) < 0)
                        return -ENOMEM;
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                        int r = run_file(p, count);
                        if (r < 0)
                                ret = r;
                }
        }
        return ret;
}

int main(int argc, char *argv[]) {
        unsigned count = 0;
        int ret = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
                return 2;
        }
        (void) LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r;

                if (stat(argv[i], &st) < 0) {
                        /* A target without regressions yet has no directory: nothing to replay. */
                        if (errno == ENOENT)
                                continue;
                        fprintf(stderr, "replay: cannot stat '%s': %m\n", argv[i]);
                        return 1;
                }
                r = S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i], &count);
                if (r < 0)
                        ret = 1;
        }
        printf("%s: %u inputs replayed\n", argv[0], count);
        return ret;
}
