#!/bin/bash
# tests/validate/ffs_validate.sh: forward flux sampling (`mesogif switch`) against brute force,
# long form (`make validate`; about 5 to 10 minutes on 2 cores). From the repository root; uses
# $MESOGIF (else bin/mesogif).
#
# B1 scaled to N neurons per population (J = -0.043 * 500 / N mV, everything else as
# data/models/bistable_b1.json), meso level, default switching analysis (A1-A2, 50 ms, -5,5 Hz):
#  1. N = 500, 1000, 3000: the FFS rate (auto interfaces, rel-err 0.1) and the brute-force rate
#     (exits / exposure of `mesogif run`, via switch --method brute) agree within their 95 %
#     intervals (the intervals overlap), both directions;
#  2. N = 500, 1000: FFS with a given interface set (-3,-1,1,3) agrees with auto interfaces;
#  3. coverage of the 95 % interval: 10 FFS estimates at N = 500 (rel-err 0.2, seeds 101..110),
#     two directions each, against a precise brute-force rate (about 2.5 % error): at least 14
#     of the 20 intervals hold it (for a true 95 % interval, 7 or more misses of 20 have
#     probability 3e-5; the brute-force error raises the miss rate a little: a correct method
#     fails this with well under 0.1 % probability, an interval of true coverage 70 % passes it
#     only by luck);
#  4. negative control: brute force with the wrong basins (thresholds -1,1) disagrees with FFS.
# Seeds are fixed: the outcome is fixed; the false-failure rates above are over seeds. Intervals
# overlapping is the "combined 95 % interval" check: for two estimates with equal errors a true
# agreement fails it with probability 0.6 % per comparison; over the 14 comparisons of 1. and 2.
# about 8 % that one fails by chance; this script reports every number so that a failure can be
# judged (rerun with other seeds: a real bias fails again).
set -u
. tests/validate/ffs_common.inc

# ---- 1, 2, 4 -------------------------------------------------------------------------------
for n in 500 1000 3000; do
    model $n "$T/b1_$n.json"
    bt=4000s
    [ $n -eq 3000 ] && bt=30000s
    sw "brute_$n" "$T/b1_$n.json" --method brute --brute-time $bt --seed 7 --threads 2 || continue
    sw "ffs_$n" "$T/b1_$n.json" --seed 8 --threads 2 || continue
    compare "ffs_vs_brute N=$n" "ffs_$n" "brute_$n"
    if [ $n -le 1000 ]; then
        sw "ffs_given_$n" "$T/b1_$n.json" --interfaces=-3,-1,1,3 --seed 9 --threads 2 &&
            compare "interface_sets N=$n" "ffs_$n" "ffs_given_$n"
    fi
done
negative_control negative_control ffs_500 wrong_500 "$T/b1_500.json" --method brute \
    --brute-time 500s --switch-thresholds=-1,1 --seed 10 --threads 2

# ---- 3. coverage -----------------------------------------------------------------------------
if sw brute_precise "$T/b1_500.json" --method brute --brute-time 12000s --seed 11 --threads 2; then
    read -r -a b <<<"$(rates "$T/brute_precise.out")"
    hits=0
    total=0
    for s in $(seq 101 110); do
        sw "cov_$s" "$T/b1_500.json" --rel-err 0.2 --seed "$s" --threads 2 || continue
        read -r -a f <<<"$(rates "$T/cov_$s.out")"
        for d in 0 1; do
            total=$((total + 1))
            $PY -c 'import sys; k=float(sys.argv[1]); lo=float(sys.argv[2]); hi=float(sys.argv[3]); sys.exit(0 if lo <= k <= hi else 1)' \
                "${b[$((3 * d))]}" "${f[$((3 * d + 1))]}" "${f[$((3 * d + 2))]}" && hits=$((hits + 1))
        done
    done
    # two directions per seed: count per direction pair as 20 intervals, at least 14 must hold
    echo "      coverage: $hits of $total intervals hold the brute-force rate"
    if [ "$total" -eq 20 ] && [ "$hits" -ge 14 ]; then
        pass coverage
    else
        fail coverage "$hits of $total (need >= 14 of 20)"
    fi
fi
echo "ffs_validate.sh: $n_fail failed"
[ $n_fail -eq 0 ]
