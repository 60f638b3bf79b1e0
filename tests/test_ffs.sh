#!/bin/bash
# tests/test_ffs.sh: `mesogif switch` end to end (`make test-cli`, from the repository root).
# Uses $MESOGIF when set, else bin/mesogif.
#
# 1. Statistics: for B1 (N = 500) the FFS rates (rel-err 0.15) and the brute-force rates
#    (exits / exposure of `mesogif run` with the same observable and thresholds, via
#    `switch --method brute`) agree within their combined 95 % intervals (the intervals
#    overlap), in both directions. Seeds are fixed, so the outcome is fixed; over seeds, two
#    independent estimates with equal standard errors fail to overlap with probability
#    P(|Z| > 1.96 sqrt 2) = 0.6 % per direction: about 1 % for the pair (the false-failure
#    rate of this check).
#    Negative control: the same FFS rates against brute force with the wrong basins
#    (thresholds -1,1 instead of -5,5: rates about twice as high) must NOT agree, which shows
#    the check can fail.
# 2. Reproducibility: the file's rates are the same bits with 1 and 2 threads; --set gives the
#    bits of a model file with the same change.
# 3. File: /switching/ffs holds the datasets of docs/FILE_FORMAT.md; the last two lines of
#    stdout are the rate lines.
# 4. Bad input: exit 2, one line on stderr naming the option, nothing on stdout, no output
#    file and no .partial; a basin never left within --basin-budget names the budget; state
#    pools too big for the machine are refused before the run.
# 5. --dry-run prints the memory and writes nothing; SIGTERM writes a checkpoint and exits 75,
#    and --resume gives the bits of the uninterrupted run; with --no-checkpoint SIGTERM stops
#    with exit 130 and no file.
set -u
M=${MESOGIF:-bin/mesogif}
B1=data/models/bistable_b1.json
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if [ ! -x "$M" ]; then
    echo "FAIL setup: $M is not an executable (build it with make, or set MESOGIF)"
    exit 1
