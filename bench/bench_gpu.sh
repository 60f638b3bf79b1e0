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

# run BACKEND MODEL R TSIM -> "throughput wall device_MB" or "FAILED". BACKEND cuda:VARIANT
# picks the meso kernel (--cuda-kernel thread, warp or warp64; kernels/backend_cuda.cu);
# XARGS (words) are further run options.
one() {
    local be=${1%%:*} variant=${1#*:} model=$2 R=$3 tsim=$4
    [ "$variant" = "$1" ] && variant=thread
    local args=(run --backend "$be" --realizations "$R" --t-sim "$tsim" --t-warmup 0
        --record-realizations 0 --quiet --force --out "$TMP/g.h5" ${XARGS:-})
    [ "$be" = cuda ] && args+=(--cuda-kernel "$variant")
    [ -n "$model" ] && args=(run "$model" "${args[@]:1}")
    if ! timeout 100 $MG "${args[@]}" > "$TMP/log" 2>&1; then
        echo "FAILED"; return; fi
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
    if [ "${be%%:*}" = cuda ]; then
        frac=$(awk -v thr="$1" -v bw="$BW" -v by="$bytes" -v fp="$FP64" -v fl="$flops" 'BEGIN {
            mb = bw * 1e9 / by; cb = fp * 1e12 / fl; b = mb < cb ? mb : cb;
            printf "%.2f (%s bound %.0f r-s/s)", thr / b, (mb < cb ? "memory" : "FP64"), b }')
    fi
    ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s MB | %s |' "$name" "$be" "$R" "$1" "$2" "$3" "$frac")")
}

B1_BYTES=55.55e6; B1_FLOPS=53.8e6; EI_BYTES=796.3e6; EI_FLOPS=774e6
EI="$MODELS/nest_brunel_ei.json"
# CPU baseline: 64 (B1) or 32 (E/I) realizations per core, so every core has whole groups.
# Simulated times keep each CUDA row under ~10 s with the slowest kernel (thread, H200 figures
# of 2026-11-27), so the three kernel variants fit in gpu_check's budget.
row "B1 meso" cpu $((64 * NPROC)) 5s "" $B1_BYTES $B1_FLOPS
for v in thread warp warp64; do
    row "B1 meso" cuda:$v 1000 2s "" $B1_BYTES $B1_FLOPS
    row "B1 meso" cuda:$v 10000 2s "" $B1_BYTES $B1_FLOPS
    row "B1 meso" cuda:$v 100000 1s "" $B1_BYTES $B1_FLOPS
done
# The time-resolved statistics (issue 17, point 5: at most 10 % on B1 meso when on): the
# thread kernel's 10^5 row above again with --stats-time 10 ms, and the CPU's.
XARGS="--stats-time 10ms" row "B1 meso, stats-time" cpu $((64 * NPROC)) 5s "" $B1_BYTES $B1_FLOPS
XARGS="--stats-time 10ms" row "B1 meso, stats-time" cuda:thread 100000 1s "" $B1_BYTES $B1_FLOPS
row "NEST E/I meso" cpu $((32 * NPROC)) 500ms "$EI" $EI_BYTES $EI_FLOPS
for v in thread warp warp64; do
    row "NEST E/I meso" cuda:$v 1000 500ms "$EI" $EI_BYTES $EI_FLOPS
    row "NEST E/I meso" cuda:$v 10000 200ms "$EI" $EI_BYTES $EI_FLOPS
    row "NEST E/I meso" cuda:$v 100000 50ms "$EI" $EI_BYTES $EI_FLOPS
done

# ---- micro level (kernels/backend_cuda_micro.cu) --------------------------------------------
# B1 (2 x 500, all-to-all, dt 0.5 ms) and E/I 3(c) (800 + 200, fixed in-degree, per-realization
# networks, dt 0.2 ms) at R = 1e2 and 1e3, CPU (all cores) and CUDA in the same run. No bound
# column: the micro kernel is bound by the latency of its per-step barriers, not by a roofline.
one_micro() { # BACKEND MODEL R TSIM -> "throughput wall device_MB" or "FAILED"
    local be=$1 model=$2 R=$3 tsim=$4
    local args=(run --level micro --backend "$be" --realizations "$R" --t-sim "$tsim"
        --t-warmup 0 --record-realizations 0 --quiet --force --out "$TMP/m.h5")
    [ -n "$model" ] && args=(run "$model" "${args[@]:1}")
    if ! timeout 60 $MG "${args[@]}" > "$TMP/log" 2>&1; then echo "FAILED"; return; fi
    echo "$(awk '/^wall/ {print $4}' "$TMP/log") $(awk '/^wall/ {print $2}' "$TMP/log")" \
        "$(awk '/^device memory/ {print $3}' "$TMP/log" | sed 's/^$/0/')"
}
row_micro() { # name be R tsim model
    local res; res=$(one_micro "$2" "$5" "$3" "$4")
    if [ "$res" = FAILED ]; then ROWS+=("| $1 | $2 | $3 | FAILED (see log) | | | |"); cat "$TMP/log"; return; fi
    set -- "$1" "$2" "$3" $res
    ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s MB | - |' "$1" "$2" "$3" "$4" "$5" "${6:-0}")")
}
EI3C="$MODELS/ei_network.json"
# 2 s (B1) and 0.5 s (E/I) per realization: at most 2000 realization-s a row, a second or less on
# 16 cores or at the floor, under 10 s even at 200 r-s/s.
for R in 100 1000; do
    row_micro "B1 micro" cpu $R 2s ""
    row_micro "B1 micro" cuda $R 2s ""
done
for R in 100 1000; do
    row_micro "E/I 3(c) micro" cpu $R 500ms "$EI3C"
    row_micro "E/I 3(c) micro" cuda $R 500ms "$EI3C"
done
# ---- end of the micro level --------------------------------------------------------------------

{
    echo "GPU benchmark: $DEV; measured copy bandwidth $BW GB/s; CPU baseline: $NPROC cores of"
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') (portable x86-64-v3 build when staged)"
    echo
    echo "| model | backend | realizations | realization-s per wall-s | wall s | device memory | fraction of bound |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Floors (issue 5): meso B1 >= 30000 realization-s per wall-s on an H100."
    echo "Floor (issue 5): micro B1 >= 5000 realization-s per wall-s on an H100."
} | tee "$TMP/table"
if [ -n "${RESULTS:-}" ]; then
    { echo; echo "## $(date -u +%Y-%m-%dT%H:%MZ), GPU meso"; echo; cat "$TMP/table"; } >> "$RESULTS"
fi
