/* src/io/io_h5_internal.h: pieces of the format-1 writer that live in their own files. Internal. */
#ifndef MESOGIF_IO_H5_INTERNAL_H
#define MESOGIF_IO_H5_INTERNAL_H

#include <hdf5.h>
#include <stdio.h>
#include "mesogif/run.h"

/* /spikes/<population>/{timestamps, node_ids} (SONATA) of a micro result; nothing for meso.
 * Returns 0, or -1 on an HDF5 failure. src/io/io_h5_spikes.c */
int mg_h5_write_spikes(hid_t f, const mg_result *res);

/* /theory of a result run with opts.theory set: res->theory (src/theory/theory_run.c), or the
 * reason it is missing (res->theory_error, or m not being the run's model) in the root attribute
 * theory_error. Always returns 0: a theory that cannot be written leaves no /theory and the
 * reason, never a lost run. src/io/io_h5_theory.c */
int mg_h5_write_theory(hid_t f, const mg_result *res, const mg_model *m);

/* The theory table of `mesogif run --theory` (src/io/io_theory_table.c): the n fixed points
 * (rates and CVs [n][P], stability [n]) next to the simulated rates mean[P] and, when exactly one
 * is stable and the spectra are there (F > 0, freq[F], psd[n][P][F], sim[P][F] not NULL), the
 * simulated / theoretical spectrum in octave bands. renewal and complete: as /theory's method
 * and complete. */
typedef struct {
    int P, n;
    int64_t F;
    char (*names)[MG_NAME_MAX];
    const double *rates, *cv, *mean, *freq, *psd, *sim;
    const int8_t *stable;
    int renewal, complete;
} mg_theory_table;
void mg_theory_table_print(const mg_theory_table *t, FILE *out);

/* Print the table of the /theory of the file at path to out. warning[warning_len] receives ""
 * or one line to show the user (no /theory written and why, or the /theory warnings). MG_OK,
 * or MG_EIO when the file or /theory cannot be read. src/io/io_h5_theory.c */
int mg_h5_theory_print(const char *path, FILE *out, char *warning, size_t warning_len);

/* The moments table of `run` and `info` (src/io/io_moments_table.c): per population (names[P];
 * with its N when N is not NULL) mean A, its standard error ("n/a" when NaN) and sqrt(var);
 * each line starts with indent. */
void mg_print_moments_table(FILE *out, const char *indent, char *const *names, const int64_t *N,
                            const double *mean, const double *sem, const double *var, int P);
/* v printed with fmt (one double) into buf, or "n/a" when v is NaN (undefined: the printed
 * tables say n/a and why where the file holds NaN); returns buf. */
const char *mg_fmt_or_na(char *buf, size_t len, const char *fmt, double v);

/* /stats of a format-1 file from s (population names for the histogram groups). Statistics
 * that could not be formed are left out, never written as NaN: the spectra when no segment
 * fitted after the warm-up, and /stats/switching with /stats/hist/observable unless switching
 * is set (an observable was declared). 0 or -1. */
int mg_h5_write_stats(hid_t f, const mg_stats *s, char (*pop_names)[MG_NAME_MAX], int switching);

/* Atomic result files (run and switch): mg_h5_partial_create refuses an existing path unless
 * force, and creates path.partial (its name in partial[len]); mg_h5_partial_finish closes f and,
 * when what is NULL and the file closed, renames it into place (refusing a path that appeared
 * meanwhile unless force); otherwise it removes the partial file and reports what failed. Both
 * return MG_OK, or an error in err (create: a negative hid_t). */
hid_t mg_h5_partial_create(const char *path, int force, char *partial, size_t len, mg_err *err);
int mg_h5_partial_finish(hid_t f, const char *partial, const char *path, int force,
                         const char *what, mg_err *err);

/* Small writers shared by the format-1 writers (src/io/io_h5_put.c); 0 or -1. mg_h5_dset (rank
 * 0..3, dims NULL for a scalar) creates intermediate groups, and chunks + deflates when compress
 * is set and the data are large enough to matter; the typed ones write float64 / int64 / a
 * variable-length UTF-8 string, uncompressed. mg_h5_group creates a group (and its parents);
 * mg_h5_str_type is the variable-length UTF-8 string type (close it with H5Tclose). */
int mg_h5_attr_str(hid_t obj, const char *name, const char *value);
int mg_h5_attr_i64(hid_t obj, const char *name, int64_t v);
int mg_h5_attr_f64(hid_t obj, const char *name, double v);
int mg_h5_attr(hid_t obj, const char *name, hid_t type, const void *value); /* scalar */
int mg_h5_dset(hid_t loc, const char *path, hid_t mem_type, hid_t file_type, int rank,
               const hsize_t *dims, const void *data, int compress);
int mg_h5_dset_f64(hid_t loc, const char *path, int rank, const hsize_t *dims, const double *v);
int mg_h5_dset_i64(hid_t loc, const char *path, int rank, const hsize_t *dims, const int64_t *v);
int mg_h5_dset_str(hid_t loc, const char *path, const char *v);
hid_t mg_h5_group(hid_t loc, const char *name);
hid_t mg_h5_str_type(void);
/* The root attributes every mesogif file opens with: format, format_version, mesogif_version,
 * git_commit, created (UTC now) and command_line (NULL: ""). 0 or -1. */
