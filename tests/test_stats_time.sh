#!/bin/bash
# tests/test_stats_time.sh: `mesogif run --stats-time` end to end (issue 17 point 1; the
# statistics themselves are checked in tests/test_stats_time.c). Run from the repository root
# (`make test-cli`); uses $MESOGIF when set, else bin/mesogif. All runs are short (0.5 s).
#
#   default:   a model with a step current gets /stats/time in its statistics bin; a stationary
#              one (uncoupled.json) and --stats-time off get none;
#   shapes:    /stats/time/mean_A, var_A, mean_A_sem [P][bins], cov_A [P][P][bins], t_s [bins];
#   shards:    two group-aligned shards (32 realizations each) merged by `mesogif merge` have the
#              same /stats/time and /stats/sums bits as one run of 64 (h5diff); threads 1 vs 2
#              and batch 3 give the same bits;
#   checkpoint: SIGTERM writes a checkpoint (exit 75) and --resume ends with the bits of one
#              uninterrupted run; a different --stats-time with --resume is refused;
#   info:      `mesogif info` prints the time-resolved summary;
#   compare:   `mesogif compare` judges mean A(t) bin by bin: two ensembles of one model agree,
#              a larger step differs;
#   bad input: a bin that is not a duration, 0, not a multiple of dt, longer than t-sim, or a
#              record of more than 64 MB: exit 2, a line naming --stats-time, no output file; a
#              default that would be too large is left off with a note.
# One line per case (PASS/FAIL name); exit status 1 on any failure.
set -u

UNC=data/models/uncoupled.json
. "$(dirname "$0")/lib.sh"
mg_begin test_stats_time "$UNC"

# the uncoupled population with a step of +60 pA at 200 ms
sed 's/"len_kernel": -1}/"len_kernel": -1, "step_current": {"amplitude_times": [200.0], "amplitude_values": [60.0]}}/' \
    "$UNC" > "$T/step.json"
grep -q step_current "$T/step.json" || fail "setup: step model"

RUN=(run --t-sim 500ms --t-warmup 100ms --stats-bin 10ms --quiet --backend cpu --seed 5)

# h5ls line of a dataset, e.g. "Dataset {1, 50}"
shape() { h5ls "$1/$2" 2>/dev/null | sed 's/.*Dataset //'; }

# ---- defaults and shapes ------------------------------------------------------------------
"$M" "${RUN[@]}" "$T/step.json" --realizations 8 --out "$T/a.h5" >/dev/null 2>"$T/err"
if [ "$(shape "$T/a.h5" stats/time/mean_A)" = "{1, 50}" ] &&
    [ "$(shape "$T/a.h5" stats/time/var_A)" = "{1, 50}" ] &&
    [ "$(shape "$T/a.h5" stats/time/mean_A_sem)" = "{1, 50}" ] &&
    [ "$(shape "$T/a.h5" stats/time/cov_A)" = "{1, 1, 50}" ] &&
    [ "$(shape "$T/a.h5" stats/time/t_s)" = "{50}" ] &&
    [ "$(shape "$T/a.h5" stats/sums/time/sum_AA)" = "{1, 1, 50}" ]; then
    pass "default: a step current gets /stats/time in 10 ms bins, shapes [P][bins], [P][P][bins]"
else
    fail "default: /stats/time of the step model: $(h5ls -r "$T/a.h5" 2>&1 | grep time | tr '\n' ' ') $(cat "$T/err")"
fi
"$M" "${RUN[@]}" "$UNC" --realizations 2 --out "$T/b.h5" >/dev/null 2>&1
"$M" "${RUN[@]}" "$T/step.json" --realizations 2 --stats-time off --out "$T/c.h5" >/dev/null 2>&1
if [ -f "$T/b.h5" ] && [ -f "$T/c.h5" ] && ! h5ls -r "$T/b.h5" | grep -q time &&
    ! h5ls -r "$T/c.h5" | grep -q time; then
    pass "default: none for a stationary model, none with --stats-time off"
