#!/usr/bin/env bash
# bench/run_bench.sh: `make bench`. Meso throughput on the CPU (1 thread and all threads) for the
# bistable pair B1 and the NEST E/I example (MODEL.md §3(a), §3(b)), median of 3 runs each, with
# memory per realization; the micro benchmark (bench/bench_micro.sh) and the GPU benchmark
# (bench/bench_gpu.sh, when a CUDA device answers) follow. Results are appended to
# bench/RESULTS.md with date, machine and commit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MESOGIF:-bin/mesogif}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
NPROC=$(nproc)
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
DATE=$(date -u +%Y-%m-%dT%H:%MZ)
COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

# run MODEL THREADS REALIZATIONS TSIM -> prints "wall_s user_s realization-s/wall-s"
one() {
    local model=$1 threads=$2 reals=$3 tsim=$4
    local t0 t1 line
    /usr/bin/time -f '%U' -o "$OUT/time" "$BIN" run $model ${EXTRA:-} --backend cpu --threads "$threads" \
        --realizations "$reals" --t-sim "$tsim" --record-realizations 0 --quiet --force \
        --out "$OUT/b.h5" > "$OUT/log"
    line=$(grep '^wall' "$OUT/log")
    # "wall 1.234 s, 409.2 realization-s per wall-s; ..."
    echo "$(echo "$line" | awk '{print $2}') $(cat "$OUT/time") $(echo "$line" | awk '{print $4}')"
}

# median over 3 runs of field 3 (throughput), with the matching wall/user
median3() {
    { one "$@"; one "$@"; one "$@"; } | sort -g -k3 | sed -n 2p
}

mem() {
    "$BIN" run $1 --backend cpu --dry-run --realizations 1 | awk '/^memory:/ {print $2}'
}

declare -a ROWS
bench_model() {
    local name=$1 model=$2 reals1=$3 tsim=$4 floor=$5
    local r1 rN mem1
    r1=$(median3 "$model" 1 "$reals1" "$tsim")
    rN=$(median3 "$model" "$NPROC" $((reals1 * NPROC)) "$tsim")
    mem1=$(mem "$model")
    local t1 tN
    t1=$(echo "$r1" | awk '{print $3}')
    tN=$(echo "$rN" | awk '{print $3}')
    ROWS+=("$(printf '| %-22s | %8s | %10.1f | %10.1f | %6.2f | %8.1f | %7.2f |' "$name" \
        "$mem1 MB" "$t1" "$tN" "$(echo "$tN $t1" | awk '{print $1/$2}')" \
        "$(echo "$tN $NPROC" | awk '{print $1/$2}')" "$(echo "$tN $NPROC $floor" | awk '{print $1/$2/$3}')")")
}

echo "mesogif meso CPU benchmark: $CPU, $NPROC cores, $DATE, commit $COMMIT"
bench_model "B1 meso (K=200)" "" 64 10s 400
bench_model "NEST E/I meso (K=2772)" data/models/nest_brunel_ei.json 16 2s 30

# one thread at the ensemble sizes users run alone (a single long realization, ten, a large
# batch): the meso step vectorizes across the cohorts of one realization, so these must not fall
# off a cliff. Floors (issue 12, 1 thread): B1 480 at R = 1 and 10, 800 at R >= 64; NEST E/I 36
# at R = 1, 60 at R >= 8. Long enough runs that start-up (model, HDF5) is under 2 %.
declare -a SROWS
small_row() {
    local name=$1 model=$2 reals=$3 tsim=$4 floor=$5 r
    r=$(median3 "$model" 1 "$reals" "$tsim" | awk '{print $3}')
    SROWS+=("$(printf '| %-22s | %6s | %7s | %10.1f | %6s | %6.2f |' "$name" "$reals" "$tsim" "$r" \
        "$floor" "$(echo "$r $floor" | awk '{print $1/$2}')")")
}
small_row "B1 meso" "" 1 100s 480
small_row "B1 meso" "" 10 20s 480
small_row "B1 meso" "" 64 5s 800
small_row "NEST E/I meso" data/models/nest_brunel_ei.json 1 10s 36
small_row "NEST E/I meso" data/models/nest_brunel_ei.json 8 2s 60
STABLE=$(
    echo "| model | R | t-sim | 1 thread r-s/s | floor | / floor |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${SROWS[@]}"
)
echo "$STABLE"

# What the arithmetic alone needs per cohort-step (issue 12): the exact exp per lane and, for
# comparison, a table lookup with linear interpolation (bench/bench_cost.c); the share of
# cohort-steps that need the second exp (bench/bench_meso_step.c count). A floor F leaves
# 1e9 / (F * cohort-steps per realization-second) ns per cohort-step for everything.
cc -std=c11 -D_GNU_SOURCE -O3 -march=native -ffp-contract=off -fno-math-errno -fopenmp-simd \
    -Isrc -Iinclude bench/bench_cost.c -o "$OUT/bench_cost" -lm
cc -std=c11 -D_GNU_SOURCE -O3 -march=native -ffp-contract=off -fno-math-errno -fopenmp \
    -Isrc -Iinclude -Ibuild/gen $(pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial) \
    bench/bench_meso_step.c build/libmesogif.a -o "$OUT/bench_step" \
    $(pkg-config --libs hdf5 jansson gsl fftw3 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -ljansson -lgsl -lgslcblas -lfftw3) -lm
