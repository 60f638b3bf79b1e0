#!/usr/bin/env bash
# tools/valgrind_check.sh [MESOGIF]: valgrind memcheck on small runs of every verb that touches
# memory in earnest (issue 8, point 3): a meso run, a micro run (`--level micro`), two shards and
# their merge, info and compare on the results. Clean means: no memcheck error (invalid reads or
# writes, uninitialised values in a decision, bad frees) and no definitely or indirectly lost
# block; "still reachable" (HDF5's and libgomp's global state, freed by nobody at exit) and
# "possibly lost" (libgomp's thread stacks, see tools/valgrind.supp) are not failures.
#
# Without MESOGIF it builds one into build/valgrind: -O1 -g for exact line numbers, MARCH=x86-64-v3
# because valgrind 3.19 does not decode AVX-512 (what -march=native gives on such CPUs), no CUDA.
# Takes about a minute. Exit 0 when clean, 1 otherwise (the logs are kept in build/valgrind/logs).
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
    echo "valgrind_check: valgrind is not installed (apt-get install valgrind)" >&2
    exit 1
fi
if [ $# -ge 1 ]; then
    MG=$(readlink -f "$1")
else
    make -s BUILD=build/valgrind BINDIR=build/valgrind/bin MARCH=x86-64-v3 NVCC= \
        CFLAGS="-O1 -g" build/valgrind/bin/mesogif || exit 1
    MG=$(readlink -f build/valgrind/bin/mesogif)
fi
LOGS=build/valgrind/logs
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log
W=$(mktemp -d /tmp/mg_valgrind.XXXXXX)
trap 'rm -rf "$W"' EXIT

VG=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=99
    --suppressions=tools/valgrind.supp --num-callers=30)
SMALL=(--t-sim 300ms --t-warmup 100ms --record-bin 10ms --psd-df 20Hz --hist-bins 20 --quiet
       --threads 2)
fail=0
check() { # check NAME CMD...: run CMD under memcheck, expect exit 0
    local name=$1
    shift
    local t0=$SECONDS
    "${VG[@]}" --log-file="$LOGS/$name.log" "$@" >"$LOGS/$name.out" 2>&1
    local rc=$?
    local lost
    lost=$(grep -E "definitely lost|indirectly lost" "$LOGS/$name.log" | tr -s ' ' | cut -d' ' -f2- | tr '\n' ';')
    local errs
    errs=$(grep -E "ERROR SUMMARY" "$LOGS/$name.log" | tr -s ' ' | cut -d' ' -f2-)
    if [ $rc -eq 0 ]; then
        echo "PASS $name ($((SECONDS - t0)) s): $errs ${lost:-no leaks}"
    else
        echo "FAIL $name: exit $rc; $errs $lost (see $LOGS/$name.log)"
        fail=1
    fi
}

check meso_run "$MG" run "${SMALL[@]}" --realizations 4 --record-realizations 2 --out "$W/meso.h5"
check micro_run "$MG" run data/models/uncoupled.json --level micro "${SMALL[@]}" \
    --realizations 2 --out "$W/micro.h5"
check shard0 "$MG" run "${SMALL[@]}" --realizations 4 --shard 0/2 --out "$W/s0.h5"
check shard1 "$MG" run "${SMALL[@]}" --realizations 4 --shard 1/2 --out "$W/s1.h5"
check merge "$MG" merge "$W/merged.h5" "$W/s0.h5" "$W/s1.h5"
check info "$MG" info "$W/merged.h5"
if "$MG" compare --help >/dev/null 2>&1; then
    # exit 0 (agree) or 1 (disagree) are both a clean run of the verb; memcheck's is 99
    "${VG[@]}" --log-file="$LOGS/compare.log" "$MG" compare "$W/meso.h5" "$W/merged.h5" \
        >"$LOGS/compare.out" 2>&1
    rc=$?
    if [ $rc -le 1 ]; then echo "PASS compare: $(grep "ERROR SUMMARY" "$LOGS/compare.log" | cut -d' ' -f2-)"
    else echo "FAIL compare: exit $rc (see $LOGS/compare.log)"; fail=1; fi
else
    echo "SKIP compare: this mesogif has no compare verb"
fi
check theory "$MG" theory data/models/bistable_b1.json

if [ $fail -ne 0 ]; then
    echo "valgrind_check: FAILED"
    exit 1
fi
echo "valgrind_check: memcheck clean (no errors, nothing definitely or indirectly lost)"
