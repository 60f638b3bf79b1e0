#!/bin/bash
# tests/validate/ffs_micro_validate.sh: forward flux sampling at the micro level (`mesogif
# switch --level micro`) against micro brute force, long form (`make validate`; about 4 CPU
# minutes, 5 to 10 minutes on 2 shared cores). From the repository root; uses $MESOGIF (else
# bin/mesogif).
#
# B1 scaled to N neurons per population (J = -0.043 * 500 / N mV, everything else as
# data/models/bistable_b1.json), micro level, default switching analysis (A1-A2, 50 ms, -5,5 Hz):
#  1. N = 500 and 1000: the FFS rate (auto interfaces, rel-err 0.1) and the brute-force rate
#     (exits / exposure of `mesogif run --level micro`, via switch --method brute: 4000 s and
#     8000 s of simulated time, about 850 and 700 switches per direction) agree within their
#     95 % intervals (the intervals overlap), both directions;
#  2. N = 1000: FFS with a given interface set (-3,-1,1,3: four stages) agrees with auto
#     interfaces (one stage at this N);
#  3. negative control: brute force with the wrong basins (thresholds -1,1, rates about twice as
#     high) disagrees with the FFS rates of N = 500.
# Seeds are fixed: the outcome is fixed. Over seeds, two estimates with equal errors fail to
# overlap with probability 0.6 % per comparison (less when one is more precise): over the 6
# comparisons of 1. and 2. about 4 % that one fails by chance; every number is printed so that a
# failure can be judged (rerun with other seeds: a real bias fails again).
set -u
. tests/validate/ffs_common.inc

for n in 500 1000; do
    model $n "$T/b1_$n.json"
    bt=4000s
    [ $n -eq 1000 ] && bt=8000s
    sw "micro_brute_$n" "$T/b1_$n.json" --level micro --method brute --brute-time $bt --seed 7 \
        --threads 2 || continue
    sw "micro_ffs_$n" "$T/b1_$n.json" --level micro --seed 8 --threads 2 || continue
    compare "micro ffs_vs_brute N=$n" "micro_ffs_$n" "micro_brute_$n"
    if [ $n -eq 1000 ]; then
        sw "micro_ffs_given_$n" "$T/b1_$n.json" --level micro --interfaces=-3,-1,1,3 --seed 9 \
            --threads 2 && compare "micro interface_sets N=$n" "micro_ffs_$n" "micro_ffs_given_$n"
    fi
done
negative_control micro_negative_control micro_ffs_500 micro_wrong_500 "$T/b1_500.json" \
    --level micro --method brute --brute-time 500s --switch-thresholds=-1,1 --seed 10 --threads 2
echo "ffs_micro_validate.sh: $n_fail failed"
[ $n_fail -eq 0 ]