read -r EXP_NS LERP_NS < <("$OUT/bench_cost")
F2_B1=$("$OUT/bench_step" "" 20 0.5 count | awk '/second exp/{print $5}')
F2_EI=$("$OUT/bench_step" data/models/nest_brunel_ei.json 5 0.5 count | awk '/second exp/{print $5}')
# the step alone today (no observer, no I/O), best of 3, as ns per cohort-step
STEP_B1=$(for i in 1 2 3; do "$OUT/bench_step" "" 20 0.5; done | awk '{print $1}' | sort -g | tail -1)
STEP_EI=$(for i in 1 2 3; do "$OUT/bench_step" data/models/nest_brunel_ei.json 5 0.5; done | awk '{print $1}' | sort -g | tail -1)
# cohort-steps per realization-second: B1 2 x 200 cohorts, NEST E/I 2 x 2772, 2000 steps
cost_row() { # name cohort_steps_per_rs f2 floor step_rs
    awk -v n="$1" -v cs="$2" -v f="$3" -v F="$4" -v r="$5" -v e="$EXP_NS" -v l="$LERP_NS" 'BEGIN {
        printf "| %-22s | %5.3f | %6.3f | %6.3f | %6.3f | %6.3f |\n", n, f, e * (1 + f),
            l * (1 + f), 1e9 / (r * cs), 1e9 / (F * cs) }'
}
COSTS=$(
    echo "| floor (issue 12) | share 2nd exp | exps ns | lerps ns | step ns now | budget ns |"
    echo "|---|---|---|---|---|---|"
    cost_row "B1 R>=64: 800" 800000 "$F2_B1" 800 "$STEP_B1"
    cost_row "B1 R=1, R=10: 480" 800000 "$F2_B1" 480 "$STEP_B1"
    cost_row "NEST E/I R>=8: 60" 11088000 "$F2_EI" 60 "$STEP_EI"
    cost_row "NEST E/I R=1: 36" 11088000 "$F2_EI" 36 "$STEP_EI"
)
echo "exact exp $EXP_NS ns per lane, table lerp $LERP_NS ns per lane (best case, L1, full width)"
echo "$COSTS"

# cost of the statistics (issue 4: at most 20 % on B1 meso): moments only vs everything
# (spectra, histograms, switching), 1 thread, median of 3 each
cost_full=$(median3 "" 1 64 10s | awk '{print $3}')
cost_basic=$(EXTRA="--stats basic" median3 "" 1 64 10s | awk '{print $3}')
COST=$(awk -v f="$cost_full" -v b="$cost_basic" 'BEGIN {printf "%.1f %%", 100 * (b / f - 1)}')

TABLE=$(
    echo "| model | mem/real. | 1 thread r-s/s | $NPROC threads r-s/s | speedup | per core | per core / floor |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
)
echo "$TABLE"
echo "statistics cost on B1 meso: full $cost_full vs basic $cost_basic realization-s/s: $COST"
{
    echo
    echo "## $DATE, meso CPU, $CPU ($NPROC cores), commit $COMMIT"
    echo
    echo "Command: \`make bench\` (bench/run_bench.sh): \`mesogif run MODEL --backend cpu --threads T"
    echo "--realizations R --record-realizations 0\`, B1 R = 64 per thread x 10 s, NEST E/I R = 16 per"
    echo "thread x 2 s; realization-seconds of biological time per wall-clock second, median of 3."
    echo "Floors (issue 2): B1 400, NEST E/I 30 realization-s per wall-s per core."
    echo
    echo "$TABLE"
    echo
    echo "One thread by ensemble size (R realizations x t-sim, median of 3; floors of issue 12):"
    echo
    echo "$STABLE"
    echo
    echo "What the hazards alone cost per cohort-step (bench/bench_cost.c: exact exp $EXP_NS ns"
    echo "per lane, a table lookup with linear interpolation $LERP_NS ns, best case; share of"
    echo "cohort-steps that need the second exp and the step alone today, from"
    echo "bench/bench_meso_step.c) against the time per cohort-step that each floor leaves for all"
    echo "the work of the step (cohort-steps per realization-second: B1 2 x 200 x 2000, NEST E/I"
    echo "2 x 2772 x 2000):"
    echo
    echo "$COSTS"
    echo
    echo "Cost of all statistics on B1 meso (1 thread, 64 x 10 s, median of 3): $cost_full"
    echo "realization-s per wall-s with spectra, histograms and switching vs $cost_basic with"
    echo "moments only (\`--stats basic\`): $COST (issue 4 allows 20 %)."
    echo "Baseline for comparison: the original authors' C code does about 180 (B1) and 13 (NEST E/I)"
    echo "on this machine (issue 2), with table-lookup hazards."
} >> bench/RESULTS.md

if [ -x bench/bench_micro.sh ]; then bash bench/bench_micro.sh; fi
if [ -x bench/bench_gpu.sh ] && "$BIN" run --backend cuda --t-sim 1ms --stats-bin 0.5ms --t-warmup 0 --quiet --force --out "$OUT/probe.h5" > /dev/null 2>&1; then
    bash bench/bench_gpu.sh
fi
