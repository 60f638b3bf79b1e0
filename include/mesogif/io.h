/* include/mesogif/io.h: HDF5 files of format 1 (DESIGN.md; docs/FILE_FORMAT.md). */
#ifndef MESOGIF_IO_H
#define MESOGIF_IO_H

#include <stdint.h>
#include <stdio.h>
#include "mesogif/error.h"
#include "mesogif/model.h"
#include "mesogif/run.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MG_FORMAT_VERSION 1

/* Write res (of model m, run by command_line) to path. The file is written as path.partial and
 * renamed to path only when complete, so path never holds a half-written file. If path exists
 * and force is 0, nothing is written and MG_EIO is returned ("exists; use --force").
 * MG_EIO with the HDF5 operation named on any failure (the .partial file is removed). */
int mg_h5_write_result(const char *path, const mg_result *res, const mg_model *m,
                       const char *command_line, int force, mg_err *err);

/* Read the statistics of a format-1 file: the sums of /stats/sums and their configuration, then
 * mg_stats_finalize. Fills *s (free with mg_stats_free). MG_EIO with the file named when it is
 * not a format-1 result, is damaged or truncated; *s is zeroed then. */
int mg_h5_read_stats(const char *path, mg_stats *s, mg_err *err);

/* Print a human-readable description of a format-1 file to out: attributes, populations,
 * statistics, what traces/spectra it holds. MG_EIO if it cannot be read or is not format 1. */
int mg_h5_info(const char *path, FILE *out, mg_err *err);

/* Merge the shards of one run (files written by mg_h5_write_result with realization ranges of
 * one run: same /config/run_key, issue 6) into out_path: the statistics summed exactly in
 * realization order, the traces and spikes concatenated in realization order, /config and
 * /theory from the first shard; written as out_path.partial and renamed when complete. Inputs
 * must tile the run's realizations (or o->allow_gaps: the missing ranges are recorded in the
 * attribute missing_realizations). out_path is never an input, nor a shard or unmerged result
 * of the same run; an existing out_path is refused unless o->force. command_line is recorded.
 * MG_OK and *info; else the error, which names the file: info->writing 0 for bad input (the
 * inputs, or the output refused; info->output_exists when it exists without force), 1 for a
 * failure while writing (nothing is left at out_path). */
typedef struct {
    int allow_gaps;
    int force;
    const char *command_line;    /* may be NULL */
} mg_merge_opts;
typedef struct {
    int n;                       /* inputs */
    int64_t first, end;          /* realizations [first, end) of the merge (gaps included) */
    int gaps;                    /* 1: realizations of the run are in no input */
    int64_t run_first, run_end;  /* the run the shards belong to */
    char missing[512];           /* the missing ranges, "[a, b), ..." */
    int output_exists;           /* refused: out_path exists and force is 0 */
    int writing;                 /* the failure happened while writing, not in the input */
} mg_merge_info;
int mg_merge(const char *out_path, const char *const *in_paths, int n, const mg_merge_opts *o,
             mg_merge_info *info, mg_err *err);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_IO_H */
