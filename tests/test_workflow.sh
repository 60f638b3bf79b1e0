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

B1=data/models/bistable_b1.json
. "$(dirname "$0")/lib.sh"
mg_begin test_workflow "$B1"
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
# a shard of another run: refused, and the message shows where the runs differ, even deep in
# the model's one-line JSON
"$M" run "${SHORT[@]}" --realizations 8 --shard 3/4 --set P2.Delta_V=2.1 --out "$T/s3x.h5" \
    >/dev/null 2>&1
expect "merge: a shard of another run is refused, showing the difference" 2 \
    "another run|\"Delta_V\":2.0|\"Delta_V\":2.1" \
    "$M" merge "$T/mx.h5" "$T/s0.h5" "$T/s1.h5" "$T/s2.h5" "$T/s3x.h5"

# ---- 2. a run never destroys a checkpoint it did not write ---------------------------------
# stop SECONDS ARGS...: `mesogif run ARGS` stopped by SIGTERM after SECONDS (mg_term_after)
stop() {
    local delay=$1
    shift
    mg_term_after "$delay" "$M" run "$@"
}
# a run stopped by SIGTERM writes its checkpoint (exit 75); the same command again must not
# start from zero over it. Long enough (20 realizations x 10 min) never to end before the signal.
LONG=(--t-sim 600s --realizations 40 --shard 1/2 --psd-df off --quiet --threads 1 --out "$T/r.h5")
stop 0.5 "${LONG[@]}"
[ $code -eq 75 ] && [ -f "$T/r.h5.ckpt" ]
check "checkpoint: SIGTERM leaves a checkpoint (setup)" $? "exit $code"
cp "$T/r.h5.ckpt" "$T/r.keep" 2>/dev/null
expect "checkpoint: the same command again refuses, with the --resume command" 2 \
    "r.h5.ckpt|mesogif run --resume $T/r.h5.ckpt|--force" "$M" run "${LONG[@]}"
cmp -s "$T/r.h5.ckpt" "$T/r.keep" && [ ! -e "$T/r.h5" ]
check "checkpoint: left as it was, no output" $? "checkpoint changed or output written"
expect "checkpoint: --resume with --realizations: names the conflict, not damage" 2 \
    "--realizations|does not apply with --resume|[20, 40)" \
    "$M" run --resume "$T/r.h5.ckpt" --realizations 10
! grep -q damaged "$T/stderr"; check "checkpoint: the checkpoint is not called damaged" $? "damaged"
expect "checkpoint: --resume with another --shard is named" 2 "--shard|shard 1/2" \
    "$M" run --resume "$T/r.h5.ckpt" --shard 0/2
rm -f "$T/r.h5.ckpt"
# a shard stopped and resumed to its end: a short run, longer on each try until the signal
# comes before its end (any machine speed)
tsim=20
for try in 1 2 3 4 5; do
    rm -f "$T/rs.h5" "$T/rs.h5.ckpt"
    stop 0.3 --t-sim ${tsim}s --realizations 4 --shard 1/2 --psd-df off --quiet --threads 1 \
        --out "$T/rs.h5"
    [ $code -eq 75 ] && break
    tsim=$((tsim * 4))
done
run "$M" run --resume "$T/rs.h5.ckpt" --shard 1/2 --threads 2 --quiet
[ $rc -eq 0 ] && [ ! -e "$T/rs.h5.ckpt" ] && "$PY" -c '
import sys, h5py
a = h5py.File(sys.argv[1], "r").attrs
sys.exit(not (a["shard_index"] == 1 and a["shard_count"] == 2 and a["realizations_total"] == 4))' "$T/rs.h5"
check "checkpoint: a resumed shard is still shard 1/2 of 4 (merge can tell)" $? "exit $rc (stop: $code)"
expect "checkpoint: an explicit --checkpoint FILE of another run is protected too" 2 \
    "--resume $T/r.keep" "$M" run "${SHORT[@]}" --realizations 2 --checkpoint "$T/r.keep" \
    --out "$T/r2.h5"
expect "checkpoint: --force starts over" 0 "" \
    "$M" run "${SHORT[@]}" --realizations 2 --out "$T/r.h5" --force
