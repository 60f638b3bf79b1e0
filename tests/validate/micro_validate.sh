#!/bin/bash
# tests/validate/micro_validate.sh: long statistical validations of the microscopic network
# (MODEL.md §1.3; issue 3) beyond what tests/test_micro.c can afford. Part of `make validate`
# (about 3 minutes of CPU time on 2 cores); uses $MESOGIF when set, else bin/mesogif. Prints
# PASS/FAIL lines (and INFO lines for numbers reported, not checked); exit 1 on any failure.
#   1. uncoupled set §3(d) at dt = 0.2 ms, 256 realizations x 20 s: rate vs renewal theory
#      13.723 Hz within 5 standard errors + 0.0005 (rounding of the quoted value) and Var(A) in
#      1 ms bins vs A0 (1 - A0 dt)/(N dt) = 13.535 Hz^2 within 1 % (MODEL.md §4.1-4.2; R
#      measured 13.723 Hz, 13.51 Hz^2);
#   2. E/I network §3(c), 256 realizations x 10 s: micro within 0.5 % + 5 SE of the reference
#      implementation's micro rates 17.21 / 17.37 Hz, and within 2 % of the meso on the same
#      seeds; a network shared by the ensemble (--connectivity shared) gives a mean within
#      5 realization standard deviations of the per-realization ensemble (one network is one
#      draw of the quenched disorder);
#   3. NEST test case §3(e), 64 realizations: micro rate 22 +- 1 Hz and within 0.5 % + 5 SE of
#      R's 22.27 Hz; INFO: variances (NEST asserts 102 +- 6 Hz^2 for its mesoscopic node);
#   4. INFO: the quasi-renewal gap with adaptation: lif_adap §3(d) held at mu = 27 mV (QR theory
#      11.198 Hz) and NEST E/I §3(b) held at mu = 44 mV (13.523 Hz), micro vs meso, stationary
#      (5 s warm-up). The micro network is the exact model of §1.3 (checked against an
#      independent scalar reimplementation when this was written); the meso's QR approximation
#      is a few % above it there (MODEL.md §4.1 allows 3 % for adapting populations).
set -u
M=${MESOGIF:-bin/mesogif}
T=$(mktemp -d /tmp/mg_validate_micro.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
fail=0

# summary POPULATION FILE -> "mean sem std" from the run's summary table
summary() { awk -v p="$1" '$1 == p && NF == 5 {print $3, $4, $5}' "$2"; }

check() { # NAME CONDITION(awk expression using $1..) VALUES...
    local name=$1 cond=$2
    shift 2
    if echo "$@" | awk "{exit !($cond)}"; then echo "PASS $name ($*)"; else
        echo "FAIL $name ($*)"; fail=1; fi
}

run() { # OUT MODEL ARGS... -> summary in $T/OUT.txt
    local out=$1 model=$2
    shift 2
    # shellcheck disable=SC2086
    "$M" run $model --backend cpu --record-realizations 0 --quiet --force --out "$T/$out.h5" \
        "$@" > "$T/$out.txt" || { echo "FAIL micro_validate: run $out"; fail=1; }
}

# 1. uncoupled, renewal theory
run unc data/models/uncoupled.json --level micro --dt 0.2ms --t-sim 20s --realizations 256 \
    --stats-bin 1ms
read -r a s sd <<< "$(summary P1 "$T/unc.txt")"
check "uncoupled rate vs 13.723 Hz" '($1 - 13.723)^2 <= (5 * $2 + 0.0005)^2' "$a" "$s"
check "uncoupled Var(A) vs 13.535 Hz^2 (1 %)" '($1 * $1 - 13.535)^2 <= (0.01 * 13.535)^2' "$sd"

# 2. E/I network: R's micro numbers, micro vs meso, shared vs per-realization networks
run ei data/models/ei_network.json --level micro --realizations 256 --seed 7
run eime data/models/ei_network.json --level meso --realizations 256 --seed 7
run eish data/models/ei_network.json --level micro --realizations 64 --seed 7 \
    --connectivity shared
for p in "E 17.21" "I 17.37"; do
    set -- $p
    read -r a s sd <<< "$(summary "$1" "$T/ei.txt")"
    read -r b sb sdb <<< "$(summary "$1" "$T/eime.txt")"
    read -r c sc sdc <<< "$(summary "$1" "$T/eish.txt")"
    check "E/I $1 micro vs R $2 Hz" '($1 - $3)^2 <= (0.005 * $3 + 5 * $2)^2' "$a" "$s" "$2"
    check "E/I $1 micro vs meso (2 %)" '($1 - $2)^2 <= (0.02 * $2)^2' "$a" "$b"
    # realization standard deviation of the mean: sem * sqrt(256)
    check "E/I $1 shared network vs per-realization" '($1 - $2)^2 <= (5 * 16 * $3)^2' \
        "$c" "$a" "$s"
done

# 3. NEST test case
run nest data/models/nest_testcase.json --level micro --realizations 64 --seed 3
run nestme data/models/nest_testcase.json --level meso --realizations 64 --seed 3
read -r a s sd <<< "$(summary P1 "$T/nest.txt")"
read -r b sb sdb <<< "$(summary P1 "$T/nestme.txt")"
check "NEST test case micro rate 22 +- 1 Hz" '($1 - 22)^2 <= 1' "$a"
check "NEST test case micro vs R 22.27 Hz" '($1 - 22.27)^2 <= (0.005 * 22.27 + 5 * $2)^2' "$a" "$s"
echo "INFO NEST test case: Var(A) in 0.5 ms bins micro $(echo "$sd" | awk '{print $1*$1}') Hz^2," \
    "meso $(echo "$sdb" | awk '{print $1*$1}') Hz^2 (NEST's meso band 102 +- 6); rates $a / $b Hz"

# 4. the QR gap with adaptation (stationary, constant drive)
# the step currents' final values made constant from t = 0 (mu 27 and 44 mV)
for pair in "lif_adap lif27" "nest_brunel_ei ei44"; do
    set -- $pair
    python3 - "data/models/$1.json" "$T/$2.json" <<'PYEOF' || fail=1
import json, sys
m = json.load(open(sys.argv[1]))
for p in m["populations"]:
    sc = p.pop("step_current", None)
    if sc:
        p["I_e"] = p.get("I_e", 0.0) + sc["amplitude_values"][-1]
m["name"] = m["name"] + "_const"
json.dump(m, open(sys.argv[2], "w"))
PYEOF
done
for case in "lif27 P1 11.198" "ei44 E 13.523"; do
    set -- $case
    run "$1mi" "$T/$1.json" --level micro --realizations 32 --t-sim 15s --t-warmup 5s --seed 5
    run "$1me" "$T/$1.json" --level meso --realizations 32 --t-sim 15s --t-warmup 5s --seed 5
    read -r a s sd <<< "$(summary "$2" "$T/$1mi.txt")"
    read -r b sb sdb <<< "$(summary "$2" "$T/$1me.txt")"
    echo "INFO $1 ($2): micro $a +- $s Hz, meso $b +- $sb Hz, QR theory $3 Hz;" \
        "micro/meso - 1 = $(echo "$a $b" | awk '{printf "%.2f %%", 100 * ($1 / $2 - 1)}')"
done

[ $fail -eq 0 ] && echo "micro_validate: all passed"
exit $fail
