#!/usr/bin/env bash
# tools/fuzz_corpus.sh MESOGIF OUTDIR: seeds for the HDF5 harnesses of tests/fuzz/, made by the
# given mesogif binary (the one of the build being fuzzed or checked: a checkpoint continues only
# with the build that wrote it, so these seeds are made per build rather than committed).
# OUTDIR/raw/ holds the files (fuzz_h5_raw.c), OUTDIR/prog/ the same files as record programs
# (fuzz_h5.c; tools/fuzz_h5_seed.py):
#   result      a small meso run of the default model B1 (statistics, spectra, histograms,
#               switching, traces)
#   micro       a small micro run (spikes in the file)
#   shard0/1    two shards of one run, and merged: their merge
#   ckpt        a checkpoint with realizations parked mid-run (SIGTERM, exit 75)
#   ckpt_micro  the same at the micro level
# Every file is kept small (< 200 KB: short runs, coarse bins, few histogram bins) so that the
# fuzzer mutates and runs them fast. Takes a few seconds (longer with a sanitizer build).
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: tools/fuzz_corpus.sh MESOGIF OUTDIR" >&2
    exit 2
fi
MG=$(readlink -f "$1")
OUT=$2
mkdir -p "$OUT"
W=$(mktemp -d /tmp/mg_fuzz_corpus.XXXXXX)
trap 'rm -rf "$W"' EXIT
SMALL=(--t-sim 400ms --t-warmup 100ms --record-bin 10ms --stats-bin 10ms --psd-df 50Hz
       --psd-bin 1ms --hist-bins 8 --switch-smooth 20ms --quiet --threads 1)

"$MG" run "${SMALL[@]}" --realizations 3 --record-realizations 2 --out "$W/result.h5" >/dev/null
"$MG" run data/models/uncoupled.json --level micro "${SMALL[@]}" --realizations 2 \
    --out "$W/micro.h5" >/dev/null
"$MG" run "${SMALL[@]}" --realizations 4 --shard 0/2 --out "$W/shard0.h5" >/dev/null
"$MG" run "${SMALL[@]}" --realizations 4 --shard 1/2 --out "$W/shard1.h5" >/dev/null
"$MG" merge "$W/merged.h5" "$W/shard0.h5" "$W/shard1.h5" >/dev/null

# a checkpoint: a long run stopped by SIGTERM once it is under way (it writes the checkpoint and
# exits 75); retried with a longer wait if the signal came before the run started
for wait_s in 1 2 4 8; do
    rm -f "$W/ckpt.h5" "$W/long.h5"
    "$MG" run --t-sim 2000s --t-warmup 100ms --record-bin 1s --stats-bin 10ms --psd-df 50Hz \
        --psd-bin 1ms --hist-bins 8 --switch-smooth 20ms --quiet --threads 1 \
        --realizations 1 --checkpoint "$W/ckpt.h5" --out "$W/long.h5" >/dev/null 2>&1 &
    pid=$!
    sleep "$wait_s"
    kill -TERM "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    if [ "$rc" -eq 75 ] && [ -f "$W/ckpt.h5" ]; then
        break
    fi
done
if [ ! -f "$W/ckpt.h5" ]; then
    echo "fuzz_corpus: no checkpoint was written" >&2
    exit 1
fi
# the same at the micro level (parked realizations carry their spike history); optional: a build
# whose micro backend does not park mid-run writes none this early
for wait_s in 1 2 4; do
    rm -f "$W/ckpt_micro.h5" "$W/long_micro.h5"
    "$MG" run data/models/uncoupled.json --level micro --t-sim 2000s --t-warmup 100ms \
        --record-bin 1s --stats-bin 10ms --psd-df 50Hz --psd-bin 1ms --hist-bins 8 \
        --switch-smooth 20ms --quiet --threads 1 --realizations 1 --checkpoint "$W/ckpt_micro.h5" \
        --out "$W/long_micro.h5" >/dev/null 2>&1 &
    pid=$!
    sleep "$wait_s"
    kill -TERM "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    if [ "$rc" -eq 75 ] && [ -f "$W/ckpt_micro.h5" ]; then
        break
    fi
done

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3 # Debian's, with h5py (make deps)
mkdir -p "$OUT/raw" "$OUT/prog"
HERE=$(dirname "$0")
for f in result micro shard0 shard1 merged ckpt ckpt_micro; do
    [ -f "$W/$f.h5" ] || continue
    cp "$W/$f.h5" "$OUT/raw/$f"
    "$PY" "$HERE/fuzz_h5_seed.py" "$W/$f.h5" "$OUT/prog/$f"
done
for f in "$OUT"/raw/* "$OUT"/prog/*; do
    size=$(stat -c %s "$f")
    if [ "$size" -gt 204800 ]; then
        echo "fuzz_corpus: $f is $size bytes (allowed: < 200 KB)" >&2
        exit 1
    fi
done
echo "fuzz_corpus: $(find "$OUT" -type f | wc -l) seeds in $OUT ($(du -sk "$OUT" | cut -f1) KB)"
