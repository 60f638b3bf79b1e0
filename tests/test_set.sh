#!/bin/bash
# tests/test_set.sh: `mesogif run --set` (model overrides, src/model/model_set.c) and the stimuli of
# docs/MODEL_FILE.md ("Stimuli") end to end (`make test-cli`, run from the repository root).
# Uses $MESOGIF when set, else bin/mesogif. All runs are short (0.3-0.5 s of model time).
#
#   set = file:     --set E.I_e=320 --set 'PROJ[I->E].J=-1.2' on the E/I network gives the same
#                   /stats bits as a model file with those values (h5diff), and a different
#                   result from the unchanged file; the command line is in the output file and
#                   the run key differs from the unchanged run's.
#   bad overrides:  unknown population, unknown key (did-you-mean), out of range, wrong type,
#                   unknown projection, no '=': exit 2, exactly one line on stderr naming the
#                   override, no output file.
#   stimuli:        a model with step, sinusoid, frozen OU and CSV time-series currents: the
#                   /stats of meso and micro runs are the same bits with 1 or 2 threads and
#                   batches 2 or 3; the stimulus changes the result; a --set of a stimulus key
#                   equals the file; a missing CSV file and a bad ac_current exit 2 with one
#                   line naming the JSON path, no output file.
# One line per case (PASS/FAIL name); exit status 1 on any failure.
set -u

EI=data/models/ei_network.json
UNC=data/models/uncoupled.json
. "$(dirname "$0")/lib.sh"
mg_begin test_set "$EI" "$UNC"

RUN=(run --t-sim 300ms --t-warmup 50ms --realizations 6 --seed 3 --quiet --backend cpu)

# ---- --set equals a model file with the values --------------------------------------------
$PY - "$EI" "$T/ei_set.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["populations"][0]["I_e"] = 320
for q in m["projections"]:
    if q["source"] == "I" and q["target"] == "E":
        q["J"] = -1.2
json.dump(m, open(sys.argv[2], "w"), indent=1)
EOF
"$M" "${RUN[@]}" "$EI" --set E.I_e=320 --set 'PROJ[I->E].J=-1.2' --out "$T/a.h5" >/dev/null 2>&1
"$M" "${RUN[@]}" "$T/ei_set.json" --out "$T/b.h5" >/dev/null 2>&1
"$M" "${RUN[@]}" "$EI" --out "$T/c.h5" >/dev/null 2>&1
if [ -f "$T/a.h5" ] && [ -f "$T/b.h5" ] && h5diff "$T/a.h5" "$T/b.h5" /stats >/dev/null 2>&1; then
    pass "set equals the edited model file (/stats bitwise)"
else
    fail "set equals the edited model file (/stats bitwise)"
fi
if [ -f "$T/c.h5" ] && ! h5diff "$T/a.h5" "$T/c.h5" /stats/sums >/dev/null 2>&1; then
    pass "set changes the result"
else
    fail "set changes the result"
fi
key_a=$(h5dump -d /config/run_key "$T/a.h5" 2>/dev/null | grep -m1 '"')
key_c=$(h5dump -d /config/run_key "$T/c.h5" 2>/dev/null | grep -m1 '"')
if [ -n "$key_a" ] && [ "$key_a" != "$key_c" ] &&
   h5dump -A "$T/a.h5" 2>/dev/null | grep -q -- "--set E.I_e=320" &&
   h5dump -d /config/model_json "$T/a.h5" 2>/dev/null | grep -q '"I_e": 320'; then
    pass "set is recorded (command line, model, run key)"
else
    fail "set is recorded (command line, model, run key)"
fi

# ---- bad overrides: exit 2, one line, no file ---------------------------------------------
check_bad() { # name, expected text, override...
    local name=$1 want=$2
    shift 2
    rm -f "$T/x.h5"
    "$M" "${RUN[@]}" "$EI" "$@" --out "$T/x.h5" >"$T/out" 2>"$T/err"
    local rc=$?
    local n
    n=$(wc -l <"$T/err")
    if [ $rc -eq 2 ] && [ "$n" -eq 1 ] && grep -qF -- "$want" "$T/err" && [ ! -e "$T/x.h5" ]; then
        pass "bad override: $name"
    else
        fail "bad override: $name (rc $rc, $n lines: $(head -c 300 "$T/err"))"
    fi
}
check_bad "unknown population" "--set X.I_e=1: no population of the model is named" --set X.I_e=1
check_bad "unknown key" 'unknown key "I_ee" (did you mean "I_e"?)' --set E.I_ee=1
check_bad "out of range" "--set I.tau_m=-5: /populations/1/tau_m: -5 is out of range" \
    --set I.tau_m=-5