[ -f "$T/r.h5" ] && [ ! -e "$T/r.h5.ckpt" ]
check "checkpoint: --force run written, its checkpoint removed at the end" $? "$(ls "$T"/r.h5*)"

# ---- 3. defaults that work -----------------------------------------------------------------
run "$M" run --t-sim 1s --realizations 2 --threads 1 --psd-df off --out "$T/d1.h5"
[ $rc -eq 0 ] && grep -q "statistics after 0.1 s (the default warm-up, min(1 s, t-sim/10)" "$T/stdout"
check "defaults: --t-sim 1s runs, warm-up 0.1 s stated in the summary" $? "exit $rc: $(head -2 "$T/stdout")"
run "$M" run --t-sim 500ms --realizations 2 --threads 1 --psd-df off --out "$T/d2.h5"
[ $rc -eq 0 ] && grep -q "statistics after 0.05 s (the default warm-up" "$T/stdout"
check "defaults: --t-sim 500ms runs with a 50 ms warm-up" $? "exit $rc"
run "$M" run "$B1" --t-sim 1s --realizations 2 --threads 1 --psd-df off --out "$T/d3.h5"
[ $rc -eq 0 ] && grep -q "statistics after 0.1 s (the default warm-up" "$T/stdout"
check "defaults: a model file's 1 s warm-up does not fail a 1 s run" $? "exit $rc"
run "$M" run "$B1" --t-sim 20s --realizations 1 --threads 1 --psd-df off --dry-run
check "defaults: a model file's warm-up that fits is kept (dry run)" $rc "exit $rc"
run "$M" run --t-sim 5 --realizations 2 --threads 1 --psd-df off --out "$T/d4.h5"
[ $rc -eq 0 ] && [ "$(grep -c "warning: --t-sim 5 is read as 5 ms" "$T/stderr")" -eq 1 ]
check "defaults: a bare --t-sim 5 runs as 5 ms with one warning line" $? "exit $rc"
run "$M" run --t-sim 5s --realizations 2 --threads 1 --psd-df off --dry-run
! grep -q warning "$T/stderr"; check "defaults: --t-sim 5s draws no warning" $? "warned"
run "$M" run --dt 0.3ms --t-sim 1s --realizations 2 --threads 1 --psd-df off --out "$T/d5.h5"
[ $rc -eq 0 ] && grep -q "in 9.9 ms bins" "$T/stdout"
check "defaults: --dt 0.3ms runs; record and stats bins follow dt (9.9 ms)" $? "exit $rc: $(cat "$T/stderr")"
run "$M" run --dt 0.3ms --t-sim 1s --record-bin 1ms --stats-bin 10ms --out "$T/d6.h5"
[ $rc -eq 2 ] && [ "$(wc -l <"$T/stderr")" -eq 2 ] && grep -q -- "--record-bin" "$T/stderr" &&
    grep -q -- "--stats-bin" "$T/stderr" && [ ! -e "$T/d6.h5" ]
check "defaults: both bins that are not multiples of dt reported at once" $? "exit $rc"
run "$M" run --seed x --realizations 0 --level mezo --t-sim 1s --out "$T/d7.h5"
[ $rc -eq 2 ] && [ "$(wc -l <"$T/stderr")" -eq 3 ] && [ ! -s "$T/stdout" ] && [ ! -e "$T/d7.h5" ]
check "defaults: three bad option values: three lines, then exit 2" $? "exit $rc, $(wc -l <"$T/stderr") lines"

# ---- 4. no silent NaN ----------------------------------------------------------------------
# h5 FILE CODE: run the Python CODE with f = the open file; exit status of the check
h5() {
    "$PY" - "$1" <<EOF
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
def nans(g):
    bad = []
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f" and np.isnan(obj[()]).any():
            bad.append(name)
    g.visititems(visit)
    return bad
$2
EOF
}
EI=data/models/ei_network.json
run "$M" run "$EI" --t-sim 500ms --realizations 3 --threads 1 --out "$T/ei.h5"
[ $rc -eq 0 ] && [ "$(grep -c "note: no switching analysis" "$T/stderr")" -eq 1 ] &&
    [ "$(grep -c "note: no spectra" "$T/stderr")" -eq 1 ]
