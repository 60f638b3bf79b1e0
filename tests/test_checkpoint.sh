#!/usr/bin/env bash
# tests/test_checkpoint.sh: checkpoint and resume (issue 6, points 5 and 6). A run killed with
# SIGKILL at a random moment after a checkpoint, then resumed, ends with statistics and traces
# bitwise identical to an uninterrupted run; SIGTERM writes a checkpoint and exits 75; a
# checkpoint of another run or program version is refused; a full disk (ulimit -f) gives a clear
# error, no truncated result, and leaves the previous checkpoint intact. Deterministic except
# for the kill time (drawn at random; any time must work), so no false failures.
set -uo pipefail
cd "$(dirname "$0")/.."
MG=$(readlink -f "${MESOGIF:-bin/mesogif}")
W=$(mktemp -d /tmp/mesogif_ckpt.XXXXXX)
trap 'pkill -9 -f "$W" 2>/dev/null; rm -rf "$W"' EXIT
pass=0; failn=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; failn=$((failn + 1)); }
same() { # same A.h5 B.h5: sums and traces bitwise
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for k in ["stats/sums/i", "stats/sums/d", "traces/A_N"] + (["traces/A_bar"] if "traces/A_bar" in a else []):
    if not np.array_equal(a[k][()], b[k][()]):
        sys.exit("differs: " + k)
PY
}

for level in meso micro; do
    if [ $level = micro ]; then
        ARGS=(--level micro --realizations 24 --t-sim 60s --record-realizations 3 --seed 5)
    else
        ARGS=(--realizations 100 --t-sim 30s --record-realizations 5 --seed 3)
    fi
    if ! "$MG" run "${ARGS[@]}" --quiet --threads 2 --out "$W/ref_$level.h5" > /dev/null 2>"$W/err"; then
        if grep -q "not built" "$W/err"; then echo "SKIP $level: level not built"; continue; fi
        bad "$level: reference run: $(cat "$W/err")"; continue
    fi
    # 1. SIGKILL at a random moment after the first checkpoint, then resume
    "$MG" run "${ARGS[@]}" --quiet --threads 2 --checkpoint-every 1s --out "$W/k_$level.h5" \
        > /dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 100); do [ -f "$W/k_$level.h5.ckpt" ] && break; sleep 0.1; done
    sleep "0.$((RANDOM % 10))"
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    if [ ! -f "$W/k_$level.h5.ckpt" ]; then
        bad "$level: no checkpoint before the kill"
    elif [ -f "$W/k_$level.h5" ]; then
        echo "SKIP $level kill: the run finished before the kill (machine too fast for this size)"
    elif "$MG" run --resume "$W/k_$level.h5.ckpt" --quiet > /dev/null 2>"$W/err" &&
        same "$W/ref_$level.h5" "$W/k_$level.h5" && [ ! -f "$W/k_$level.h5.ckpt" ]; then
        ok "$level: killed (SIGKILL) and resumed = uninterrupted, bitwise; checkpoint removed"
    else
        bad "$level: resume after SIGKILL: $(cat "$W/err")"
    fi
    # 2. SIGTERM writes a checkpoint and exits 75
    "$MG" run "${ARGS[@]}" --quiet --threads 2 --out "$W/t_$level.h5" > /dev/null 2>"$W/term" &
    pid=$!
    sleep 1
    kill -TERM $pid; wait $pid; code=$?
    if [ $code -eq 75 ] && [ -f "$W/t_$level.h5.ckpt" ] && grep -q "resume" "$W/term" &&
        [ ! -f "$W/t_$level.h5" ]; then
        ok "$level: SIGTERM -> checkpoint, exit 75, message says how to resume"
    else
        bad "$level: SIGTERM gave exit $code: $(cat "$W/term")"
    fi
    # 3. a checkpoint of another run (seed) is refused, with the reason
    if [ -f "$W/t_$level.h5.ckpt" ]; then
        cp "$W/t_$level.h5.ckpt" "$W/other.ckpt"
        "$MG" run "${ARGS[@]}" --seed 6 --resume "$W/other.ckpt" --quiet --out "$W/o.h5" \
            > /dev/null 2>"$W/err"; code=$?
        # (issue 14: an option that changes the checkpoint's run is named as such)
        if [ $code -eq 2 ] && grep -q -- "--seed: does not apply with --resume" "$W/err" &&
            grep -q "seed $([ $level = micro ] && echo 5 || echo 3)" "$W/err" &&
            [ ! -f "$W/o.h5" ]; then ok "$level: checkpoint of another seed refused"
        else bad "$level: other seed: exit $code: $(cat "$W/err")"; fi
        /usr/bin/python3 -c "
