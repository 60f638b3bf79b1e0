/* src/cli/main.c: the mesogif command line: dispatch to the verbs (src/cli_*.c; their shared
 * helpers in src/cli/cli_common.c). */
#include "cli/cli.h"

#include <hdf5.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: mesogif <verb> [options]\n"
          "\n"
          "Batch ensembles of the Schwalger-Deger-Gerstner (2017) mesoscopic population\n"
          "equations for networks of GIF neurons, on CPUs (OpenMP) and GPUs (CUDA).\n"
          "\n"
          "verbs:\n"
          "  run [MODEL.json] [options]   simulate an ensemble, write an HDF5 file\n"
          "  info FILE.h5                 what a result file holds\n"
          "  compare A.h5 B.h5            side-by-side statistics; exit 0 if they agree\n"
          "  merge OUT.h5 IN.h5...        merge the shards of one run\n"
          "  theory MODEL.json            stationary rates, fixed points, spectra\n"
          "  switch [MODEL.json] [options]  switching rates by forward flux sampling\n"
          "  sweep [MODEL.json] --set-grid KEY=LO:HI:STEP --out-dir DIR [options]\n"
          "                               one run per point of a parameter grid, an index\n"
          "  device                       the CUDA device and its memory bandwidth\n"
          "  --help, --version\n"
          "\n"
          "`mesogif run --help` lists the run options. Without MODEL.json the embedded\n"
          "default model (bistable pair B1) is used.\n"
          "\n"
          "exit status (every verb):\n"
          "   0  done (compare: the files agree)\n"
          "   1  failure at run time: I/O, a numerical fault, CUDA (compare: the files differ;\n"
          "      device: no device)\n"
          "   2  bad input: options, model file, input files (nothing is written)\n"
          "  75  run: stopped by SIGTERM/SIGINT, checkpoint written: continue with --resume\n"
          "  130 run: interrupted without a checkpoint (--no-checkpoint)\n",
          out);
}

int main(int argc, char **argv)
{
    mg_cli_set_command_line(argc, argv);
    /* over a file-size limit (ulimit -f) a write must fail with EFBIG, which is reported and
     * cleaned up, instead of killing the process mid-file */
    signal(SIGXFSZ, SIG_IGN);
    /* HDF5 1.10 crashes in its exit handler when a file whose close failed (a full disk) is
     * still registered; the process is ending anyway, so skip that handler */
    H5dont_atexit();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(verb, "--version") == 0 || strcmp(verb, "version") == 0) {
        printf("mesogif %s (git %s, file format 1)\n", MG_VERSION, MG_GIT_COMMIT);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
    } verbs[] = {{"run", mg_cli_run},         {"info", mg_cli_info},     {"compare", mg_cli_compare},
                 {"theory", mg_cli_theory},   {"merge", mg_cli_merge},   {"device", mg_cli_device},
                 {"switch", mg_cli_switch},   {"sweep", mg_cli_sweep}};
    for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; ++k)
        if (strcmp(verb, verbs[k].name) == 0)
            return verbs[k].fn(argc - 1, argv + 1);
    mg_cli_error("unknown verb '%s' (allowed: run, info, compare, merge, theory, device, switch, sweep, --help, --version)", verb);
    return 2;
}