check "nan: E/I run shorter than a segment: one note each for spectra and switching" $? "exit $rc"
h5 "$T/ei.h5" 'sys.exit(("stats/switching" in f) or ("stats/psd" in f) or ("stats/hist/observable" in f) or bool(nans(f["stats"])))'
check "nan: E/I file: no /stats/switching, no /stats/psd, no NaN in /stats" $? "$(h5 "$T/ei.h5" 'print(list(f["stats"]), nans(f["stats"]))')"
run "$M" info "$T/ei.h5"
grep -q "switching: not analysed" "$T/stdout" && grep -q "spectra: none" "$T/stdout" &&
    ! grep -qi "nan\|never in this state" "$T/stdout"
check "nan: info says what was left out, shows no NaN" $? "$(grep -i "nan\|switching\|spectra" "$T/stdout" | head -3)"
cp "$T/ei.h5" "$T/ei2.h5"
run "$M" compare "$T/ei.h5" "$T/ei2.h5"
[ $rc -eq 0 ] && grep -q "switching not compared" "$T/stdout" && ! grep -q "never in this state" "$T/stdout"
check "nan: compare without switching: no switching rows" $? "exit $rc"
for i in 0 1; do
    "$M" run "$EI" --t-sim 300ms --realizations 4 --shard $i/2 --threads 1 --quiet --out "$T/e$i.h5" \
        >/dev/null 2>&1
done
run "$M" merge "$T/em.h5" "$T/e0.h5" "$T/e1.h5"
[ $rc -eq 0 ] && h5 "$T/em.h5" 'sys.exit(("stats/switching" in f) or bool(nans(f["stats"])))'
check "nan: merge of shards without switching: none in the result, no NaN" $? "exit $rc"
run "$M" run "$EI" --t-sim 300ms --realizations 2 --threads 1 --quiet --switch-observable A1-A2 \
    --out "$T/eis.h5"
[ $rc -eq 0 ] && h5 "$T/eis.h5" 'sys.exit("stats/switching" not in f)'
check "nan: --switch-observable asks for the analysis (E/I)" $? "exit $rc"
run "$M" run data/models/uncoupled.json --t-sim 300ms --realizations 2 --threads 1 --quiet \
    --switch-observable A1 --out "$T/u.h5"
[ $rc -eq 0 ] && h5 "$T/u.h5" 'sys.exit("stats/switching" not in f)'
check "nan: the analysis runs for one population too when asked for" $? "exit $rc"
run "$M" run "$B1" "${SHORT[@]}" --realizations 2 --out "$T/b1.h5"
[ $rc -eq 0 ] && h5 "$T/b1.h5" 'sys.exit("stats/switching" not in f or f["stats/switching/observable"][()] not in (b"A1-A2", "A1-A2"))'
check "nan: the shipped bistable file declares its observable (A1-A2)" $? "exit $rc"
"$PY" -c '
import json, sys
m = json.load(open(sys.argv[1])); m["switch_observable"] = "A1-A3"
json.dump(m, open(sys.argv[2], "w"))' "$B1" "$T/bad_obs.json"
expect "nan: a model file's observable naming no population is refused" 2 \
    "/switch_observable|A3|allowed" "$M" run "$T/bad_obs.json" --t-sim 100ms --out "$T/x.h5"
run "$M" run "$B1" --t-sim 3s --realizations 2 --threads 1 --quiet --out "$T/long.h5"
[ $rc -eq 0 ] && h5 "$T/long.h5" 'sys.exit("stats/psd" not in f or bool(np.isnan(f["stats/psd"][()]).any()))'
check "nan: a run with whole segments keeps its spectra" $? "exit $rc"
# --stats basic counts moments only: no histogram, spectrum or switching group is written (a
# histogram of zeros would read as data), the moments are there, no NaN; info says so
run "$M" run "$B1" --stats basic --t-sim 1s --realizations 2 --threads 1 --quiet --out "$T/basic.h5"
[ $rc -eq 0 ] && h5 "$T/basic.h5" 'sys.exit(any(k in f for k in ("stats/hist", "stats/psd", "stats/switching")) or "stats/mean_A" not in f or bool(nans(f["stats"])))'
check "nan: --stats basic writes the moments and no empty histogram" $? "exit $rc; $(h5 "$T/basic.h5" 'print(list(f["stats"]))')"
# a state the run never enters (thresholds below any value of A1-A2): its rate is undefined;
# info says so, never nan
run "$M" run "$B1" --switch-thresholds -1000,-999 --t-sim 1s --realizations 2 --threads 1 --quiet \
    --out "$T/never.h5"