int mg_h5_attr_header(hid_t f, const char *command_line);
/* The root attributes a run file and a switch file share (docs/FILE_FORMAT.md): the header, then
 * kind (unless NULL), level, backend (NULL: "cpu"), device, seed, dt_ms, t_warmup_ms, noise,
 * wall_s, device_memory_bytes and partial. 0 or -1. */
typedef struct {
    const char *kind, *backend, *device;
    mg_level level;
    mg_noise noise;
    uint64_t seed;
    double dt_ms, t_warmup_ms, wall_s, device_bytes;
    int64_t partial;
} mg_h5_root;
int mg_h5_attr_root(hid_t f, const char *command_line, const mg_h5_root *r);
/* A result file written atomically: mg_h5_partial_create, the root attributes of root, then
 * body(f, ctx), which returns NULL or the name of the part that failed, and
 * mg_h5_partial_finish. MG_OK or an error in err. */
int mg_h5_write_file(const char *path, int force, const char *command_line, const mg_h5_root *root,
                     const char *(*body)(hid_t f, const void *ctx), const void *ctx, mg_err *err);
/* Copies from file src into file dst (src/io/io_h5_put.c). mg_h5_copy_attrs: the attributes of
 * the object at path (in both files; "/" for the root) except the n_skip names in skip, whatever
 * their type and shape; 0, or -1 at the first that fails unless best_effort (then always 0, what
 * can be copied is). mg_h5_copy: the object at path with all below it (optional: nothing and 0
 * when src has none); 0 or -1. */
int mg_h5_copy_attrs(hid_t src, hid_t dst, const char *path, const char *const *skip, int n_skip,
                     int best_effort);
int mg_h5_copy(hid_t src, hid_t dst, const char *path, int optional);

/* Readers (src/io/io_h5_util.c); each returns 0, or -1 when the object is missing or not of the
 * expected shape (nothing is written then beyond what the shape allows):
 * mg_h5_read_attr: a scalar (one-value) attribute converted to `type`;
 * mg_h5_read_attr_str: a scalar variable-length string attribute, truncated to len;
 * mg_h5_read_str: a scalar string dataset, malloc'ed (NULL on failure);
 * mg_h5_npoints: elements of a dataset (-1 if missing);
 * mg_h5_read_array: a dataset of exactly n elements converted to `type`. */
int mg_h5_read_attr(hid_t obj, const char *name, hid_t type, void *v);
int mg_h5_read_attr_str(hid_t obj, const char *name, char *buf, size_t len);
char *mg_h5_read_str(hid_t loc, const char *path);
hssize_t mg_h5_npoints(hid_t loc, const char *path);
int mg_h5_read_array(hid_t loc, const char *path, hid_t type, void *v, hsize_t n);
/* More readers (src/io/io_h5_util.c):
 * mg_h5_open_read: the file at path, read-only, with HDF5's own error printing off; a negative
 * hid_t when it cannot be opened, and *not_hdf5 set when it is no HDF5 file at all;
 * mg_h5_close: close such a file (nothing for f <= 0);
 * mg_h5_has: 1 when every link along path exists (H5Lexists fails on a missing parent), else 0;
 * mg_h5_read_attr_at: mg_h5_read_attr of the object at path obj;
 * mg_h5_shape: the dims d[rank] (rank 1..3) of a dataset of exactly that rank, -1 otherwise, and
 * also when its values of elem bytes cannot be in the file (mesogif compresses with deflate, at
 * most 1032:1: a damaged or crafted header that claims more must not size a buffer);
 * mg_h5_read_names: a dataset of exactly n variable-length UTF-8 strings into n rows of width
 * chars (a NULL string: "?"). */
hid_t mg_h5_open_read(const char *path, int *not_hdf5);
void mg_h5_close(hid_t f);
int mg_h5_has(hid_t loc, const char *path);
/* What kind of mesogif file f is (from its format attribute and groups), and that kind in
 * words for an error, with what to do with such a file (NULL for MG_H5_UNKNOWN): for a verb
 * given a file of another kind than it takes. */
typedef enum {
    MG_H5_UNKNOWN,
    MG_H5_RUN_RESULT,
    MG_H5_SWITCH_RESULT,
    MG_H5_RUN_CHECKPOINT,
    MG_H5_SWITCH_CHECKPOINT
} mg_h5_file_kind;
mg_h5_file_kind mg_h5_kind(hid_t f);
const char *mg_h5_kind_words(mg_h5_file_kind k);
/* MG_OK when path can be read and is an HDF5 file; else MG_EIO with a message naming path and
 * why ("No such file or directory", "Permission denied", not an HDF5 file). */
int mg_h5_check_readable(const char *path, mg_err *err);
int mg_h5_read_attr_at(hid_t loc, const char *obj, const char *name, hid_t type, void *v);
int mg_h5_shape(hid_t loc, const char *path, int rank, int64_t *d, size_t elem);
int mg_h5_read_names(hid_t loc, const char *path, char *names, size_t width, int n);

#endif /* MESOGIF_IO_H5_INTERNAL_H */
