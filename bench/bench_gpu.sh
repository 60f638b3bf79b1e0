#!/usr/bin/env bash
# bench/bench_gpu.sh: meso throughput on the CUDA backend against the CPU backend on all cores of
# the same machine, in the same run (issue 5, point 7). Runs from the repository (bin/mesogif)
# or from a staged folder (tools/stage_gpu.sh: ./run.sh mesogif). Prints a table; with
# RESULTS=FILE appends it there (make bench appends to bench/RESULTS.md).
#
# Roofline per realization-second of biological time (dt = 0.5 ms, 2000 steps):
#   fewest bytes: each step reads n, m, v, u, lam and writes m, v, u, lam of every active cohort
#   (9 doubles = 72 B) and reads m of each refractory cohort (8 B), per population:
#     B1 (K = 200, R = 8, 2 populations): 2 (192*72 + 8*8) B * 2000 = 55.55 MB
#     NEST E/I (K = 2772, R = 8, 2 pops): 2 (2764*72 + 8*8) B * 2000 = 796.3 MB
#   FP64 operations: about 70 per active cohort and step (two exps of ~26 flops each counting an
#   FMA as 2, plus ~18 for the potential, trapezoid and survivor updates):
#     B1: 384 * 70 * 2000 = 53.8 MFLOP;  NEST E/I: 5528 * 70 * 2000 = 774 MFLOP
#   bound = min(measured copy bandwidth / bytes, FP64 peak / flops); FP64 peak (non-tensor)
#   taken as 34 TFLOP/s for H100/H200 SXM (datasheet; override with FP64_TFLOPS=...).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -x "$here/run.sh" ]; then MG="$here/run.sh $here/bin/mesogif"; MODELS="$here/data/models";
else MG="${MESOGIF:-$here/../bin/mesogif}"; MODELS="$here/../data/models"; fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FP64=${FP64_TFLOPS:-34}
NPROC=$(nproc)

BW=$($MG device 2>/dev/null | awk '/copy bandwidth/ {print $3}')
DEV=$($MG device 2>/dev/null | sed -n 's/^device: //p')
[ -n "$BW" ] || { echo "bench_gpu: no CUDA device ($DEV)"; exit 1; }

# run BACKEND MODEL R TSIM -> "throughput wall device_MB" or "FAILED"
one() {
    local be=$1 model=$2 R=$3 tsim=$4
    local args=(run --backend "$be" --realizations "$R" --t-sim "$tsim" --t-warmup 0
        --record-realizations 0 --quiet --force --out "$TMP/g.h5")
    [ -n "$model" ] && args=(run "$model" "${args[@]:1}")
    if ! timeout 100 $MG "${args[@]}" > "$TMP/log" 2>&1; then echo "FAILED"; return; fi
    local thr wall mem
    thr=$(awk '/^wall/ {print $4}' "$TMP/log")
    wall=$(awk '/^wall/ {print $2}' "$TMP/log")
    mem=$(awk '/^device memory/ {print $3}' "$TMP/log")
    echo "$thr $wall ${mem:-0}"
}

ROWS=()
row() { # name be R tsim model bytes flops
    local name=$1 be=$2 R=$3 tsim=$4 model=$5 bytes=$6 flops=$7
    local res; res=$(one "$be" "$model" "$R" "$tsim")
    if [ "$res" = FAILED ]; then ROWS+=("| $name | $be | $R | FAILED (see log) | | | |"); cat "$TMP/log"; return; fi
    set -- $res
    local frac="-"
    if [ "$be" = cuda ]; then
        frac=$(awk -v thr="$1" -v bw="$BW" -v by="$bytes" -v fp="$FP64" -v fl="$flops" 'BEGIN {
            mb = bw * 1e9 / by; cb = fp * 1e12 / fl; b = mb < cb ? mb : cb;
            printf "%.2f (%s bound %.0f r-s/s)", thr / b, (mb < cb ? "memory" : "FP64"), b }')
    fi
    ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s MB | %s |' "$name" "$be" "$R" "$1" "$2" "$3" "$frac")")
}

B1_BYTES=55.55e6; B1_FLOPS=53.8e6; EI_BYTES=796.3e6; EI_FLOPS=774e6
EI="$MODELS/nest_brunel_ei.json"
row "B1 meso" cpu 256 10s "" $B1_BYTES $B1_FLOPS
row "B1 meso" cuda 1000 10s "" $B1_BYTES $B1_FLOPS
row "B1 meso" cuda 10000 10s "" $B1_BYTES $B1_FLOPS
row "B1 meso" cuda 100000 2s "" $B1_BYTES $B1_FLOPS
row "NEST E/I meso" cpu 64 2s "$EI" $EI_BYTES $EI_FLOPS
row "NEST E/I meso" cuda 1000 2s "$EI" $EI_BYTES $EI_FLOPS
row "NEST E/I meso" cuda 10000 2s "$EI" $EI_BYTES $EI_FLOPS
row "NEST E/I meso" cuda 100000 200ms "$EI" $EI_BYTES $EI_FLOPS

{
    echo "GPU benchmark: $DEV; measured copy bandwidth $BW GB/s; CPU baseline: $NPROC cores of"
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') (portable x86-64-v3 build when staged)"
    echo
    echo "| model | backend | realizations | realization-s per wall-s | wall s | device memory | fraction of bound |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Floors (issue 5): meso B1 >= 30000 realization-s per wall-s on an H100."
} | tee "$TMP/table"
if [ -n "${RESULTS:-}" ]; then
    { echo; echo "## $(date -u +%Y-%m-%dT%H:%MZ), GPU meso"; echo; cat "$TMP/table"; } >> "$RESULTS"
fi
