#!/bin/bash
# tests/test_compare.sh: `mesogif compare` and the statistics part of `mesogif info` end to end
# (`make test-cli`, run from the repository root). Uses $MESOGIF when set, else bin/mesogif.
#
#   same model:      two runs of the default model B1 (meso, seed 1) on disjoint realization
#                    ranges [0, 32) and [32, 64), 20 s each, must agree: exit 0, "agree".
#                    compare keeps the family-wise false-alarm rate at 1 % (its --alpha), so over
#                    the choice of seed this case fails with probability about 1 % (measured:
#                    0 of 20 B1 pairs and 1 of 20 uncoupled pairs disagreed, z-scores with
#                    standard deviation 0.89-0.92); for this seed the largest |z| is 1.6.
#   different model: B1 with mu raised from 20 to 21 mV in both populations (I_e 250 -> 262.5 pA)
#                    must disagree: exit 1, "DISAGREE" (the states separate further: the
#                    within-realization variance rises by 65 %, z = 6, and the switching rates
#                    halve, z = -4 and -5; deterministic).
#   bad input:       exit 2 with one line on stderr naming the problem, for a file that is not
#                    HDF5, a missing file, different populations (uncoupled vs B1), different
#                    statistics options (--stats-bin), a single realization, one argument only.
#   info:            shows the spectral bands and the switching table.
#   plot_run.py:     draws a PNG of the two files; refuses a non-HDF5 file (skipped when python3
#                    lacks numpy, h5py or matplotlib).
# One line per case (PASS/FAIL name); exit status 1 on any failure.
set -u

B1=data/models/bistable_b1.json
UNC=data/models/uncoupled.json
. "$(dirname "$0")/lib.sh"
mg_begin test_compare "$B1" "$UNC"
mg_show_stdout=30

# sim NAME ARGS...: a quiet run into $T/NAME.h5 (setup; a failure stops the script)
sim() {
    local name=$1
    shift
    if ! "$M" run "$@" --quiet --force --record-realizations 0 --out "$T/$name.h5" \
        >"$T/sim.out" 2>"$T/sim.err"; then
        echo "FAIL setup: mesogif run $* failed:"
        cat "$T/sim.err"
        exit 1
    fi
}

sim a --realizations 32 --t-sim 20s
sim b --first 32 --realizations 32 --t-sim 20s
"$PY" - "$B1" "$T/mu21.json" <<'EOF' || { echo "FAIL setup: cannot write the mu = 21 mV model"; exit 1; }
import json, sys
m = json.load(open(sys.argv[1]))
for p in m["populations"]:
    p["I_e"] = 262.5  # mu = I_e tau_m / C_m: 20 -> 21 mV
json.dump(m, open(sys.argv[2], "w"))
EOF
sim mu21 "$T/mu21.json" --first 64 --realizations 32 --t-sim 20s
sim unc "$UNC" --realizations 4 --t-sim 3s --stats-bin 10ms
sim bin5 --realizations 4 --t-sim 3s --stats-bin 5ms
sim basic --realizations 4 --t-sim 3s --stats basic
sim one --realizations 1 --t-sim 3s
sim short_a --realizations 2 --t-sim 1s
sim short_b --first 2 --realizations 2 --t-sim 1s
echo "not an HDF5 file" >"$T/text.h5"

# same model: agree
run "$M" compare "$T/a.h5" "$T/b.h5"
if [ $rc -eq 0 ] && grep -q "^agree" "$T/stdout" && grep -q "Bonferroni" "$T/stdout" &&
    grep -q "^PSD P1" "$T/stdout" && grep -q "^switch rate from low" "$T/stdout"; then
    pass "same model, disjoint realizations: exit 0, table with PSD bands and rates"
else
    fail "same model, disjoint realizations" "exit $rc (expected 0 and an 'agree' verdict)"
fi

# different model: disagree
run "$M" compare "$T/a.h5" "$T/mu21.h5"
if [ $rc -eq 1 ] && grep -q "^DISAGREE" "$T/stdout" && grep -q "^var A P1.*DIFFERS" "$T/stdout" &&
    grep -q "^switch rate from high.*DIFFERS" "$T/stdout"; then
    pass "mu 20 vs 21 mV: exit 1, variances and switching rates differ"