else
    fail "default: /stats/time where none was asked for"
fi
"$M" "${RUN[@]}" "$UNC" --realizations 2 --stats-time 50ms --out "$T/d.h5" >/dev/null 2>&1
if [ "$(shape "$T/d.h5" stats/time/mean_A)" = "{1, 10}" ]; then
    pass "--stats-time 50ms on a stationary model: 10 bins"
else
    fail "--stats-time 50ms: $(shape "$T/d.h5" stats/time/mean_A)"
fi

# ---- bitwise: threads, batches, shards merged ----------------------------------------------
"$M" "${RUN[@]}" "$T/step.json" --realizations 64 --threads 1 --out "$T/one.h5" >/dev/null 2>&1
"$M" "${RUN[@]}" "$T/step.json" --realizations 64 --threads 2 --batch 3 --out "$T/two.h5" >/dev/null 2>&1
if h5diff "$T/one.h5" "$T/two.h5" /stats/time >/dev/null 2>&1 &&
    h5diff "$T/one.h5" "$T/two.h5" /stats/sums >/dev/null 2>&1; then
    pass "bitwise: 1 thread = 2 threads with batch 3 (/stats/time, /stats/sums)"
else
    fail "bitwise: threads/batch change /stats/time"
fi
for s in 0 1; do
    "$M" "${RUN[@]}" "$T/step.json" --realizations 64 --shard $s/2 --out "$T/s$s.h5" >/dev/null 2>&1
done
"$M" merge "$T/m.h5" "$T/s0.h5" "$T/s1.h5" >/dev/null 2>&1
if [ -f "$T/m.h5" ] && h5diff "$T/one.h5" "$T/m.h5" /stats/time >/dev/null 2>&1 &&
    h5diff "$T/one.h5" "$T/m.h5" /stats/sums >/dev/null 2>&1; then
    pass "shards: two merged shards = one run (/stats/time, /stats/sums, bitwise)"
else
    fail "shards: merged /stats/time differs from one run: $(h5diff "$T/one.h5" "$T/m.h5" /stats/time 2>&1 | tail -2)"
fi

# ---- checkpoint: SIGTERM (checkpoint, exit 75), --resume = one uninterrupted run ------------
CK=(run "$T/step.json" --t-sim 40s --t-warmup 100ms --realizations 256 --stats-time 100ms --quiet
    --backend cpu --threads 2 --seed 9 --record-realizations 0)
"$M" "${CK[@]}" --out "$T/full.h5" >/dev/null 2>&1
mg_term_after 0.7 "$M" "${CK[@]}" --out "$T/ck.h5" --checkpoint "$T/ck.ckpt"
if [ $code -eq 0 ]; then
    echo "SKIP checkpoint: the run finished before the signal (machine too fast for this size)"
elif [ $code -eq 75 ] && "$M" run --resume "$T/ck.ckpt" --quiet >/dev/null 2>&1 &&
    h5diff "$T/full.h5" "$T/ck.h5" /stats/time >/dev/null 2>&1 &&
    h5diff "$T/full.h5" "$T/ck.h5" /stats/sums >/dev/null 2>&1; then
    pass "checkpoint: SIGTERM, --resume = uninterrupted (/stats/time, /stats/sums, bitwise)"
else
    fail "checkpoint: exit $code, or resumed /stats/time differs"
fi
if [ -f "$T/ck.h5" ]; then
    mg_term_after 0.5 "$M" "${CK[@]}" --out "$T/ck2.h5" --checkpoint "$T/ck2.ckpt"
    if [ $code -eq 75 ]; then
        "$M" run --resume "$T/ck2.ckpt" --stats-time 50ms --quiet >/dev/null 2>"$T/err"
        rc=$?
        if [ $rc -eq 2 ] && grep -q -- "--stats-time: does not apply with --resume" "$T/err"; then
            pass "checkpoint: --resume with another --stats-time is refused"
        else
            fail "checkpoint: --resume --stats-time 50ms (exit $rc): $(cat "$T/err")"
        fi
    fi
