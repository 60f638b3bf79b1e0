#!/bin/bash
# tests/test_sweep_shards.sh: `mesogif sweep --shards S --task T|slurm` (src/cli/cli_sweep.c; issue
# 17.3): a grid's points split into shards of their realizations, one SLURM array task each,
# and the index made from the merged shards. From the repository root; uses $MESOGIF when set,
# else bin/mesogif. Runs of 0.3 s, 6 realizations of the uncoupled model (a few seconds in all).
#
#   count:    --count-tasks prints points x shards (3 x 3 = 9).
#   tasks:    tasks 0..8 run as a SLURM array (SLURM_ARRAY_TASK_ID 1..9, MIN 1), each writes one
#             shard file and no index; --index-only then merges every point's shards and writes
#             an index whose rows are those of the same sweep run unsharded in one call (the
#             summary columns to the 10 digits written; the shards' sums are added in another
#             order, so not bitwise).
#   missing:  with one shard missing, --index-only fails (exit 1) naming the task to run.
#   bad:      --task beyond the tasks, --shards 0, --task slurm outside an array: exit 2, one line.
# One line per case (PASS/FAIL name); exit status 1 on any failure.
set -u
. tests/lib.sh
UNC=data/models/uncoupled.json
mg_begin test_sweep_shards "$UNC"
RO=(--t-sim 300ms --t-warmup 100ms --realizations 6 --seed 9 --quiet --backend cpu)
GRID=(--set-grid P1.I_e=200:250:25)

n=$("$M" sweep "$UNC" "${GRID[@]}" --shards 3 --count-tasks 2>"$T/err")
if [ "$n" = "9" ]; then pass "count: 3 points x 3 shards = 9 tasks"; else
    fail "count: '$n' $(cat "$T/err")"; fi

ok=1
for t in 1 2 3 4 5 6 7 8 9; do
    SLURM_ARRAY_TASK_ID=$t SLURM_ARRAY_TASK_MIN=1 "$M" sweep "$UNC" "${GRID[@]}" --shards 3 \
        --task slurm --out-dir "$T/a" "${RO[@]}" >/dev/null 2>"$T/err" || ok=0
done
n_sh=$(ls "$T/a"/point_*.shard_*.h5 2>/dev/null | wc -l)
if [ $ok -eq 1 ] && [ "$n_sh" -eq 9 ] && [ ! -e "$T/a/index.csv" ]; then
    pass "tasks: 9 array tasks, 9 shard files, no index yet"
else
    fail "tasks: ok $ok, $n_sh shard files: $(head -c 300 "$T/err")"
fi
"$M" sweep "$UNC" "${GRID[@]}" --shards 3 --index-only --out-dir "$T/a" "${RO[@]}" \
    >/dev/null 2>"$T/err"
rc=$?
"$M" sweep "$UNC" "${GRID[@]}" --out-dir "$T/b" "${RO[@]}" >/dev/null 2>&1
if [ $rc -eq 0 ] && [ -s "$T/b/index.csv" ] && cmp -s "$T/a/index.csv" "$T/b/index.csv" &&
    [ "$(wc -l <"$T/a/index.csv")" -eq 4 ]; then
    pass "index: merged shards give the index of the unsharded sweep"
else
    fail "index: rc $rc: $(head -c 300 "$T/err"); $(cat "$T/a/index.csv" "$T/b/index.csv" 2>&1)"
fi

mkdir -p "$T/c"
cp "$T/a"/point_*.shard_*.h5 "$T/c/"
rm "$T/c/point_1.shard_2.h5"
"$M" sweep "$UNC" "${GRID[@]}" --shards 3 --index-only --out-dir "$T/c" "${RO[@]}" \
    >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q -- "--task 5" "$T/err" && [ ! -e "$T/c/index.csv" ]; then
    pass "missing: a missing shard is named with its task, no index"
else
    fail "missing: rc $rc: $(cat "$T/err")"
fi

bad() {
    local name=$1 want=$2
    shift 2
    "$@" >/dev/null 2>"$T/err"
    local rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$want" "$T/err"; then
        pass "bad: $name"
    else
        fail "bad: $name (rc $rc): $(cat "$T/err")"
    fi
}
bad "--task 9 of 9" "allowed: 0..8" "$M" sweep "$UNC" "${GRID[@]}" --shards 3 --task 9 \
    --out-dir "$T/d" "${RO[@]}"
bad "--shards 0" "allowed: 1..4096" "$M" sweep "$UNC" "${GRID[@]}" --shards 0 --out-dir "$T/d"
bad "--task slurm outside an array" "SLURM_ARRAY_TASK_ID" env -u SLURM_ARRAY_TASK_ID \
    "$M" sweep "$UNC" "${GRID[@]}" --task slurm --out-dir "$T/d"

mg_end