check_bad "wrong type" '--set E.N=1.5: /populations/0/N: must be an integer' --set E.N=1.5
check_bad "unknown projection" 'no projection "E" -> "F"' --set 'PROJ[E->F].J=1'
check_bad "no value" "--set E.I_e: not an assignment" --set E.I_e

# ---- stimuli --------------------------------------------------------------------------------
printf 'time_ms,current_pA\n0,0\n150,60\n300,-20\n' >"$T/ramp.csv"
$PY - "$UNC" "$T/stim.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m.pop("simulation")
p = m["populations"][0]
p["step_current"] = {"amplitude_times": [200.0], "amplitude_values": [30.0]}
p["ac_current"] = {"amplitude": 50.0, "frequency": 8.0, "phase": 45.0, "start": 60.0}
p["ou_current"] = {"mean": 5.0, "std": 25.0, "tau": 15.0}
p["time_current"] = {"file": "ramp.csv"}
json.dump(m, open(sys.argv[2], "w"), indent=1)
m["populations"][0]["ac_current"]["frequency"] = 3.0
json.dump(m, open(sys.argv[2].replace("stim", "stim3"), "w"), indent=1)
EOF
SR=(run --t-sim 400ms --t-warmup 50ms --dt 0.5ms --realizations 7 --seed 5 --quiet --backend cpu)
for lvl in meso micro; do
    ok=1
    "$M" "${SR[@]}" "$T/stim.json" --level $lvl --threads 1 --batch 2 --out "$T/s1.h5" \
        >/dev/null 2>"$T/err" || ok=0
    "$M" "${SR[@]}" "$T/stim.json" --level $lvl --threads 2 --batch 3 --out "$T/s2.h5" \
        >/dev/null 2>>"$T/err" || ok=0
    [ $ok -eq 1 ] && h5diff "$T/s1.h5" "$T/s2.h5" /stats >/dev/null 2>&1 || ok=0
    if [ $ok -eq 1 ]; then
        pass "stimuli $lvl: same bits with 1/2 threads, batch 2/3"
    else
        fail "stimuli $lvl: same bits with 1/2 threads, batch 2/3 ($(head -c 300 "$T/err"))"
    fi
    "$M" "${SR[@]}" "$UNC" --level $lvl --out "$T/u.h5" >/dev/null 2>&1
    if [ -f "$T/u.h5" ] && ! h5diff "$T/s1.h5" "$T/u.h5" /stats/sums >/dev/null 2>&1; then
        pass "stimuli $lvl: the stimulus changes the result"
    else
        fail "stimuli $lvl: the stimulus changes the result"
    fi
    rm -f "$T/s1.h5" "$T/s2.h5" "$T/u.h5"
done
"$M" "${SR[@]}" "$T/stim3.json" --out "$T/f.h5" >/dev/null 2>&1
"$M" "${SR[@]}" "$T/stim.json" --set P1.ac_current.frequency=3 --out "$T/g.h5" >/dev/null 2>&1
if [ -f "$T/f.h5" ] && h5diff "$T/f.h5" "$T/g.h5" /stats >/dev/null 2>&1; then
    pass "set of a stimulus key equals the file"
else
    fail "set of a stimulus key equals the file"
fi
check_bad_model() { # name, expected text, model
    rm -f "$T/x.h5"
    "$M" "${SR[@]}" "$3" --out "$T/x.h5" >"$T/out" 2>"$T/err"
    local rc=$? n
    n=$(wc -l <"$T/err")
    if [ $rc -eq 2 ] && [ "$n" -eq 1 ] && grep -qF -- "$2" "$T/err" && [ ! -e "$T/x.h5" ]; then
        pass "bad stimulus: $1"
    else
        fail "bad stimulus: $1 (rc $rc, $n lines: $(head -c 300 "$T/err"))"
    fi
}
sed 's/ramp.csv/missing.csv/' "$T/stim.json" >"$T/stim_missing.json"
check_bad_model "missing CSV" "/populations/0/time_current/file: cannot open" \
    "$T/stim_missing.json"
sed 's/"frequency": 8.0/"frequency": -8.0/' "$T/stim.json" >"$T/stim_neg.json"
check_bad_model "negative frequency" \
    "/populations/0/ac_current/frequency: -8 is out of range (allowed: number >= 0, Hz)" \
    "$T/stim_neg.json"

mg_end
