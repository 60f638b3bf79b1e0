/* include/mesogif/io.h: HDF5 files of format 1 (DESIGN.md; docs/FILE_FORMAT.md). */
#ifndef MESOGIF_IO_H
#define MESOGIF_IO_H

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

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_IO_H */
