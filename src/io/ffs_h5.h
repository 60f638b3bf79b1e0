/* src/io/ffs_h5.h: HDF5 helpers shared by the files of `mesogif switch` (src/io/ffs_h5.c, the result;
 * src/ffs/ffs_ckpt.c, the checkpoint). Internal. */
#ifndef MESOGIF_FFS_H5_H
#define MESOGIF_FFS_H5_H

#include <hdf5.h>
#include <stdint.h>

/* Datasets at path, 0 or non-zero on failure: n doubles or int64 (compressed above 4096 values;
 * strings: mg_h5_dset_str, src/io/io_h5_internal.h). */
int mg_ffs_h5_f64(hid_t loc, const char *path, hsize_t n, const double *v);
int mg_ffs_h5_i64(hid_t loc, const char *path, hsize_t n, const int64_t *v);

#endif /* MESOGIF_FFS_H5_H */
