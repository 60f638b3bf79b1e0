#!/usr/bin/env bash
# tools/fuzz_triage.sh HARNESS FINDING...: replay each finding of a fuzzing run (libFuzzer
# artifacts: crash-*, timeout-*, oom-*) once and classify it by its stack: "mesogif" when a
# frame of the sanitizer report or of the hang lies in src/ (a bug to fix here), "hdf5" when the
# report comes from inside libhdf5 below mesogif's call with a valid buffer (a bug of Debian's
# HDF5 1.10.8 on a damaged file, docs/HARDENING.md), "leak?" for a leak of memory that libhdf5
# allocated (HDF5's own when the HDF5 call that allocated it failed; mesogif's when the call
# succeeded and the caller did not free what it returned: read the stack), "none" when it does
# not reproduce.
# Prints one line per finding: class, kind, the first frame, the file.
set -uo pipefail
H=$1
shift
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:fast_unwind_on_malloc=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for f in "$@"; do
    [ -s "$f" ] || continue
    log=$(mktemp)
    timeout -s INT 40 "$H" -timeout=20 "$f" >"$log" 2>&1
    rc=$?
    kind=$(grep -oE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [A-Za-z-]+( [a-z-]+)?|runtime error: [^:]*" "$log" | head -1)
    # the top frames: the first in libhdf5 and the first in mesogif's sources
    # (interceptors such as memcpy or strdup live in the harness binary: skip to the caller)
    top=$(grep -E "^ +#[0-9]+ " "$log" | grep -E "libhdf5|/src/|/tests/fuzz/" | head -1)
    ours=$(grep -E "^ +#[0-9]+ " "$log" | grep -E "/src/|/tests/fuzz/" | head -1)
    if [ -z "$kind" ] && [ $rc -eq 0 ]; then
        cls=none
    elif echo "$kind" | grep -q LeakSanitizer && echo "$top" | grep -q "libhdf5"; then
        cls="leak?"
    elif echo "$top" | grep -q "libhdf5"; then
        cls=hdf5
    else
        cls=mesogif
    fi
    printf '%-8s %-45s %s | %s\n' "$cls" "${kind:-exit $rc}" \
        "$(echo "${ours:-$top}" | sed -E 's/.* in //; s/\(.*BuildId.*//' | cut -c1-70)" "$f"
    rm -f "$log"
done
