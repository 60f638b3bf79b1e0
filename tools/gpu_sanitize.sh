#!/usr/bin/env bash
# tools/gpu_sanitize.sh [STAGE]: compute-sanitizer on the FFS CUDA kernels (kernels/ffs/), the
# device code no device has run yet: a small `mesogif switch --backend cuda` on each level under
# memcheck (out-of-bounds and misaligned accesses, leaks), and on the micro level, whose slots are
# blocks sharing a step through shared memory and barriers, under racecheck (shared-memory
# hazards: a barrier missing) and synccheck (a barrier not reached by every thread). A second
# call after tools/gpu_check.sh, about 1 to 4 minutes; each run is cut at 70 s. Exit 1 if any
# tool reports an error or a hazard. Logs go to $OUT when set.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -x "$here/run.sh" ]; then STAGE=$here; else STAGE=${1:-$here/../build/stage}; fi
STAGE=$(cd "$STAGE" && pwd)
LOG=${OUT:-/tmp}/gpu_sanitize.log
: > "$LOG"
say() { echo "$@" | tee -a "$LOG"; }
cd "$STAGE"
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if [ ! -x "$SAN" ]; then
    say "compute-sanitizer: not found"; exit 1
fi
T=$(mktemp -d)
status=0
# the estimate of a few dozen trials per stage: seconds on the CPU (--rel-err 0.9)
small="--rel-err 0.9 --basin-realizations 4 --basin-budget 100s --trials 16 --pilot 8"
for run in memcheck:meso memcheck:micro racecheck:micro synccheck:micro; do
    tool=${run%%:*}; lvl=${run#*:}
    timeout 70 "$SAN" --tool $tool --print-limit 5 ./run.sh bin/mesogif switch \
        --level $lvl --backend cuda $small --quiet --force --out "$T/s.h5" > "$T/san.txt" 2>&1
    rc=$?
    cat "$T/san.txt" >> "$LOG"
    summary=$(grep -E "(ERROR|RACECHECK) SUMMARY" "$T/san.txt" | tail -1 | sed 's/^=* *//')
    say "$tool switch --level $lvl --backend cuda: exit $rc; ${summary:-no summary (cut at 70 s?)}"
    if [ $rc -ne 0 ] || ! echo "$summary" | grep -qE "SUMMARY: 0 (errors|hazards)"; then
        status=1
    fi
done
rm -rf "$T"
say "gpu_sanitize: $([ $status = 0 ] && echo clean || echo 'FAILED or incomplete'); log: $LOG"
exit $status
