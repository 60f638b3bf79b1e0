/* src/cli/cli_merge.c: `mesogif merge OUT.h5 IN.h5...`: the options, then mg_merge
 * (src/io/merge.c) and one line saying what was merged. */
#include "cli/cli.h"
#include "mesogif/io.h"

#include <getopt.h>
#include <stdio.h>

int mg_cli_merge(int argc, char **argv)
{
    static const struct option longopts[] = {{"allow-gaps", no_argument, 0, 'g'},
                                             {"force", no_argument, 0, 'f'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int allow_gaps = 0, force = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'g')
            allow_gaps = 1;
        else if (c == 'f')
            force = 1;
        else if (c == 'h') {
            puts("usage: mesogif merge OUT.h5 IN.h5... [--allow-gaps] [--force]\n"
                 "Merge the shards of one run (same model, options and seed) into OUT.h5; the\n"
                 "output comes first. Every shard of the run must be there (the shards record\n"
                 "which run they belong to) and their realization ranges must not overlap;\n"
                 "--allow-gaps merges an incomplete set anyway and records the missing ranges.\n"
                 "--force overwrites an existing OUT.h5, but never an input or a shard or\n"
                 "result of the same run.\n"
                 "Exit status: 0 merged, 1 failure while writing, 2 bad input.");
            return 0;
        } else {
            mg_cli_unknown_option("merge", argv[optind - 1], longopts);
            return 2;
        }
    }
    if (argc - optind < 2) {
        mg_cli_error("merge: need OUT.h5 and at least one IN.h5 (see mesogif merge --help)");
        return 2;
    }
    const char *out_path = argv[optind];
    const int n = argc - optind - 1;
    mg_merge_opts mo = {allow_gaps, force, mg_cli_command_line()};
    mg_merge_info info;
    mg_err err = {{0}};
    int rc = mg_merge(out_path, (const char *const *)(argv + optind + 1), n, &mo, &info, &err);
    if (rc != MG_OK) {
        /* a refused output is named like run names it; everything else is merge's */
        if (info.output_exists)
            mg_cli_error("%s", err.msg);
        else
            mg_cli_error("merge: %s", err.msg);
        return info.writing ? 1 : 2;
    }
    if (info.gaps)
        printf("merged %d shards, realizations [%lld, %lld) with gaps (missing %s of the run "
               "[%lld, %lld), recorded in the attribute missing_realizations), into %s\n", n,
               (long long)info.first, (long long)info.end, info.missing,
               (long long)info.run_first, (long long)info.run_end, out_path);
    else
        printf("merged %d shards, realizations [%lld, %lld), into %s\n", n,
               (long long)info.first, (long long)info.end, out_path);
    return 0;
}