[ $rc -eq 0 ] && run "$M" info "$T/never.h5" && [ $rc -eq 0 ] &&
    grep -qE "^  low +0 +0 +n/a: never in this state" "$T/stdout" && ! grep -qi "nan" "$T/stdout"
check "nan: info of a run that never enters a state" $? "exit $rc; $(grep -E '^  (low|high) ' "$T/stdout" | tr '\n' ';')"
if "$PY" -c "import numpy, h5py, matplotlib" 2>/dev/null; then
    # plot_run.py: the panels of a basic file say why they are empty, and the sample path is
    # smoothed over the run's --switch-smooth (50 ms), kept with the sums
    "$PY" -c "
import sys; sys.path.insert(0, 'tools'); import plot_run
r = plot_run.Run(sys.argv[1]); sys.exit(not (r.basic and r.smooth_ms == 50.0))" "$T/basic.h5"
    check "nan: plot_run.py reads a --stats basic file as one (50 ms smoothing)" $? \
        "$("$PY" -c "import sys; sys.path.insert(0, 'tools'); import plot_run; r = plot_run.Run(sys.argv[1]); print(r.basic, r.smooth_ms)" "$T/basic.h5" 2>&1 | tail -1)"
fi
run "$M" info "$T/basic.h5"
[ $rc -eq 0 ] && grep -q "switching: not analysed (--stats basic)" "$T/stdout" && ! grep -qi "nan" "$T/stdout"
check "nan: info of a --stats basic file" $? "exit $rc"

# ---- 5. every command-line mistake named ---------------------------------------------------
expect "cli: a misspelt option gets the closest one" 2 "--realisations|did you mean --realizations" \
    "$M" run --realisations 3 --out "$T/e.h5"
expect "cli: merge too" 2 "did you mean --allow-gaps" "$M" merge --allow-gasp "$T/e.h5" "$T/s0.h5"
expect "cli: compare too" 2 "did you mean --rel-tol" "$M" compare --reltol 0.1 "$T/m.h5" "$T/m.h5"
expect "cli: an option without its value" 2 "--seed|needs a value" "$M" run --out "$T/e.h5" --seed
expect "cli: --noise does not apply to the micro level" 2 "--noise|micro level" \
    "$M" run --level micro --noise deterministic --t-sim 100ms --out "$T/e.h5"
expect "cli: --connectivity does not apply to the meso level" 2 "--connectivity|meso level" \
    "$M" run --connectivity shared --t-sim 100ms --out "$T/e.h5"
expect "cli: --no-checkpoint with --checkpoint-every" 2 "--no-checkpoint|--checkpoint-every" \
    "$M" run --no-checkpoint --checkpoint-every 10s --t-sim 100ms --out "$T/e.h5"
expect "cli: statistics options switched off by --stats basic are named" 2 \
    "--switch-observable|--stats basic" "$M" run --stats basic --switch-observable A1 --t-sim 1s \
    --out "$T/e.h5"
expect "cli: --checkpoint-every does not apply to the micro level on CUDA" 2 \
    "--checkpoint-every|micro level on CUDA" "$M" run --level micro --backend cuda \
    --checkpoint-every 10s --t-sim 1s --out "$T/e.h5"
expect "cli: theory on a missing file exits 2 like run" 2 "nosuch.json" "$M" theory "$T/nosuch.json"
expect "cli: info on a missing file exits 2" 2 "nosuch.h5" "$M" info "$T/nosuch.h5"
run "$M" --help
grep -q "exit status" "$T/stdout" && grep -qE "^ +2 " "$T/stdout" && grep -qE "^ +75 " "$T/stdout"
check "cli: mesogif --help lists the exit statuses" $? "$(tail -5 "$T/stdout")"