fi
T=$(mktemp -d /tmp/mg_test_ffs.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
n_pass=0
n_fail=0
pass() { echo "PASS $1"; n_pass=$((n_pass + 1)); }
fail() {
    echo "FAIL $1: $2"
    n_fail=$((n_fail + 1))
    [ -s "$T/stderr" ] && sed 's/^/      stderr: /' "$T/stderr" | tail -3
}
rc=0
run() { "$@" >"$T/stdout" 2>"$T/stderr"; rc=$?; }

. tests/ffs_lib.sh # rates, overlap, model, stop_at, same_rates

# ---- 1. FFS against brute force --------------------------------------------------------
run "$M" switch --seed 3 --rel-err 0.15 --threads 2 --quiet --out "$T/ffs.h5"
if [ $rc -ne 0 ]; then
    fail ffs_run "exit $rc"
else
    pass ffs_run
    tail -2 "$T/stdout" | grep -q '^rate from low: .* Hz \[.*, .*\] (95 %)$' &&
        tail -1 "$T/stdout" | grep -q '^rate from high: .* Hz \[.*, .*\] (95 %)$' &&
        pass ffs_rate_lines || fail ffs_rate_lines "$(tail -2 "$T/stdout")"
fi
cp "$T/stdout" "$T/ffs.out"
run "$M" switch --method brute --brute-time 1500s --seed 4 --threads 2 --out "$T/brute.h5"
cp "$T/stdout" "$T/brute.out"
run "$M" switch --method brute --brute-time 300s --switch-thresholds=-1,1 --seed 5 --threads 2 \
    --out "$T/wrong.h5"
cp "$T/stdout" "$T/wrong.out"
read -r fl fll flh fh fhl fhh <<<"$(rates "$T/ffs.out")"
read -r bl bll blh bh bhl bhh <<<"$(rates "$T/brute.out")"
read -r wl wll wlh wh whl whh <<<"$(rates "$T/wrong.out")"
echo "      from low:  ffs $fl [$fll, $flh], brute $bl [$bll, $blh], wrong basins $wl [$wll, $wlh]"
echo "      from high: ffs $fh [$fhl, $fhh], brute $bh [$bhl, $bhh], wrong basins $wh [$whl, $whh]"
for d in low high; do
    if [ $d = low ]; then f="$fl $fll $flh"; b="$bl $bll $blh"; w="$wl $wll $wlh"
    else f="$fh $fhl $fhh"; b="$bh $bhl $bhh"; w="$wh $whl $whh"; fi
    if overlap "$f" "$b"; then pass "ffs_vs_brute_from_$d"; else fail "ffs_vs_brute_from_$d" "no overlap"; fi
    if overlap "$f" "$w"; then
        fail "negative_control_from_$d" "FFS agrees with the wrong basins"
    else
        pass "negative_control_from_$d"
    fi
done

# ---- 2. threads --------------------------------------------------------------------------
small="--seed 9 --rel-err 0.3 --basin-realizations 16 --basin-budget 300s --trials 64 --pilot 16 --quiet"
run "$M" switch $small --threads 1 --out "$T/t1.h5"
r1=$rc
run "$M" switch $small --threads 2 --out "$T/t2.h5"
if [ $r1 -eq 0 ] && [ $rc -eq 0 ] &&
    [ "$(h5dump -d /switching/ffs/rate_hz -d /switching/ffs/from_low/successes "$T/t1.h5" | grep -A3 DATA)" = \
      "$(h5dump -d /switching/ffs/rate_hz -d /switching/ffs/from_low/successes "$T/t2.h5" | grep -A3 DATA)" ]; then
    pass threads_same_bits
else
    fail threads_same_bits "exit $r1/$rc or the files differ"
fi

# --set: the overrides give the bits of a model file with the same change (B1 scaled to N = 700
# with J N fixed, tests/ffs_lib.sh), and the stored model carries them
model 700 "$T/b1_700.json"
J700=$($PY -c 'print(repr(-0.043 * 500 / 700))')
run "$M" switch "$T/b1_700.json" $small --threads 2 --out "$T/file700.h5"
r1=$rc
run "$M" switch "$B1" $small --threads 2 --set P1.N=700 --set P2.N=700 \
    --set "PROJ[P1->P2].J=$J700" --set "PROJ[P2->P1].J=$J700" --out "$T/set700.h5"
if [ $r1 -eq 0 ] && [ $rc -eq 0 ] && same_rates "$T/file700.h5" "$T/set700.h5" &&
    h5dump -d /config/model_json "$T/set700.h5" | grep -q '"N": *700'; then
    pass set_equals_model_file
else
    fail set_equals_model_file "exit $r1/$rc or the files differ"
fi

# ---- 3. the file -------------------------------------------------------------------------
missing=""
for p in rate_hz rate_ci_low rate_ci_high rate_rel_se flux_hz flux_crossings basin_exposure_s \
    basin_core trial_realization_s basin_realization_s observable thresholds \
    from_low/interfaces from_low/trials from_low/successes from_high/p; do
    h5dump -d "/switching/ffs/$p" -H "$T/t1.h5" >/dev/null 2>&1 || missing="$missing $p"
done
h5dump -a /format -a /seed -a /command_line -H "$T/t1.h5" >/dev/null 2>&1 || missing="$missing root-attributes"
[ -z "$missing" ] && pass file_layout || fail file_layout "missing:$missing"

# ---- 4. bad input ------------------------------------------------------------------------
# bad NAME WORD ARGS...: exit 2, one stderr line containing WORD, empty stdout, no file
bad() {
    local name=$1 word=$2
    shift 2
    rm -f "$T/bad.h5" "$T/bad.h5.partial"
    run "$M" switch "$@" --out "$T/bad.h5"
    local lines
    lines=$(wc -l <"$T/stderr")
    if [ $rc -ne 2 ]; then
        fail "$name" "exit $rc (expected 2)"
    elif [ "$lines" -ne 1 ]; then
        fail "$name" "$lines stderr lines (expected 1)"
    elif ! grep -q -- "$word" "$T/stderr"; then
        fail "$name" "stderr does not name '$word'"
    elif [ -s "$T/stdout" ] || [ -e "$T/bad.h5" ] || [ -e "$T/bad.h5.partial" ]; then
        fail "$name" "output written"
    else
        pass "$name"
    fi
}
bad iface_outside --interfaces --interfaces -2,6
bad iface_on_threshold --interfaces --interfaces -5,0
bad iface_not_monotone --interfaces --interfaces 1,0
bad iface_garbage --interfaces --interfaces 1,x
bad rel_err_zero --rel-err --rel-err 0
bad rel_err_one --rel-err --rel-err 1
bad rel_err_text --rel-err --rel-err abc
bad unknown_population A3 --switch-observable A1-A3
bad level_unknown --level --level macro
bad unknown_option frobnicate --frobnicate
bad set_unknown_key N_typo --set P1.N_typo=3
bad set_out_of_range "allowed: integer" --set P1.N=-3
# a basin never left: B1 at N = 10^4 (switching about once in 10^6 s) with the first interface
# next to the other basin and a small budget: the basin runs cannot cross it
model 10000 "$T/b1_1e4.json"
bad basin_never_left --basin-budget "$T/b1_1e4.json" --interfaces 4.9 --basin-budget 200s \
    --basin-realizations 16 --threads 2 --quiet

# a time-dependent input: no stationary rate to estimate
$PY - "$B1" "$T/b1_ac.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["populations"][0]["ac_current"] = {"amplitude": 50.0, "frequency": 5.0}
json.dump(m, open(sys.argv[2], "w"))
EOF
bad time_dependent_input /populations/0 "$T/b1_ac.json"
# state pools that would not fit: refused before the run with the numbers
bad pools_too_big --pool-max --pool-max 10000000

# ---- 5. dry run and signals --------------------------------------------------------------
rm -f "$T/dry.h5"
run "$M" switch --dry-run --out "$T/dry.h5"
if [ $rc -eq 0 ] && grep -q '^memory: .* MB per stored state' "$T/stdout" && [ ! -e "$T/dry.h5" ]; then
    pass dry_run
else
    fail dry_run "exit $rc, stdout: $(head -1 "$T/stdout")"
fi
# SIGTERM with --no-checkpoint: exit 130, nothing written
rm -f "$T/sig.h5"
"$M" switch "$T/b1_1e4.json" --basin-budget 100000s --quiet --threads 1 --no-checkpoint \
    --out "$T/sig.h5" >"$T/stdout" 2>"$T/stderr" &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -eq 130 ] && [ ! -e "$T/sig.h5" ] && [ ! -e "$T/sig.h5.ckpt" ] &&
    grep -q "interrupted" "$T/stderr"; then
    pass sigterm_no_checkpoint
