/* tests/fuzz/h5_readers.h: what the HDF5 harnesses (fuzz_h5.c, fuzz_h5_raw.c) do with a file:
 * every reader of mesogif on it, as the command line calls them. Included by both harnesses
 * (static functions only). */
#ifndef MESOGIF_FUZZ_H5_READERS_H
#define MESOGIF_FUZZ_H5_READERS_H

#include "cli/cli.h"
#include "mesogif/io.h"
#include "mesogif/model.h"
#include "mesogif/run.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mg_cli_compare(int argc, char **argv); /* src/cli/cli_compare.c */

static char g_in[256], g_out[256], g_ckpt[256];
static FILE *g_null;

/* Per-process file names (several fuzzing processes may run side by side), in /dev/shm when
 * there is one (no disk traffic). */
static void fuzz_paths(void)
{
    if (g_in[0])
        return;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(g_in, sizeof g_in, "%s/mg_fuzz_in_%d.h5", dir, (int)getpid());
    snprintf(g_out, sizeof g_out, "%s/mg_fuzz_out_%d.h5", dir, (int)getpid());
    snprintf(g_ckpt, sizeof g_ckpt, "%s/mg_fuzz_ckpt_%d.h5", dir, (int)getpid());
    g_null = fopen("/dev/null", "w");
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void fuzz_cleanup(void)
{
    const char *files[] = {g_in, g_out, g_ckpt};
    for (int i = 0; i < 3; ++i) {
        char partial[300];
        unlink(files[i]);
        snprintf(partial, sizeof partial, "%s.partial", files[i]);
        unlink(partial);
    }
}

/* stdout and stderr of the verbs (tables, "merged ...", the "mesogif: ..." refusals of
 * src/cli/cli_common.c's mg_cli_error) go nowhere while they run */
static int quiet_verb(int (*verb)(int, char **), int argc, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    int saved = dup(1), saved_err = dup(2), fd = fileno(g_null);
    if (saved >= 0)
        dup2(fd, 1);
    if (saved_err >= 0)
        dup2(fd, 2);
    int rc = verb(argc, argv);
    fflush(stdout);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 1);
        close(saved);
    }
    if (saved_err >= 0) {
        dup2(saved_err, 2);
        close(saved_err);
    }
    return rc;
}

/* `mesogif run --resume path`: read the checkpoint, validate the run it describes (sizes,
 * memory) and run it cancelled from the start, which loads the checkpoint, parks every
 * realization again and writes a new checkpoint without simulating more than a few steps. */
static void fuzz_resume(const char *path)
{
    char *json = NULL, *source = NULL, *out = NULL;
    mg_run_opts o;
    mg_err err = {{0}};
    if (mg_run_checkpoint_read(path, &json, &source, &o, &out, &err) != MG_OK)
        return;
    mg_model m;
    if (mg_model_parse(json, source ? source : "checkpoint", &m, &err) == MG_OK) {
        double per, total;
        volatile int cancel = 1;
        o.threads = 1;
        o.backend = MG_BACKEND_CPU;
        o.theory = 0;
        o.resume_path = path;
        o.checkpoint_path = g_ckpt;
        o.output_path = g_out;
        o.cancel = &cancel;
        if (mg_run_estimate(&m, &o, &per, &total, &err) == MG_OK && total < 256e6) {
            mg_result res;
            if (mg_run(&m, &o, &res, &err) == MG_OK)
                mg_result_free(&res);
        }
        mg_model_free(&m);
    }
    free(json);
    free(source);
    free(out);
}

/* Every reader on g_in. */
static void fuzz_readers(void)
{
    mg_err err = {{0}};
    mg_stats s;
    if (mg_h5_read_stats(g_in, &s, &err) == MG_OK)
        mg_stats_free(&s);
    mg_h5_info(g_in, g_null, &err);
    char a0[] = "compare", a1[] = "merge", a2[] = "--force";
    char *cmp_argv[] = {a0, g_in, g_in, NULL};
    quiet_verb(mg_cli_compare, 3, cmp_argv);
    char *merge_argv[] = {a1, a2, g_out, g_in, NULL};
    if (quiet_verb(mg_cli_merge, 4, merge_argv) == 0) {
        /* what merge wrote must be a result the statistics reader takes */
        if (mg_h5_read_stats(g_out, &s, &err) != MG_OK) {
            fprintf(stderr, "fuzz_h5: merge wrote a file the statistics reader refuses: %s\n",
                    err.msg);
            abort();
        }
        mg_stats_free(&s);
    }
    fuzz_resume(g_in);
    /* every reader closes what it opened: a leaked identifier keeps a file open (and its
     * memory) for the life of the process */
    ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_ids != 0) {
        fprintf(stderr, "fuzz_h5: %zd HDF5 identifiers left open by the readers\n", open_ids);
        abort();
    }
}

#endif /* MESOGIF_FUZZ_H5_READERS_H */
