#!/bin/bash
# tests/test_cli.sh: the mesogif command line end to end (`make test-cli`, run from the repository
# root). Uses $MESOGIF when set, else bin/mesogif.
#
# Part 1, good use: --help, --version, run --help; a small default run writes its file and prints
# the summary table; `info` reads it; an existing file is not overwritten without --force;
# --dry-run prints the memory needed.
# Part 2, bad input (DESIGN.md "Conventions", errors): every case must exit 2, print exactly one
# line on stderr naming what is wrong (for model files: the file, the JSON Pointer and the word
# "allowed"; for malformed JSON: line and column; for unknown keys: the closest known key; for
# options: the option), print nothing on stdout and leave no output file and no .partial.
# Model files for part 2 are data/models/bistable_b1.json with one thing broken (python3/sed).
# All cases are deterministic. One line per case (PASS/FAIL name); exit status 1 on any failure.
set -u

B1=data/models/bistable_b1.json
. "$(dirname "$0")/lib.sh"
mg_begin test_cli "$B1"

# good NAME WORDS CMD...: exit 0 and every |-separated word of WORDS on stdout.
good() {
    local name=$1 words=$2
    shift 2
    run "$@"
    local why="" w
    [ $rc -eq 0 ] || why+="exit $rc (expected 0); "
    IFS='|' read -ra W <<<"$words"
    for w in "${W[@]}"; do
        grep -qF -- "$w" "$T/stdout" || why+="stdout lacks '$w'; "
    done
    if [ -z "$why" ]; then pass "$name"; else fail "$name" "$why"; fi
}

# bad NAME OUT WORDS CMD...: exit 2, exactly one line on stderr holding every |-separated word
# of WORDS, nothing on stdout, and neither OUT nor OUT.partial exists.
bad() {
    local name=$1 out=$2 words=$3
    shift 3
    rm -f "$out" "$out.partial"
    run "$@"
    local why="" w lines
    [ $rc -eq 2 ] || why+="exit $rc (expected 2); "
    lines=$(wc -l <"$T/stderr")
    [ "$lines" -eq 1 ] || why+="$lines lines on stderr (expected 1); "
    IFS='|' read -ra W <<<"$words"
    for w in "${W[@]}"; do
        grep -qF -- "$w" "$T/stderr" || why+="stderr lacks '$w'; "
    done
    [ -s "$T/stdout" ] && why+="stdout is not empty; "
    [ -e "$out" ] && why+="$out was written; "
    [ -e "$out.partial" ] && why+="$out.partial was left; "
    if [ -z "$why" ]; then pass "$name"; else fail "$name" "$why"; fi
}

# mk NAME PYTHON: $T/NAME.json = B1 after the Python statement(s) PYTHON edit the dict m.
mk() {
    "$PY" - "$B1" "$T/$1.json" <<EOF || { echo "FAIL setup: cannot write $T/$1.json"; exit 1; }
import json, sys
m = json.load(open(sys.argv[1]))
$2
json.dump(m, open(sys.argv[2], "w"), indent=1)
EOF
}

