#!/usr/bin/env bash
# tools/gpu_check.sh [STAGE]: the GPU check of mesogif, one command, well under 8 minutes on an
# H100: the GPU test suite (Philox, binomial, exp/log bitwise equal to the host; meso CPU-vs-GPU
# agreement and the bitwise-identical fraction; the switching-rate engines, tests/test_ffs_cuda.c)
# and the GPU benchmark table (bench/bench_gpu.sh),
# then a short summary. Runs from a staged folder (make stage-gpu; copy it to the GPU machine)
# or, from the repository, on a machine with our Debian packages. Logs go to $OUT when set.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -x "$here/run.sh" ]; then STAGE=$here; else STAGE=${1:-$here/../build/stage}; fi
STAGE=$(cd "$STAGE" && pwd)
LOG=${OUT:-/tmp}/gpu_check.log
: > "$LOG"
say() { echo "$@" | tee -a "$LOG"; }
section() { say "$1 (at ${SECONDS} s)"; }
cd "$STAGE"   # tests read data/models/... relative to here

say "== mesogif GPU check, $(date -u +%Y-%m-%dT%H:%MZ)"
nvidia-smi -L 2>&1 | tee -a "$LOG"
./run.sh bin/mesogif --version 2>&1 | tee -a "$LOG"
./run.sh bin/mesogif device 2>&1 | tee -a "$LOG"

status=0
for t in test_fmath test_rng test_binom test_gpu test_gpu_micro test_ffs_cuda; do
    section "== $t"
    if CK_DEFAULT_TIMEOUT=280 CK_VERBOSITY=verbose timeout 300 ./run.sh bin/$t >> "$LOG" 2>&1; then
        say "$t: passed"
    else
        say "$t: FAILED"; status=1
    fi
done
grep -E "differ|identical|fraction|mean A cpu|skipped|bit for bit|DIFFER|as on the CPU engine|capped at|NaN: cpu" "$LOG" | sed 's/^/  /'

# CPU vs CUDA on one model: `mesogif run` on each backend (1000 realizations, extra run options
# in $3..), then `mesogif compare` of the two files. compare_backends NAME MODEL OPTIONS...
compare_backends() {
    local name=$1 model=$2 be; shift 2
    for be in cpu cuda; do
        timeout 120 ./run.sh bin/mesogif run $model --backend $be --realizations 1000 "$@" \
            --record-realizations 0 --quiet --out "$T/$name.$be.h5" >> "$LOG" 2>&1 ||
            say "$name $be run FAILED"
    done
    if timeout 60 ./run.sh bin/mesogif compare "$T/$name.cpu.h5" "$T/$name.cuda.h5" > "$T/cmp" 2>&1; then
        say "compare $name cpu vs cuda: agree (exit 0)"
    else
        say "compare $name cpu vs cuda: DISAGREE or error (exit $?)"; status=1
    fi
    cat "$T/cmp" >> "$LOG"
    tail -4 "$T/cmp"
}

section "== CPU vs CUDA agreement (mesogif compare, 1000 realizations each)"
T=$(mktemp -d)
compare_backends B1 "" --t-sim 5s --t-warmup 500ms
compare_backends NEST_EI data/models/nest_brunel_ei.json --t-sim 1500ms --t-warmup 500ms
rm -rf "$T"

# ---- micro level (kernels/backend_cuda_micro.cu) --------------------------------------------
# CPU vs CUDA agreement at the micro level, 1000 realizations each (the design is exact, so the
# two files hold the same numbers). 5000 and 2000 realization-s: the CPU (16 cores: ~4800 r-s/s
# for B1, ~1400 for E/I 3(c)) takes 1-2 s; the device about as long at the floor of 5000 r-s/s,
# and under a minute even at 200 r-s/s.
section "== micro CPU vs CUDA agreement (mesogif compare, 1000 realizations each)"
T=$(mktemp -d)
compare_backends B1_micro "" --level micro --t-sim 5s --t-warmup 1s
compare_backends EI_3c_micro data/models/ei_network.json --level micro --t-sim 2s --t-warmup 500ms
rm -rf "$T"
# ---- end of the micro level --------------------------------------------------------------------

# ---- switching rates (mesogif switch, kernels/ffs/) --------------------------------------------
# The FFS estimate on CUDA is the CPU's, bit for bit (tests/test_ffs_cuda.c above); here the
# command end to end at the defaults (B1, --rel-err 0.1): the same two rate lines, and the wall
# times of both backends (the CPU's 16 cores against the device's trials).
section "== switch CPU vs CUDA (B1, meso and micro, --rel-err 0.1)"
T=$(mktemp -d)
for lvl in meso micro; do
    for be in cpu cuda; do
        t0=$(date +%s.%N)
        timeout 150 ./run.sh bin/mesogif switch --level $lvl --backend $be --quiet \
            --out "$T/$lvl.$be.h5" > "$T/$lvl.$be.txt" 2>> "$LOG" || say "switch $lvl $be FAILED"
        wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
        say "switch $lvl $be: $wall s wall"
        tail -2 "$T/$lvl.$be.txt" | tee -a "$LOG" "$T/$lvl.$be.rates"
    done
    if cmp -s "$T/$lvl.cpu.rates" "$T/$lvl.cuda.rates" && [ -s "$T/$lvl.cpu.rates" ]; then
        say "compare switch $lvl cpu vs cuda: same rate lines"
    else
        say "compare switch $lvl cpu vs cuda: DIFFER or failed"; status=1
    fi
done
rm -rf "$T"

section "== benchmark"
timeout 330 bash ./bench_gpu.sh 2>&1 | tee -a "$LOG" | tee "$STAGE/bench_table.txt" > /dev/null
cat "$STAGE/bench_table.txt"

echo
echo "== summary"
grep -E "^test_.*: (passed|FAILED)|^compare " "$LOG"
grep -E "bitwise-identical fraction" "$LOG" | sed 's/^/  /'
grep -E "CUDA estimate is the CPU's|trials differ between" "$LOG" | sed 's/^/  /' # switch (FFS)
grep -E "^\| B1 meso(, stats-time)? \| (cpu|cuda[^|]* \| 100000)" "$STAGE/bench_table.txt" | sed 's/^/  /'
grep -E "^\| (B1|E/I 3\(c\)) micro \| cuda \| 1000 " "$STAGE/bench_table.txt" | sed 's/^/  /' # micro
echo "gpu_check took ${SECONDS} s; full log: $LOG"
exit $status
