#!/usr/bin/env bash
# tools/ab_speed.sh A_BIN B_BIN [ROUNDS]: interleaved A/B speed of two builds of mesogif on one
# thread pinned to one core (taskset -c 1), in the cases of `make bench` on 1 thread (B1 meso 64
# realizations x 10 s, NEST E/I meso 16 x 2 s) and a micro case (NEST E/I, 16 x 2 s). Each
# round runs A then B, or B then A (alternating), so that drifts of a shared machine hit both
# alike; prints every round and the median of the realization-seconds per wall-second of each
# build and their ratio B/A. Not a test: the numbers are for a human (noise of a shared machine:
# compare the spread of the rounds with the difference of the medians).
set -euo pipefail
A=$(readlink -f "$1"); B=$(readlink -f "$2"); ROUNDS=${3:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
CASES=(
  "B1 meso|$ROOT/data/models/bistable_b1.json --realizations 64 --t-sim 10s"
  "NEST E/I meso|$ROOT/data/models/nest_brunel_ei.json --realizations 16 --t-sim 2s"
  "NEST E/I micro|$ROOT/data/models/nest_brunel_ei.json --level micro --realizations 16 --t-sim 2s"
)
rate() { # bin args...: realization-s per wall-s of one run
    local bin=$1; shift
    OMP_NUM_THREADS=1 taskset -c 1 "$bin" run "$@" --backend cpu --threads 1 \
        --record-realizations 0 --quiet --force --out "$OUT/x.h5" 2>/dev/null |
        awk '/^wall/ {print $4}'
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for c in "${CASES[@]}"; do
    name=${c%%|*}; args=${c#*|}
    : > "$OUT/a"; : > "$OUT/b"
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then
            ra=$(rate "$A" $args); rb=$(rate "$B" $args)
        else
            rb=$(rate "$B" $args); ra=$(rate "$A" $args)
        fi
        echo "$ra" >> "$OUT/a"; echo "$rb" >> "$OUT/b"
        echo "  $name round $r: A $ra, B $rb realization-s/wall-s"
    done
    ma=$(median < "$OUT/a"); mb=$(median < "$OUT/b")
    printf '%-16s median A %10.4g  B %10.4g  B/A %.3f  (%d rounds)\n' "$name" "$ma" "$mb" \
        "$(echo "$mb $ma" | awk '{print $1 / $2}')" "$ROUNDS"
done
