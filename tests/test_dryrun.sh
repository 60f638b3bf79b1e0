#!/bin/bash
# tests/test_dryrun.sh: `mesogif run --dry-run` (src/engine/run_plan.c; issue 17.4), end to end from the
# repository root. Uses $MESOGIF when set, else bin/mesogif. Each case a few tenths of a second.
#
#   10^8 meso:   --realizations 100000000 --stats full (the default model) is accepted (exit 0,
#                no output file) with statistics memory <= 8 GB, and the same statistics memory
#                as 10^4 realizations (it does not grow with R); the report names every part
#                (state, statistics, traces, spikes, shared) and an estimated run time from a
#                calibration; 10^8 realizations are estimated to take longer than 10^4.
#   too big:     a run refused for its memory prints the parts and no calibration (exit 2).
# One line per case (PASS/FAIL name); exit status 1 on any failure.
set -u
. tests/lib.sh
mg_begin test_dryrun

# MB of a part named $2 in the report $1 ("statistics 3.613 MB")
part() { sed -n "s/.*[:,] $2 \([0-9.e+-]*\) MB.*/\1/p" "$1" | head -1; }
# seconds of the estimate ("estimated run time: 59.9 d (5.18e+06 s) on ...")
est() { sed -n 's/^estimated run time: .* (\([0-9.e+-]*\) s) on .*/\1/p' "$1"; }

"$M" run --realizations 100000000 --stats full --threads 2 --dry-run --out "$T/big.h5" \
    >"$T/big" 2>"$T/err"
rc=$?
stats=$(part "$T/big" statistics)
if [ $rc -eq 0 ] && [ ! -e "$T/big.h5" ] && [ -n "$stats" ] &&
    awk -v s="$stats" 'BEGIN { exit !(s <= 8000) }'; then
    pass "10^8 meso realizations, --stats full: statistics $stats MB <= 8 GB, nothing written"
else
    fail "10^8 meso: rc $rc, statistics '$stats' MB: $(cat "$T/big" "$T/err" | head -c 400)"
fi
ok=1
for p in state statistics traces spikes shared; do
    [ -n "$(part "$T/big" $p)" ] || ok=0
done
e_big=$(est "$T/big")
if [ $ok -eq 1 ] && [ -n "$e_big" ] && grep -q "from a calibration of" "$T/big"; then
    pass "report: memory by part and an estimated run time ($e_big s)"
else
    fail "report: parts or estimate missing: $(cat "$T/big")"
fi
"$M" run --realizations 10000 --stats full --threads 2 --dry-run --out "$T/small.h5" \
    >"$T/small" 2>"$T/err"
s_small=$(part "$T/small" statistics)
e_small=$(est "$T/small")
if [ -n "$s_small" ] && [ "$s_small" = "$stats" ] && [ -n "$e_small" ] &&
    awk -v a="$e_small" -v b="$e_big" 'BEGIN { exit !(b > 100 * a) }'; then
    pass "statistics memory independent of R ($s_small MB at 10^4 and 10^8); estimate grows"
else
    fail "10^4 vs 10^8: statistics '$s_small' vs '$stats' MB, estimate '$e_small' vs '$e_big' s"
fi

# refused for its memory: 4096 threads x 8 lanes of a 4 GB state would not fit
"$M" run --realizations 100 --threads 4096 --t-sim 1000000s --t-warmup 1s --stats basic \
    --record-realizations 100 --record-bin 0.5ms --dry-run --out "$T/no.h5" >"$T/no" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "^memory:" "$T/no" && grep -q "not calibrated" "$T/no" &&
    [ "$(wc -l <"$T/err")" -eq 1 ]; then
    pass "too big: exit 2, the sizes, no calibration"
else
    fail "too big: rc $rc: $(cat "$T/no" "$T/err" | head -c 400)"
fi

mg_end