import h5py, sys
f = h5py.File(sys.argv[1], 'r+'); f.attrs['mesogif_version'] = '9.9.9'" "$W/other.ckpt"
        "$MG" run --resume "$W/other.ckpt" --quiet --out "$W/o.h5" > /dev/null 2>"$W/err"
        code=$?
        if [ $code -eq 2 ] && grep -q "9.9.9" "$W/err" && [ ! -f "$W/o.h5" ]; then
            ok "$level: checkpoint of another program version refused"
        else bad "$level: other version: exit $code: $(cat "$W/err")"; fi
        # a checkpoint given to compare or merge is named as one, with the command that
        # finishes it (exit 2, no output)
        "$MG" compare "$W/t_$level.h5.ckpt" "$W/ref_$level.h5" > /dev/null 2>"$W/err"; code=$?
        "$MG" merge "$W/m.h5" "$W/t_$level.h5.ckpt" > /dev/null 2>>"$W/err"; code2=$?
        if [ $code -eq 2 ] && [ $code2 -eq 2 ] && [ ! -f "$W/m.h5" ] &&
            [ "$(grep -c "checkpoint of an unfinished .mesogif run. (finish it with .mesogif run --resume" "$W/err")" -eq 2 ]
        then ok "$level: compare and merge name a checkpoint as one"
        else bad "$level: compare/merge of a checkpoint: exit $code/$code2: $(cat "$W/err")"; fi
        "$MG" switch --resume "$W/t_$level.h5.ckpt" > /dev/null 2>"$W/err"; code=$?
        if [ $code -eq 2 ] && grep -q "checkpoint of an unfinished .mesogif run. (finish it with .mesogif run --resume.*not a checkpoint of .mesogif switch" "$W/err"
        then ok "$level: switch --resume names a run checkpoint as one"
        else bad "$level: switch --resume of a run checkpoint: exit $code: $(cat "$W/err")"; fi
        # 4. disk full while resuming: clear error, checkpoint intact, no result; then resume
        cp "$W/t_$level.h5.ckpt" "$W/keep.ckpt"
        (ulimit -f 64; "$MG" run --resume "$W/t_$level.h5.ckpt" --checkpoint-every 1s --quiet \
            > /dev/null 2>"$W/err"); code=$?
        if [ $code -eq 1 ] && grep -qE "failed|disk" "$W/err" && [ ! -f "$W/t_$level.h5" ] &&
            [ ! -f "$W/t_$level.h5.partial" ] && cmp -s "$W/keep.ckpt" "$W/t_$level.h5.ckpt"; then
            ok "$level: file-size limit: clear error, no result, previous checkpoint intact"
        else
            bad "$level: file-size limit: exit $code, $(cat "$W/err"); result $(ls "$W"/t_$level.h5* 2>&1 | tr '\n' ' ')"
        fi
        if "$MG" run --resume "$W/t_$level.h5.ckpt" --quiet > /dev/null 2>"$W/err" &&
            same "$W/ref_$level.h5" "$W/t_$level.h5"; then
            ok "$level: resumed after SIGTERM and a failed attempt = uninterrupted, bitwise"
        else bad "$level: final resume: $(cat "$W/err")"; fi
    fi
done
# 5. an unwritable output folder is reported before anything runs
"$MG" run --t-sim 1s --quiet --out /proc/nonexistent/x.h5 > /dev/null 2>"$W/err"; code=$?
if [ $code -eq 2 ] && [ "$(wc -l < "$W/err")" -eq 1 ]; then ok "unwritable output folder: one line, exit 2"
else bad "unwritable folder: exit $code: $(cat "$W/err")"; fi
echo "test_checkpoint: $pass passed, $failn failed"
[ $failn -eq 0 ]