fi

# ---- info ---------------------------------------------------------------------------------
if "$M" info "$T/m.h5" 2>&1 | grep -q "time-resolved statistics across 64 realizations (50 bins of 10 ms"; then
    pass "info: time-resolved summary"
else
    fail "info: no time-resolved summary"
fi

# ---- compare: the time-resolved means bin by bin (Bonferroni over rows and bins) ------------
# two independent ensembles of the same model (realizations [0, 64) and [64, 128)) agree; a
# step of 80 instead of 60 pA disagrees in the bins after the step. --alpha 1e-4: the
# family-wise false-alarm rate of the agreeing case (the disagreeing one is 10 Hz apart, far
# beyond the 0.5 Hz standard errors).
"$M" "${RUN[@]}" "$T/step.json" --realizations 64 --first 64 --out "$T/o.h5" >/dev/null 2>&1
"$M" compare --alpha 1e-4 "$T/one.h5" "$T/o.h5" >"$T/cmp" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "and 50 time bins within" "$T/cmp" && grep -q "mean A(t) P1, 50 bins" "$T/cmp"; then
    pass "compare: two ensembles of one model agree bin by bin"
else
    fail "compare: same model (exit $rc): $(tail -3 "$T/cmp")"
fi
sed 's/\[60.0\]/[80.0]/' "$T/step.json" > "$T/step80.json"
"$M" "${RUN[@]}" "$T/step80.json" --realizations 64 --first 64 --out "$T/o80.h5" >/dev/null 2>&1
"$M" compare --alpha 1e-4 "$T/one.h5" "$T/o80.h5" >"$T/cmp" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "DIFFERS ([1-9][0-9]* bins beyond)" "$T/cmp" &&
    grep -q "time bins beyond" "$T/cmp"; then
    pass "compare: a larger step differs in the bins after it"
else
    fail "compare: different step (exit $rc): $(tail -3 "$T/cmp")"
fi

# ---- bad input ----------------------------------------------------------------------------
check_bad() { # name, expected text, args...
    local name=$1 want=$2
    shift 2
    rm -f "$T/x.h5"
    "$M" "${RUN[@]}" --realizations 1 --out "$T/x.h5" "$@" >/dev/null 2>"$T/err"
    local rc=$?
    if [ $rc -eq 2 ] && grep -q -- "$want" "$T/err" && [ ! -e "$T/x.h5" ] &&
        ! ls "$T"/x.h5* >/dev/null 2>&1; then
        pass "bad input: $name"
    else
        fail "bad input: $name (exit $rc): $(cat "$T/err")"
    fi
}
check_bad "not a duration" "--stats-time: 'fast'" "$T/step.json" --stats-time fast
check_bad "zero" "--stats-time: '0'" "$T/step.json" --stats-time 0
check_bad "not a multiple of dt" "--stats-time: 2.5 ms is not a multiple of dt = 1 ms" \
    "$T/step.json" --stats-time 2.5ms
check_bad "longer than t-sim" "--stats-time: 600 ms is longer than t-sim" "$T/step.json" \
    --stats-time 600ms
# 5000 s in 1 ms bins: (1 + 1) x 5e6 x 8 bytes = 76.3 MB per realization
check_bad "record too large" "--stats-time: 5000000 bins of 1 ms for 1 populations make a time-resolved record of 76.3 MB per realization (allowed: <= 64 MB" \
    "$T/step.json" --t-sim 5000s --stats-time 1ms --record-realizations 0
"$M" "${RUN[@]}" "$T/step.json" --t-sim 5000s --stats-bin 1ms --record-realizations 0 \
    --realizations 1 --dry-run --out "$T/y.h5" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "note: time-resolved statistics left off (76 MB" "$T/err"; then
    pass "default too large: left off with a note"
else
    fail "default too large (exit $rc): $(cat "$T/err")"
fi

mg_end