else
    fail sigterm_no_checkpoint "exit $rc"
fi
# SIGTERM: checkpoint and exit 75; --resume finishes with the bits of the uninterrupted run of
# part 1 (same options and seed; other threads)
rm -f "$T/res.h5" "$T/res.h5.ckpt"
# the signal comes after the first counting round of the basin runs (its progress line), long
# before the end
stop_at "basin runs:" "$M" switch --seed 3 --rel-err 0.15 --threads 2 --out "$T/res.h5"
if [ $rc -eq 75 ] && [ -e "$T/res.h5.ckpt" ] && [ ! -e "$T/res.h5" ]; then
    pass sigterm_checkpoint
    cp "$T/res.h5.ckpt" "$T/keep.ckpt"
    run "$M" switch --resume "$T/res.h5.ckpt" --threads 1 --quiet
    same=1
    same_rates "$T/ffs.h5" "$T/res.h5" || same=0
    if [ $rc -eq 0 ] && [ $same -eq 1 ] && [ ! -e "$T/res.h5.ckpt" ]; then
        pass resume_same_bits
    else
        fail resume_same_bits "exit $rc, same bits: $same"
    fi
else
    fail sigterm_checkpoint "exit $rc (the run may have ended before the signal)"
fi
[ -e "$T/keep.ckpt" ] && bad resume_with_options "not allowed with --resume" --resume "$T/keep.ckpt" --rel-err 0.2
[ -e "$T/keep.ckpt" ] && bad resume_with_set "not allowed with --resume" --resume "$T/keep.ckpt" --set P1.N=700
bad resume_not_a_checkpoint "ffs.h5: a \`mesogif switch\` result .*, not a checkpoint" --resume "$T/ffs.h5"
# a switch checkpoint given to `run --resume` is named, with the command that continues it
if [ -e "$T/keep.ckpt" ]; then
    run "$M" run --resume "$T/keep.ckpt"
    if [ $rc -eq 2 ] && grep -q "keep.ckpt: a checkpoint of an unfinished \`mesogif switch\` (finish it with \`mesogif switch --resume\`" "$T/stderr"; then
        pass run_resume_of_a_switch_checkpoint
    else
        fail run_resume_of_a_switch_checkpoint "exit $rc: $(head -1 "$T/stderr")"
    fi
fi
# a switch file given to compare or merge (they take `run` files): exit 2, one line naming it
# as a switch file, no output file
for verb in compare merge; do
    rm -f "$T/m.h5"
    if [ $verb = compare ]; then run "$M" compare "$T/ffs.h5" "$T/ffs.h5"
    else run "$M" merge "$T/m.h5" "$T/ffs.h5" "$T/ffs.h5"; fi
    if [ $rc -eq 2 ] && [ "$(wc -l <"$T/stderr")" -eq 1 ] &&
        grep -q "ffs.h5: a \`mesogif switch\` result" "$T/stderr" && [ ! -e "$T/m.h5" ]; then
        pass "${verb}_of_a_switch_file"
    else
        fail "${verb}_of_a_switch_file" "exit $rc: $(head -1 "$T/stderr")"
    fi
done
if [ -e "$T/keep.ckpt" ]; then
    run "$M" compare "$T/keep.ckpt" "$T/ffs.h5"
    if [ $rc -eq 2 ] && grep -q "keep.ckpt: a checkpoint of an unfinished \`mesogif switch\`.*switch --resume" "$T/stderr"; then
        pass compare_of_a_switch_checkpoint
    else
        fail compare_of_a_switch_checkpoint "exit $rc: $(head -1 "$T/stderr")"
    fi
fi
if "$PY" -c "import numpy, h5py, matplotlib" 2>/dev/null; then
    run "$PY" tools/plot_run.py "$T/ffs.h5" -o "$T/fig.png"
    if [ $rc -ne 0 ] && grep -q "ffs.h5: a \`mesogif switch\` result" "$T/stderr" && [ ! -e "$T/fig.png" ]; then
        pass plot_of_a_switch_file
    else
        fail plot_of_a_switch_file "exit $rc: $(tail -1 "$T/stderr")"
    fi
fi

echo "test_ffs.sh: $n_pass passed, $n_fail failed"
[ $n_fail -eq 0 ]