else
    fail "mu 20 vs 21 mV" "exit $rc (expected 1, DISAGREE, variances and rates differing)"
fi

# runs too short for complete dwells (mean dwell ~2 s, 0.9 s analysed per realization): the
# dwell rows say n/a and why, never nan
run "$M" compare "$T/short_a.h5" "$T/short_b.h5"
if [ $rc -le 1 ] && grep -q "^mean dwell in low (s) *n/a CV n/a n=0 .*too few complete dwells" \
    "$T/stdout" && ! grep -qi "nan" "$T/stdout"; then
    pass "runs without complete dwells: n/a, not nan"
else
    fail "runs without complete dwells" "exit $rc; $(grep '^mean dwell' "$T/stdout" | tr '\n' ';')"
fi

# bad input: exit 2, one line on stderr, nothing on stdout
bad() {
    local name=$1 word=$2
    shift 2
    run "$@"
    if [ $rc -eq 2 ] && [ ! -s "$T/stdout" ] && [ "$(wc -l <"$T/stderr")" -eq 1 ] &&
        grep -qi -- "$word" "$T/stderr"; then
        pass "$name: exit 2"
    else
        fail "$name" "exit $rc, stderr $(wc -l <"$T/stderr") line(s) (expected exit 2, one line with '$word')"
    fi
}
bad "not an HDF5 file" "not an HDF5 file" "$M" compare "$T/a.h5" "$T/text.h5"
bad "missing file" "missing.h5: cannot read: No such file" "$M" compare "$T/missing.h5" "$T/a.h5"
bad "different populations" "population" "$M" compare "$T/unc.h5" "$T/a.h5"
bad "different statistics options" "stats-bin" "$M" compare "$T/bin5.h5" "$T/a.h5"
bad "--stats basic against full" "--stats: full vs basic" "$M" compare "$T/a.h5" "$T/basic.h5"
bad "one realization" "realization" "$M" compare "$T/a.h5" "$T/one.h5"
bad "one argument" "two result files" "$M" compare "$T/a.h5"
bad "unknown option" "unknown option" "$M" compare --bogus "$T/a.h5" "$T/b.h5"

run "$M" compare --help
if [ $rc -eq 0 ] && grep -q "usage: mesogif compare" "$T/stdout"; then
    pass "compare --help: exit 0"
else
    fail "compare --help" "exit $rc"
fi

# info shows spectra and switching
run "$M" info "$T/a.h5"
if [ $rc -eq 0 ] && grep -q "^spectra (two-sided, df 1 Hz" "$T/stdout" &&
    grep -q "^switching on A1-A2" "$T/stdout" && grep -q "^  low " "$T/stdout" &&
    grep -q "^  high " "$T/stdout"; then
    pass "info: spectral bands and switching table"
else
    fail "info" "exit $rc or missing the spectra/switching summary"
fi

# tools/plot_run.py draws the two files (skipped without numpy/h5py/matplotlib)
if "$PY" -c "import numpy, h5py, matplotlib" 2>/dev/null; then
    run "$PY" tools/plot_run.py "$T/a.h5" "$T/b.h5" -o "$T/fig.png"
    if [ $rc -eq 0 ] && [ -s "$T/fig.png" ] && [ "$(head -c 4 "$T/fig.png" | tail -c 3)" = PNG ]; then
        pass "plot_run.py: a PNG of two files"
    else
        fail "plot_run.py" "exit $rc or no PNG written"
    fi
    run "$PY" tools/plot_run.py "$T/text.h5" -o "$T/bad.png"
    if [ $rc -ne 0 ] && grep -q "text.h5" "$T/stderr" && [ ! -e "$T/bad.png" ]; then
        pass "plot_run.py: a non-HDF5 file is refused, naming it"
    else
        fail "plot_run.py on a text file" "exit $rc"
    fi
else
    echo "SKIP plot_run.py: python3 lacks numpy, h5py or matplotlib"
fi

mg_end
