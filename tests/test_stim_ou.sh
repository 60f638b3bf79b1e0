#!/bin/bash
# tests/test_stim_ou.sh: the OU current independent per realization end to end (issue 17.2; the
# dynamics are checked in tests/test_stim_ou_run.c and tests/test_stim_ou.c). Run from the
# repository root (`make test-cli`); uses $MESOGIF when set, else bin/mesogif.
#
#   checkpoint: at each level, a run stopped by SIGTERM (checkpoint, exit 75) and continued with
#               --resume ends with the statistics and traces of one uninterrupted run, bitwise:
#               the current's state is part of the realization's state;
#   realizations: recorded realizations differ with n = n_bar (--noise deterministic) only
#               through the current, and all are equal with the frozen current;
#   bad input:  "independent" that is not true/false: exit 2, one line naming its JSON path, no
#               output file.
# One line per case (PASS/FAIL name); exit status 1 on any failure.
set -u
. "$(dirname "$0")/lib.sh"
mg_begin test_stim_ou

OU='P1.ou_current={"mean": 5, "std": 25, "tau": 4, "start": 50, "independent": true}'

# ---- checkpoint: SIGTERM, --resume = uninterrupted ----------------------------------------
for level in meso micro; do
    if [ $level = meso ]; then
        CK=(run --set "$OU" --t-sim 40s --realizations 64 --record-realizations 3 --seed 9)
    else
        CK=(run --set "$OU" --level micro --t-sim 100s --realizations 8 --record-realizations 3
            --seed 9)
    fi
    CK+=(--stats-time 100ms --quiet --backend cpu --threads 2)
    "$M" "${CK[@]}" --out "$T/full_$level.h5" >/dev/null 2>"$T/stderr"
    mg_term_after 1 "$M" "${CK[@]}" --out "$T/ck_$level.h5" --checkpoint "$T/ck_$level.ckpt"
    if [ $code -eq 0 ]; then
        echo "SKIP $level checkpoint: the run finished before the signal (machine too fast)"
    elif [ $code -eq 75 ] && "$M" run --resume "$T/ck_$level.ckpt" --quiet >/dev/null 2>&1 &&
        h5diff "$T/full_$level.h5" "$T/ck_$level.h5" /stats/sums >/dev/null 2>&1 &&
        h5diff "$T/full_$level.h5" "$T/ck_$level.h5" /stats/time >/dev/null 2>&1 &&
        h5diff "$T/full_$level.h5" "$T/ck_$level.h5" /traces/A_N >/dev/null 2>&1; then
        pass "$level checkpoint: SIGTERM, --resume = uninterrupted (sums, time, traces bitwise)"
    else
        fail "$level checkpoint: exit $code, or the resumed run differs"
    fi
done

# ---- realizations differ through the current only -----------------------------------------
spread() { # file: largest difference between recorded realizations' A_N
    $PY -c "import sys,h5py,numpy as np; A=h5py.File(sys.argv[1],'r')['traces/A_N'][()]; print(float(np.abs(A-A[:1]).max()))" "$1"
}
for ind in true false; do
    run "$M" run --set "P1.ou_current={\"std\": 25, \"tau\": 4, \"independent\": $ind}" \
        --noise deterministic --t-sim 500ms --realizations 4 --record-realizations 4 --quiet \
        --backend cpu --out "$T/det_$ind.h5"
    d=$(spread "$T/det_$ind.h5" 2>/dev/null || echo error)
    if [ $rc -eq 0 ] && { { [ $ind = true ] && [ "$d" != 0.0 ] && [ "$d" != error ]; } ||
        { [ $ind = false ] && [ "$d" = 0.0 ]; }; }; then
        pass "independent=$ind, n = n_bar: realizations differ by $d Hz at most"
    else
        fail "independent=$ind, n = n_bar: spread $d (exit $rc)"
    fi
done

# ---- bad input ------------------------------------------------------------------------------
run "$M" run --set 'P1.ou_current={"std": 1, "tau": 3, "independent": "yes"}' --t-sim 100ms \
    --quiet --out "$T/bad.h5"
if [ $rc -eq 2 ] && [ ! -e "$T/bad.h5" ] && [ "$(wc -l < "$T/stderr")" -eq 1 ] &&
    grep -q '/populations/0/ou_current/independent: must be true or false, not a string' \
        "$T/stderr"; then
    pass "bad \"independent\": exit 2, its JSON path, no output file"
else
    fail "bad \"independent\": exit $rc"
fi
mg_end
