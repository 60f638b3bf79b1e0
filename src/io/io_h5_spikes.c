/* src/io/io_h5_spikes.c: /spikes of a micro result in the SONATA spike-report layout (DESIGN.md
 * "HDF5 file - format 1"; SONATA: Dai et al., "The SONATA data format for efficient description of
 * large-scale network models", PLoS Comput Biol 16(2): e1007696, 2020):
 *
 *   /spikes                         attrs: recorded_realizations, realization_first, dt_ms
 *   /spikes/<population>            attrs: sorting (enum none/by_id/by_time = by_time),
 *                                          n_neurons, node_id_encoding (text)
 *   /spikes/<population>/timestamps float64[n] (ms), attr units = "ms"
 *   /spikes/<population>/node_ids   uint64[n]
 *
 * node_id = k N + i for neuron i (0-based, in model order) of the k-th recorded realization, i.e.
 * realization realization_first + k; N = the population's size. Spikes are sorted by time, then
 * by node id. A time stamp is the start of the time step in which the spike was emitted (t dt),
 * so that binning the spikes like /traces/A_N gives its counts. */
#include "io/io_h5_internal.h"

#include <stdio.h>
#include <string.h>

/* SONATA's "sorting" attribute: an enum over uint8 {none = 0, by_id = 1, by_time = 2}. */
static int attr_sorting_by_time(hid_t obj)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_UINT8);
    uint8_t v = 0;
    H5Tenum_insert(t, "none", &v);
    v = 1;
    H5Tenum_insert(t, "by_id", &v);
    v = 2;
    H5Tenum_insert(t, "by_time", &v);
    int rc = mg_h5_attr(obj, "sorting", t, &v);
    H5Tclose(t);
    return rc;
}

/* 1-D dataset; chunked and deflated when large (spike trains compress well). */
static hid_t dset_1d(hid_t loc, const char *name, hid_t mem_type, hid_t file_type, hsize_t n,
                     const void *data)
{
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (n >= 4096) {
        hsize_t chunk = n < 65536 ? n : 65536;
        H5Pset_chunk(dcpl, 1, &chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
    }
    hid_t d = H5Dcreate2(loc, name, file_type, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0 && n > 0 && H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        H5Dclose(d);
        d = -1;
    }
    H5Pclose(dcpl);
    H5Sclose(s);
    return d;
}

int mg_h5_write_spikes(hid_t f, const mg_result *res)
{
    if (!res->spikes)
        return 0;
    hid_t g = H5Gcreate2(f, "/spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int rc = 0;
    int64_t k = res->trace_k, first = res->opts.realization_first;
    rc |= mg_h5_attr(g, "recorded_realizations", H5T_NATIVE_INT64, &k);
    rc |= mg_h5_attr(g, "realization_first", H5T_NATIVE_INT64, &first);
    rc |= mg_h5_attr(g, "dt_ms", H5T_NATIVE_DOUBLE, &res->opts.dt_ms);
    for (int a = 0; a < res->P && rc == 0; ++a) {
        const mg_spikes *s = &res->spikes[a];
        hid_t pg = H5Gcreate2(g, res->pop_names[a], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (pg < 0) {
            rc = -1;
            break;
        }
        int64_t N = s->n_neurons;
        char enc[256];
        snprintf(enc, sizeof enc, "node_id = k * n_neurons + i: neuron i (0-based) of the k-th "
                 "recorded realization, the one in row k of /traces/realization_index; "
                 "timestamps: start of the emitting time step, t * dt_ms");
        rc |= attr_sorting_by_time(pg);
        rc |= mg_h5_attr(pg, "n_neurons", H5T_NATIVE_INT64, &N);
        rc |= mg_h5_attr_str(pg, "node_id_encoding", enc);
        hid_t d = dset_1d(pg, "timestamps", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, (hsize_t)s->n,
                          s->t_ms);
        if (d < 0)
            rc = -1;
        else {
            rc |= mg_h5_attr_str(d, "units", "ms");
            H5Dclose(d);
        }
        d = dset_1d(pg, "node_ids", H5T_NATIVE_UINT64, H5T_STD_U64LE, (hsize_t)s->n,
                    s->node_id);
        if (d < 0)
            rc = -1;
        else
            H5Dclose(d);
        H5Gclose(pg);
    }
    H5Gclose(g);
    return rc ? -1 : 0;
}
