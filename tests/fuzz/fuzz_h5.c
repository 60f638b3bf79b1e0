/* tests/fuzz/fuzz_h5.c: libFuzzer harness for every reader of HDF5 files (issue 8, point 2):
 * `mesogif info` (mg_h5_info), the statistics reader behind compare and merge
 * (mg_h5_read_stats), `mesogif compare` (the file against itself), `mesogif merge` (into a
 * temporary output that is then read back) and `mesogif run --resume` (checkpoint read, run
 * set-up and load, park, write): tests/fuzz/h5_readers.h.
 *
 * The input is a little program that builds a well-formed HDF5 file through the HDF5 API, and
 * that file goes to the readers. Every structure HDF5 accepts can be built: attributes and
 * datasets at any path, of any of eight types (including variable- and fixed-length strings),
 * any rank up to 3 and any shape, contiguous or chunked and compressed, written or left
 * unwritten (fill values), with any values. So the fuzzer tests what mesogif makes of a file
 * (missing items, wrong types, shapes, sizes and values), not the HDF5 library's own parsing of
 * damaged bytes, which fuzz_h5_raw.c covers and where Debian's HDF5 1.10.8 has bugs of its own
 * (docs/HARDENING.md). Seeds: files made by mesogif translated into this form by
 * tools/fuzz_h5_seed.py (tools/fuzz_corpus.sh).
 *
 * The program is a sequence of records (all integers little-endian):
 *   u8 kind            0: attribute, 1: dataset (anything else ends the program)
 *   u8 n, n bytes      path of the object (kind 0: the object carrying the attribute, created
 *                      as a group when missing; "/" is the root; kind 1: the dataset)
 *   kind 0: u8 n, n bytes  attribute name
 *   u8 type            low 3 bits: int64, double, UTF-8 string, ASCII string, fixed string of
 *                      16 bytes, float32, uint8, int32; bit 6: leave unwritten (datasets);
 *                      bit 7: chunked and deflated (datasets)
 *   u8 rank            0..3 (mod 4; 0 = scalar)
 *   rank x u32         dimensions
 *   payload            numbers: every element's bytes in order; strings: u16 length and bytes
 *                      per element; missing bytes read as 0
 * A record with more than 2^22 elements ends the program (bounded memory and time). */
#include "h5_readers.h"

typedef struct {
    const uint8_t *p;
    size_t n, at;
} rd;

static unsigned u8(rd *r)
{
    return r->at < r->n ? r->p[r->at++] : 0u;
}

static uint32_t u32(rd *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= (uint32_t)u8(r) << (8 * i);
    return v;
}

static void bytes(rd *r, void *dst, size_t k)
{
    uint8_t *d = (uint8_t *)dst;
    for (size_t i = 0; i < k; ++i)
        d[i] = (uint8_t)u8(r);
}

/* A length-prefixed name into buf (NUL-terminated, NULs inside become '_'). */
static void name(rd *r, char *buf, size_t len)
{
    unsigned n = u8(r);
    size_t k = 0;
    for (unsigned i = 0; i < n; ++i) {
        char c = (char)u8(r);
        if (k + 1 < len)
            buf[k++] = c ? c : '_';
    }
    buf[k] = '\0';
}

#define MAX_ELEMS (1u << 22)

/* Build one record into f; 0 to go on, -1 at the end of the program. */
static int record(rd *r, hid_t f)
{
    if (r->at >= r->n)
        return -1;
    unsigned kind = u8(r);
    if (kind > 1)
        return -1;
    char path[256], attr[256] = "";
    name(r, path, sizeof path);
    if (kind == 0)
        name(r, attr, sizeof attr);
    unsigned type = u8(r), rank = u8(r) % 4;
    hsize_t dims[3] = {1, 1, 1};
    double n = 1;
    for (unsigned i = 0; i < rank; ++i) {
        dims[i] = u32(r);
        n *= (double)dims[i];
    }
    if (n > MAX_ELEMS)
        return -1;
    const unsigned base = type & 7;
    static const hid_t *mem[8] = {&H5T_NATIVE_INT64_g, &H5T_NATIVE_DOUBLE_g, NULL, NULL, NULL,
                                  &H5T_NATIVE_FLOAT_g, &H5T_NATIVE_UCHAR_g, &H5T_NATIVE_INT32_g};
    static const size_t esize[8] = {8, 8, 0, 0, 16, 4, 1, 4};
    hid_t t;
    if (base == 2 || base == 3) {
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, base == 2 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    } else if (base == 4) {
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 16);
    } else {
        t = H5Tcopy(*mem[base]);
    }
    /* the values */
    size_t ne = (size_t)n;
    void *buf = NULL;
    char **strs = NULL;
    if (base == 2 || base == 3) {
        strs = calloc(ne > 0 ? ne : 1, sizeof *strs);
        for (size_t i = 0; strs && i < ne; ++i) {
            unsigned len = u8(r) | (u8(r) << 8);
            strs[i] = malloc(len + 1);
            if (!strs[i])
                break;
            bytes(r, strs[i], len);
            strs[i][len] = '\0';
        }
        buf = strs;
    } else {
        buf = calloc(ne > 0 ? ne : 1, esize[base]);
        if (buf)
            bytes(r, buf, ne * esize[base]);
    }
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple((int)rank, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    if (buf && kind == 0) {
        hid_t obj = H5Oopen(f, path, H5P_DEFAULT);
        if (obj < 0) {
            hid_t g = H5Gcreate2(f, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
            if (g >= 0)
                H5Gclose(g);
            obj = H5Oopen(f, path, H5P_DEFAULT);
        }
        if (obj >= 0) {
            if (H5Aexists(obj, attr) > 0)
                H5Adelete(obj, attr);
            hid_t a = H5Acreate2(obj, attr, t, sp, H5P_DEFAULT, H5P_DEFAULT);
            if (a >= 0) {
                H5Awrite(a, t, buf);
                H5Aclose(a);
            }
            H5Oclose(obj);
        }
    } else if (buf) {
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        if ((type & 0x80) && rank > 0 && n > 0) {
            hsize_t chunk[3];
            for (unsigned i = 0; i < rank; ++i)
                chunk[i] = dims[i] < 4096 ? (dims[i] > 0 ? dims[i] : 1) : 4096;
            H5Pset_chunk(dcpl, (int)rank, chunk);
            H5Pset_deflate(dcpl, 1);
        }
        hid_t d = H5Dcreate2(f, path, t, sp, lcpl, dcpl, H5P_DEFAULT);
        if (d >= 0) {
            if (!(type & 0x40) && n > 0)
                H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
            H5Dclose(d);
        }
        H5Pclose(dcpl);
    }
    H5Pclose(lcpl);
    H5Sclose(sp);
    H5Tclose(t);
    if (strs)
        for (size_t i = 0; i < ne; ++i)
            free(strs[i]);
    else
        free(buf);
    free(strs);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_paths();
    hid_t f = H5Fcreate(g_in, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return 0;
    rd r = {data, size, 0};
    while (record(&r, f) == 0)
        ;
    if (H5Fclose(f) >= 0)
        fuzz_readers();
    fuzz_cleanup();
    return 0;
}
