/* src/io_h5_internal.h: pieces of the format-1 writer that live in their own files. Internal. */
#ifndef MESOGIF_IO_H5_INTERNAL_H
#define MESOGIF_IO_H5_INTERNAL_H

#include <hdf5.h>
#include "mesogif/run.h"

/* /spikes/<population>/{timestamps, node_ids} (SONATA) of a micro result; nothing for meso.
 * Returns 0, or -1 on an HDF5 failure. src/io_h5_spikes.c */
int mg_h5_write_spikes(hid_t f, const mg_result *res);

/* /stats of a format-1 file from s (population names for the histogram groups). 0 or -1. */
int mg_h5_write_stats(hid_t f, const mg_stats *s, char (*pop_names)[MG_NAME_MAX]);

/* Small writers shared by the format-1 writers (src/io_h5.c); 0 or -1. mg_h5_dset creates
 * intermediate groups, and chunks + deflates when compress is set. */
int mg_h5_attr_str(hid_t obj, const char *name, const char *value);
int mg_h5_attr_i64(hid_t obj, const char *name, int64_t v);
int mg_h5_dset(hid_t loc, const char *path, hid_t mem_type, hid_t file_type, int rank,
               const hsize_t *dims, const void *data, int compress);

#endif /* MESOGIF_IO_H5_INTERNAL_H */
