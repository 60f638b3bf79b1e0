/* tests/fuzz/fuzz_h5_raw.c: libFuzzer harness for the HDF5 readers on raw bytes (issue 8,
 * point 2): the input is written to a file as it is and every reader of tests/fuzz/h5_readers.h
 * runs on it (`mesogif info`, the statistics reader, `compare`, `merge`, `run --resume`).
 * Seeds: files made by mesogif (tools/fuzz_corpus.sh).
 *
 * Mutated bytes mostly exercise the HDF5 library's own parsing of its format. Debian's HDF5
 * 1.10.8 hangs or crashes on some damaged files before any mesogif code sees a value
 * (docs/HARDENING.md lists the cases found); `make fuzz` therefore runs this harness in
 * libFuzzer's fork mode, which keeps going after such a case and leaves the input in
 * build/fuzz/findings/raw-* for triage. The readers' own logic on every structure HDF5 accepts
 * is fuzzed by fuzz_h5.c, which builds well-formed files from its input. */
#include "h5_readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_paths();
    FILE *f = fopen(g_in, "wb");
    if (!f)
        return 0;
    size_t wrote = fwrite(data, 1, size, f);
    fclose(f);
    if (wrote == size)
        fuzz_readers();
    fuzz_cleanup();
    return 0;
}
