#!/usr/bin/env bash
# bench/bench_micro.sh: micro-level CPU throughput (issue 3), called by bench/run_bench.sh
# (`make bench`) or alone. Two networks of MODEL.md:
#   B1 micro      bistable pair 2 x 500, all-to-all (fast path), dt 0.5 ms (the embedded default)
#   E/I 3(c)      800 + 200, fixed in-degree p = 0.2, per-realization networks, dt 0.2 ms
#                 (data/models/ei_network.json as shipped)
# For each: realization-seconds of biological time per wall-second and neuron-steps per
# wall-second on 1 thread and on all threads (median of 3 runs, with their user and wall time),
# and the memory per realization from --dry-run. Prints a table and appends it to
# bench/RESULTS.md with date, machine and command. Floor (issue 3): 60 realization-s per wall-s
# per core for both. Wall time is noisy when other processes share the cores: user time is
# reported next to it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MESOGIF:-bin/mesogif}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
NPROC=$(nproc)
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
DATE=$(date -u +%Y-%m-%dT%H:%MZ)
COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
FLOOR=60

# one MODEL THREADS REALIZATIONS TSIM -> "wall_s user_s realization-s/wall-s"
one() {
    local model=$1 threads=$2 reals=$3 tsim=$4
    local line
    # shellcheck disable=SC2086
    /usr/bin/time -f '%U' -o "$OUT/time" "$BIN" run $model --level micro --backend cpu \
        --threads "$threads" --realizations "$reals" --t-sim "$tsim" --record-realizations 0 \
        --quiet --force --out "$OUT/b.h5" > "$OUT/log"
    line=$(grep '^wall' "$OUT/log")
    # "wall 1.234 s, 409.2 realization-s per wall-s; ..."
    echo "$(echo "$line" | awk '{print $2}') $(cat "$OUT/time") $(echo "$line" | awk '{print $4}')"
}

# median over 3 runs of the throughput, with the matching wall and user time
median3() {
    { one "$@"; one "$@"; one "$@"; } | sort -g -k3 | sed -n 2p
}

mem() {
    # shellcheck disable=SC2086
    "$BIN" run $1 --level micro --backend cpu --dry-run --realizations 1 | awk '/^memory:/ {print $2}'
}

declare -a ROWS
# bench NAME MODEL REALIZATIONS_PER_THREAD TSIM NEURONS DT_MS
bench() {
    local name=$1 model=$2 reals1=$3 tsim=$4 neurons=$5 dt_ms=$6
    local r1 rN m1 t1 tN
    r1=$(median3 "$model" 1 "$reals1" "$tsim")
    rN=$(median3 "$model" "$NPROC" $((reals1 * NPROC)) "$tsim")
    m1=$(mem "$model")
    t1=$(echo "$r1" | awk '{print $3}')
    tN=$(echo "$rN" | awk '{print $3}')
    ROWS+=("$(printf '| %-26s | %8s MB | %8.1f | %9.3g | %s / %s | %8.1f | %9.3g | %s / %s | %7.1f | %5.2f |' \
        "$name" "$m1" "$t1" "$(echo "$t1 $neurons $dt_ms" | awk '{print $1*$2/($3*1e-3)}')" \
        "$(echo "$r1" | awk '{print $2}')" "$(echo "$r1" | awk '{print $1}')" \
        "$tN" "$(echo "$tN $neurons $dt_ms" | awk '{print $1*$2/($3*1e-3)}')" \
        "$(echo "$rN" | awk '{print $2}')" "$(echo "$rN" | awk '{print $1}')" \
        "$(echo "$tN $NPROC" | awk '{print $1/$2}')" \
        "$(echo "$tN $NPROC $FLOOR" | awk '{print $1/$2/$3}')")")
}

echo "mesogif micro CPU benchmark: $CPU, $NPROC cores, $DATE, commit $COMMIT"
bench "B1 micro 2x500 a2a dt .5ms" "" 32 10s 1000 0.5
bench "E/I 3(c) 800+200 p.2 dt .2ms" data/models/ei_network.json 8 10s 1000 0.2

TABLE=$(
    echo "| network | mem/real. | 1 thr r-s/s | 1 thr neuron-steps/s | user / wall s | $NPROC thr r-s/s | $NPROC thr neuron-steps/s | user / wall s | per core | per core / floor |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
)
echo "$TABLE"
{
    echo
    echo "## $DATE, micro CPU, $CPU ($NPROC cores), commit $COMMIT"
    echo
    echo "Command: \`bash bench/bench_micro.sh\` (\`make bench\`): \`mesogif run MODEL --level micro"
    echo "--backend cpu --threads T --realizations R --t-sim 10s --record-realizations 0\`, B1 R = 32"
    echo "per thread, E/I R = 8 per thread; realization-seconds of biological time per wall-clock"
    echo "second (neuron-steps = that x neurons / dt), median of 3, its user and wall time."
    echo "Floor (issue 3): $FLOOR realization-s per wall-s per core for both."
    echo
    echo "$TABLE"
} >> bench/RESULTS.md