# bad_model NAME PYTHON JSONPATH WORDS [-- RUN OPTIONS]: the model B1 broken by PYTHON must be
# refused naming the file, JSONPATH, "allowed" and the |-separated WORDS (may be empty). The run
# options default to a 2 s run of 2 realizations.
bad_model() {
    local name=$1 edit=$2 path=$3 extra=$4
    shift 4
    [ "${1:-}" = "--" ] && shift
    mk "$name" "$edit"
    local words="$T/$name.json|$path|allowed"
    [ -n "$extra" ] && words+="|$extra"
    local opts=("$@")
    [ ${#opts[@]} -eq 0 ] && opts=(--t-sim 2s --realizations 2)
    bad "model: $name" "$T/$name.h5" "$words" "$M" run "$T/$name.json" "${opts[@]}" \
        --out "$T/$name.h5"
}

# ---- part 1: good use ---------------------------------------------------------------------

good "--help" "usage: mesogif|run" "$M" --help
good "--version" "mesogif|file format 1" "$M" --version
good "run --help" "--realizations|--t-sim|--out|--force|--dry-run" "$M" run --help
good "info --help" "usage: mesogif info" "$M" info --help

X=$T/x.h5
good "run: small default run" "population|mean A|P1|P2|written: $X" \
    "$M" run --t-sim 2s --realizations 8 --out "$X"
if [ -f "$X" ] && [ ! -e "$X.partial" ]; then pass "run: file written, no .partial"; else
    fail "run: file written, no .partial" "$X missing or $X.partial left"; fi
# the mean rates of B1 are ~9 Hz: the table must hold numbers, not NaN
if awk '$1 == "P1" || $1 == "P2" { if (!($3 > 1 && $3 < 30)) bad = 1; n++ }
        END { exit !(n == 2 && !bad) }' "$T/stdout"; then pass "run: summary rates plausible"; else
    fail "run: summary rates plausible" "$(grep -E '^P[12] ' "$T/stdout" | tr '\n' ';')"; fi

good "info: shows the statistics" "format|mesogif|mean A|P1|P2|/stats/mean_A|/traces/A_N" \
    "$M" info "$X"
# one realization (the default): the spreads across realizations are undefined; run and info
# say n/a and why, never a bare nan (the file holds NaN, as docs/FILE_FORMAT.md says)
for cmd in run info; do
    if [ $cmd = run ]; then run "$M" run --t-sim 2s --stats-time 100ms --out "$T/one.h5"
    else run "$M" info "$T/one.h5"; fi
    if [ $rc -eq 0 ] && [ "$(grep -cE '^ *P[12] .* n/a ' "$T/stdout")" -ge 2 ] &&
        grep -q "n/a with fewer than 2 realizations" "$T/stdout" &&
        { [ $cmd = run ] || grep -q "spread across realizations needs 2" "$T/stdout"; } &&
        ! grep -qi "nan" "$T/stdout"; then
        pass "$cmd: one realization, sem n/a"
    else fail "$cmd: one realization, sem n/a" "exit $rc; $(grep -E '^ *P[12] ' "$T/stdout" | tr '\n' ';')"; fi
done
good "run: explicit model file" "mean A|written: $T/y.h5" \
    "$M" run "$B1" --t-sim 1500ms --t-warmup 500ms --realizations 3 --quiet --out "$T/y.h5"

# an existing file is neither overwritten nor touched without --force
cp -p "$X" "$T/x.copy"
before=$(stat -c '%Y %s %i' "$X")
sleep 1
run "$M" run --t-sim 2s --realizations 8 --out "$X"
why=""
[ $rc -eq 2 ] || why+="exit $rc (expected 2); "
[ "$(wc -l <"$T/stderr")" -eq 1 ] || why+="not one line on stderr; "
grep -qF -- "--force" "$T/stderr" || why+="stderr does not mention --force; "
grep -qF -- "$X" "$T/stderr" || why+="stderr does not name the file; "
cmp -s "$X" "$T/x.copy" || why+="file content changed; "
[ "$(stat -c '%Y %s %i' "$X")" = "$before" ] || why+="file was touched; "
[ -e "$X.partial" ] && why+=".partial left; "
if [ -z "$why" ]; then pass "run: no overwrite without --force"; else
    fail "run: no overwrite without --force" "$why"; fi

run "$M" run --t-sim 2s --realizations 4 --seed 5 --force --quiet --out "$X"
if [ $rc -eq 0 ] && ! cmp -s "$X" "$T/x.copy" && [ ! -e "$X.partial" ]; then
    pass "run: --force replaces the file"
else
    fail "run: --force replaces the file" "exit $rc or file unchanged"
fi

good "run: --dry-run" "memory|per realization|total" \
    "$M" run --dry-run --t-sim 2s --realizations 100 --out "$T/dry.h5"
if [ -e "$T/dry.h5" ]; then fail "run: --dry-run writes nothing" "$T/dry.h5 exists"; else
    pass "run: --dry-run writes nothing"; fi

# info on things that are not result files
printf 'not hdf5\n' >"$T/plain.h5"
bad "info: not an HDF5 file" "$T/none.h5" "$T/plain.h5|not an HDF5 file" "$M" info "$T/plain.h5"
bad "info: missing file" "$T/none.h5" "$T/missing.h5" "$M" info "$T/missing.h5"
bad "info: no file named" "$T/none.h5" "usage" "$M" info
bad "unknown verb" "$T/none.h5" "frob|allowed" "$M" frob
# the meso CUDA kernel is an option (no environment variable), and only where it applies
bad "run: --cuda-kernel value" "$T/ck.h5" "--cuda-kernel|'bogus'|thread, warp, warp64" \
    "$M" run --cuda-kernel bogus --t-sim 100ms --out "$T/ck.h5"
bad "run: --cuda-kernel with --backend cpu" "$T/ck.h5" "--cuda-kernel|does not apply|--backend cpu" \
    "$M" run --cuda-kernel warp --backend cpu --t-sim 100ms --out "$T/ck.h5"
bad "run: --cuda-kernel at the micro level" "$T/ck.h5" "--cuda-kernel|micro level" \
    "$M" run --level micro --cuda-kernel warp --t-sim 100ms --out "$T/ck.h5"

# ---- part 2: bad model files ----------------------------------------------------------------

P0='m["populations"][0]'
P1='m["populations"][1]'
J0='m["projections"][0]'
J1='m["projections"][1]'

# malformed JSON: truncated, a stray comma and a repeated key on the line of the first "N"
LN=$(grep -n '"N": 500,' "$B1" | head -1 | cut -d: -f1)
head -c 600 "$B1" >"$T/truncated.json"
bad "model: malformed (truncated)" "$T/truncated.h5" "$T/truncated.json|line |column " \
    "$M" run "$T/truncated.json" --t-sim 2s --out "$T/truncated.h5"
sed '0,/"N": 500,/s//"N": 500,,/' "$B1" >"$T/comma.json"
bad "model: malformed (stray comma)" "$T/comma.h5" "$T/comma.json|line $LN, column" \
    "$M" run "$T/comma.json" --t-sim 2s --out "$T/comma.h5"
sed '0,/"tau_m": 20.0,/s//"tau_m": 20.0, "tau_m": 10.0,/' "$B1" >"$T/dupkey.json"
bad "model: duplicate key" "$T/dupkey.h5" "$T/dupkey.json|line $LN, column|tau_m" \
    "$M" run "$T/dupkey.json" --t-sim 2s --out "$T/dupkey.h5"
printf '[1, 2]\n' >"$T/array.json"
bad "model: a result file given as the model" "$T/h5model.h5" "$X: an HDF5 file|not a model file" \
    "$M" run "$X" --t-sim 1s --out "$T/h5model.h5"
bad "model: not an object" "$T/array.h5" "$T/array.json|allowed" \
    "$M" run "$T/array.json" --t-sim 2s --out "$T/array.h5"
bad "model: file does not exist" "$T/nofile.h5" "$T/nofile.json" \
    "$M" run "$T/nofile.json" --t-sim 2s --out "$T/nofile.h5"

# unknown keys: the closest known key is suggested
bad_model unknown_key "$P0['tau_mem'] = $P0.pop('tau_m')" \
    /populations/0/tau_mem 'did you mean "tau_m"'
bad_model unknown_top_key 'm["projection"] = m.pop("projections")' \
    /projection 'did you mean "projections"'
bad_model unknown_proj_key "$J1['dleay'] = $J1.pop('delay')" \
    /projections/1/dleay 'did you mean "delay"'
bad_model unknown_sim_key 'm["simulation"]["t_warm"] = 1000.0' \
    /simulation/t_warm 'did you mean "t_warmup"'

# wrong types (the value found is quoted)
bad_model type_N_string "$P0['N'] = '500'" /populations/0/N 'integer|string ("500")'
bad_model type_N_real "$P1['N'] = 2.5" /populations/1/N "integer|2.5"
bad_model type_tau_m_string "$P0['tau_m'] = '20 ms'" /populations/0/tau_m 'number|"20 ms"'
bad_model type_populations 'm["populations"] = {"P1": 1}' /populations "array"
bad_model type_tau_sfa "$P0['tau_sfa'] = 100.0; $P0['q_sfa'] = 1.0" /populations/0/tau_sfa "array"
bad_model type_source "$J0['source'] = 0" /projections/0/source "string"

# missing keys
bad_model missing_C_m "del $P0['C_m']" /populations/0 'C_m'
bad_model missing_populations 'del m["populations"]' '/: missing' 'populations'
bad_model missing_delay "del $J1['delay']" /projections/1 'delay'
bad_model missing_J "del $J0['J']" /projections/0 '"J" or "weight"'

# ranges
bad_model N_zero "$P0['N'] = 0" /populations/0/N "0 neurons"
bad_model N_negative "$P1['N'] = -5" /populations/1/N "-5"
bad_model tau_m_zero "$P0['tau_m'] = 0" /populations/0/tau_m "> 0"
bad_model tau_m_negative "$P1['tau_m'] = -20.0" /populations/1/tau_m "-20"
bad_model tau_sfa_zero "$P0['tau_sfa'] = [0.0]; $P0['q_sfa'] = [1.0]" \
    /populations/0/tau_sfa/0 "> 0"
bad_model tau_syn_negative "$J0['tau_syn'] = -1.0" /projections/0/tau_syn "-1"
bad_model C_m_negative "$P0['C_m'] = -250.0" /populations/0/C_m "-250"
bad_model Delta_V_zero "$P0['Delta_V'] = 0" /populations/0/Delta_V "> 0"
bad_model lambda_0_negative "$P1['lambda_0'] = -10" /populations/1/lambda_0 "-10"
bad_model t_ref_negative "$P0['t_ref'] = -1.0" /populations/0/t_ref "-1"
bad_model p_above_one "$J0['p'] = 1.5" /projections/0/p "1.5"
bad_model p_negative "$J1['p'] = -0.1" /projections/1/p "-0.1"
bad_model delay_below_dt "$J1['delay'] = 0.2" /projections/1/delay "0.2"
bad_model delay_below_cli_dt "m['simulation']['record_bin'] = 2.0" \
    /projections/0/delay "1 ms|dt = 2 ms" -- --dt 2ms --t-sim 2s --realizations 2
bad_model sfa_lengths "$P0['tau_sfa'] = [100.0, 200.0]; $P0['q_sfa'] = [1.0]" \
    /populations/0/q_sfa "tau_sfa"
bad_model len_kernel_real "$P0['len_kernel'] = 10.5" /populations/0/len_kernel "integer"

# population names
bad_model unknown_source "$J0['source'] = 'P3'" /projections/0/source '"P3"'
bad_model unknown_target "$J1['target'] = 'p1'" /projections/1/target '"p1"'
bad_model duplicate_name "$P1['name'] = 'P1'" /populations/1/name "duplicate"
# a newline inside a JSON string must not break the one-line rule
bad_model newline_in_name "$J0['source'] = 'P\\n3'" /projections/0/source ""

# the "simulation" block: a value from the file is reported as its JSON path
bad_model sim_dt_zero 'm["simulation"]["dt"] = 0' /simulation/dt "> 0"
bad_model sim_record_bin 'm["simulation"]["record_bin"] = 0.7' \
    /simulation/record_bin "0.7 ms|multiple of dt"
bad_model sim_stats_bin 'm["simulation"]["stats_bin"] = 10.3' \
    /simulation/stats_bin "10.3 ms|multiple of dt"
bad_model sim_t_warmup 'm["simulation"]["t_sim"] = 2000.0; m["simulation"]["t_warmup"] = 3000.0' \
    /simulation/t_warmup "3000 ms|t-sim" -- --realizations 2

# sizes that do not fit the machine: refused up front, with the estimate in GB
bad "run: memory estimate too large" "$T/huge.h5" "GB|allowed" \
    "$M" run --record-realizations 1000000 --realizations 1000000 --t-sim 100000s \
    --out "$T/huge.h5"

# ---- part 2: bad options --------------------------------------------------------------------

O=$T/opt.h5
bad "option: --dt 0" "$O" "--dt|allowed" "$M" run --dt 0 --out "$O"
bad "option: --dt -0.5ms" "$O" "--dt|allowed" "$M" run --dt -0.5ms --out "$O"
bad "option: --dt abc" "$O" "--dt|abc|allowed" "$M" run --dt abc --out "$O"
bad "option: --dt 0.5parsec" "$O" "--dt|allowed" "$M" run --dt 0.5parsec --out "$O"
bad "option: --record-bin 0.7ms" "$O" "--record-bin|0.7|allowed" \
    "$M" run --record-bin 0.7ms --dt 0.5ms --t-sim 2s --out "$O"
bad "option: --stats-bin 10.3ms" "$O" "--stats-bin|10.3|allowed" \
    "$M" run --stats-bin 10.3ms --t-sim 2s --out "$O"
bad "option: --stats-bin longer than the run" "$O" "--stats-bin" \
    "$M" run --stats-bin 3s --t-sim 2s --t-warmup 0 --out "$O"
bad "option: --t-warmup = --t-sim" "$O" "--t-warmup|allowed" \
    "$M" run --t-warmup 2s --t-sim 2s --out "$O"
bad "option: --t-warmup > --t-sim" "$O" "--t-warmup|allowed" \
    "$M" run --t-warmup 5s --t-sim 2s --out "$O"
bad "option: --t-sim 0" "$O" "--t-sim|allowed" "$M" run --t-sim 0 --out "$O"
bad "option: --seed -1" "$O" "--seed|-1|allowed" "$M" run --seed -1 --t-sim 2s --out "$O"
bad "option: --seed 2^32" "$O" "--seed|allowed" "$M" run --seed 4294967296 --t-sim 2s --out "$O"
bad "option: --realizations 0" "$O" "--realizations|allowed" \
    "$M" run --realizations 0 --t-sim 2s --out "$O"
bad "option: --realizations 1x" "$O" "--realizations|allowed" \
    "$M" run --realizations 1x --t-sim 2s --out "$O"
bad "option: --record-realizations -1" "$O" "--record-realizations|allowed" \
    "$M" run --record-realizations -1 --t-sim 2s --out "$O"
bad "option: --threads -2" "$O" "--threads|allowed" "$M" run --threads -2 --t-sim 2s --out "$O"
bad "option: --level" "$O" "--level|allowed" "$M" run --level nano --t-sim 2s --out "$O"
bad "option: --noise" "$O" "--noise|allowed" "$M" run --noise pink --t-sim 2s --out "$O"
bad "option: --backend" "$O" "--backend|allowed" "$M" run --backend gpu --t-sim 2s --out "$O"
bad "option: unknown option" "$O" "--frobnicate" "$M" run --frobnicate --t-sim 2s --out "$O"
bad "option: two model files" "$O" "$B1" "$M" run "$B1" "$B1" --t-sim 2s --out "$O"
bad "option: --out in a missing folder" "$T/no/such/dir/x.h5" "--out|$T/no/such/dir|allowed" \
    "$M" run --t-sim 2s --out "$T/no/such/dir/x.h5"

# ---- part 3: limits and hardening (issue 8) --------------------------------------------------
# The largest accepted sizes pass (a dry run prints the memory), one more is refused with the
# numbers; under `make check-asan` these run on the sanitizer build, so an overflow or an
# undefined conversion on the way fails the case.
good "limits: last realization index 2^32-1" "memory|per realization" \
    "$M" run --first 4294967295 --realizations 1 --t-sim 10ms --t-warmup 0 --dry-run
bad "limits: realizations beyond 2^32" "$T/lim.h5" "--realizations|4294967297|allowed" \
    "$M" run --first 4294967295 --realizations 2 --t-sim 10ms --t-warmup 0 --out "$T/lim.h5"
good "limits: 2^32-1 steps" "memory|per realization" \
    "$M" run --t-sim 4294967295ms --dt 1ms --t-warmup 0 --record-bin 1048576ms \
    --stats-bin 1048576ms --psd-df off --dry-run
bad "limits: 2^32 steps" "$T/lim.h5" "--t-sim|4294967296 steps|2^32-1" \
    "$M" run --t-sim 4294967296ms --dt 1ms --out "$T/lim.h5"
good "limits: 2^32 realizations fit (statistics memory independent of R, dry run)" \
    "statistics|MB in total" "$M" run --realizations 4294967296 --t-sim 10ms --t-warmup 0 \
    --psd-df off --dry-run
mk len_kernel_1e8 "$P0['len_kernel'] = 100000000"
bad "limits: len_kernel 1e8 refused for memory, with the numbers" "$T/lim.h5" \
    "GB|state|allowed" "$M" run "$T/len_kernel_1e8.json" --threads 4096 --t-sim 100ms \
    --t-warmup 0 --out "$T/lim.h5"
bad_model len_kernel_above_1e8 "$P0['len_kernel'] = 100000001" /populations/0/len_kernel \
    "100000001|1e8"
bad_model t_ref_huge "$P1['t_ref'] = 1e300" /populations/1/t_ref "steps"
bad_model delay_huge "$J0['delay'] = 1e300" /projections/0/delay "steps"
bad "limits: dt of 5e-7 ms: history beyond 1e8 steps" "$T/lim.h5" "len_kernel|steps|allowed" \
    "$M" run --dt 5e-7ms --t-sim 1ms --t-warmup 0 --record-bin 5e-7ms --stats-bin 5e-7ms \
    --out "$T/lim.h5"

# merged files are results like any other: info reads them, and they merge again
"$M" run --t-sim 300ms --t-warmup 100ms --realizations 4 --shard 0/2 --quiet --out "$T/s0.h5" \
    >/dev/null 2>&1
"$M" run --t-sim 300ms --t-warmup 100ms --realizations 4 --shard 1/2 --quiet --out "$T/s1.h5" \
    >/dev/null 2>&1
good "merge: two shards" "merged 2 shards" "$M" merge "$T/m.h5" "$T/s0.h5" "$T/s1.h5"
good "merge: info reads the merged file" "format|mesogif|merged_shards|mean A" "$M" info "$T/m.h5"
good "merge: a merged file merges again" "merged 1 shards" "$M" merge "$T/mm.h5" "$T/m.h5"

# every fuzzing finding on a model file (tests/fuzz/regressions/model) goes through `run`: a
# clean refusal (exit 2, one line) or a clean dry run (exit 0), nothing else
for f in tests/fuzz/regressions/model/*; do
    [ -f "$f" ] || continue
    run "$M" run "$f" --dry-run --threads 64 --out "$T/reg.h5"
    if { [ $rc -eq 0 ] && grep -q memory "$T/stdout"; } ||
        { [ $rc -eq 2 ] && [ "$(wc -l <"$T/stderr")" -eq 1 ]; }; then
        pass "fuzz regression: $(basename "$f")"
    else
        fail "fuzz regression: $(basename "$f")" "exit $rc"
    fi
done
# every finding on raw HDF5 bytes (tests/fuzz/regressions/h5_raw) through info, merge and
# --resume: refused (exit 2 or 1, one line) or read, never a crash (exit >= 128) or a hang
for f in tests/fuzz/regressions/h5_raw/*; do
    [ -f "$f" ] || continue
    why=""
    for verb in info merge resume; do
        case $verb in
        info) run timeout 60 "$M" info "$f" ;;
        merge) rm -f "$T/reg.h5"; run timeout 60 "$M" merge --force "$T/reg.h5" "$f" ;;
        resume) run timeout 60 "$M" run --resume "$f" --quiet --threads 1 --out "$T/reg.h5" ;;
        esac
        [ $rc -le 2 ] || [ $rc -eq 75 ] || why+="$verb: exit $rc; "
    done
    if [ -z "$why" ]; then pass "fuzz regression (raw): $(basename "$f")"; else
        fail "fuzz regression (raw): $(basename "$f")" "$why"; fi
done

mg_end
