/* src/io_h5_internal.h: pieces of the format-1 writer that live in their own files. Internal. */
#ifndef MESOGIF_IO_H5_INTERNAL_H
#define MESOGIF_IO_H5_INTERNAL_H

#include <hdf5.h>
#include "mesogif/run.h"

/* /spikes/<population>/{timestamps, node_ids} (SONATA) of a micro result; nothing for meso.
 * Returns 0, or -1 on an HDF5 failure. src/io_h5_spikes.c */
int mg_h5_write_spikes(hid_t f, const mg_result *res);

#endif /* MESOGIF_IO_H5_INTERNAL_H */