# ---- 6. tools for users: submit.sh, the plotting tool, the portable build ------------------
MA=$(readlink -f "$M")
run bash tools/slurm/submit.sh --help
[ $rc -eq 0 ] && grep -q -- "--resubmit" "$T/stdout" && grep -q -- "--merge-time" "$T/stdout" &&
    ! grep -qE 'set -euo|case \$1|^ *esac|MG=' "$T/stdout"
check "submit.sh: --help prints only the help" $? "$(grep -nE 'set -euo|case|esac|MG=' "$T/stdout" | head -2)"
expect "submit.sh: a bad model path is caught before submitting" 2 \
    "nosuch.json|nothing submitted" bash tools/slurm/submit.sh --shards 4 --dry-run \
    --outdir "$T/sub1" --mesogif "$MA" -- "$T/nosuch.json" --realizations 8
[ ! -e "$T/sub1" ]; check "submit.sh: nothing written for a run that cannot start" $? "$T/sub1 exists"
expect "submit.sh: a misspelt run option is caught before submitting" 2 \
    "did you mean --realizations|nothing submitted" bash tools/slurm/submit.sh --shards 4 \
    --dry-run --outdir "$T/sub1" --mesogif "$MA" -- --realisations 8
expect "submit.sh: more shards than realizations caught before submitting" 2 "--shard|nothing submitted" \
    bash tools/slurm/submit.sh --shards 4 --dry-run --outdir "$T/sub1" --mesogif "$MA" -- \
    --realizations 2
run bash tools/slurm/submit.sh --shards 4 --dry-run --gpu --partition gpu --mem 8G \
    --merge-time 02:00:00 --merge-mem 2G --outdir "$T/sub2" --mesogif "$MA" -- --realizations 8 --t-sim 1s
[ $rc -eq 0 ] && grep -q "^#SBATCH --mem=8G" "$T/sub2/array.sbatch" &&
    grep -q "^#SBATCH --gres=gpu:1" "$T/sub2/array.sbatch" &&
    grep -q "^#SBATCH --time=02:00:00" "$T/sub2/merge.sbatch" &&
    grep -q "^#SBATCH --mem=2G" "$T/sub2/merge.sbatch" &&
    ! grep -qE "partition=gpu|gres" "$T/sub2/merge.sbatch"
check "submit.sh: --mem, merge time and memory; the merge job asks no GPU partition" $? \
    "exit $rc; $(grep SBATCH "$T/sub2/merge.sbatch" 2>/dev/null | tr '\n' ' ')"
printf '1 2\n' >"$T/sub2/job_ids"
run bash tools/slurm/submit.sh --resubmit "$T/sub2" 2 --dry-run
[ $rc -eq 0 ] && grep -q -- "--array=2 $T/sub2/array.sbatch" "$T/stdout" && grep -q "scancel 2" "$T/stdout" &&
    grep -q "dependency=afterok" "$T/stdout"
check "submit.sh: --resubmit reruns a shard, replaces the waiting merge job" $? "exit $rc: $(cat "$T/stdout")"
run /usr/bin/python3 -S tools/plot_run.py "$T/m.h5" -o "$T/p.png"
[ $rc -ne 0 ] && [ "$(wc -l <"$T/stderr")" -eq 1 ] && grep -q "numpy" "$T/stderr" &&
    grep -q "install" "$T/stderr" && ! grep -q Traceback "$T/stderr"
check "plot_run.py: without numpy/h5py/matplotlib one line says what to install" $? "exit $rc"
make -n install PREFIX="$T/prefix" BUILD=build BINDIR=bin 2>/dev/null | grep -q "tools/plot_run.py $T/prefix/bin/mesogif-plot"
check "make install: installs the plotting tool as mesogif-plot" $? "not in make -n install"
make -n -B PORTABLE=1 BUILD="$T/pb" BINDIR="$T/pb/bin" NVCC= "$T/pb/obj/util/units.o" 2>/dev/null | grep -q -- "-march=x86-64-v3"
check "make PORTABLE=1: builds for x86-64-v3" $? "no -march=x86-64-v3"

mg_end
