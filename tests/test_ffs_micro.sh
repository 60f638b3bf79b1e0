#!/bin/bash
# tests/test_ffs_micro.sh: `mesogif switch --level micro` end to end (`make test-cli`, from the
# repository root; about 30 s of CPU). Uses $MESOGIF when set, else bin/mesogif.
#
# 1. Statistics: for B1 (N = 500) the micro FFS rates (rel-err 0.15) and the micro brute-force
#    rates (exits / exposure of `mesogif run --level micro`, same observable and thresholds,
#    via `switch --method brute`) agree within their combined 95 % intervals (the intervals
#    overlap), in both directions. Seeds are fixed, so the outcome is fixed; over seeds, two
#    independent estimates with equal standard errors fail to overlap with probability
#    P(|Z| > 1.96 sqrt 2) = 0.6 % per direction: about 1 % for the pair (the false-failure rate
#    of this check).
# 2. SIGTERM in the middle of the stages writes a checkpoint (exit 75) and --resume (other
#    threads) gives the bits of the uninterrupted run; the checkpoint holds micro states.
# 3. --dry-run prints the memory of the micro pools (a micro state is every neuron: potential,
#    refractory step and the spike lists of each, more than 3 N doubles per population) and
#    writes nothing; pools too big for the machine are
#    refused before the run (exit 2, one line naming --pool-max, no file).
set -u
. tests/lib.sh
. tests/ffs_lib.sh # rates, overlap, stop_at, same_rates
mg_begin test_ffs_micro

# ---- 1. FFS against brute force, micro -------------------------------------------------
run "$M" switch --level micro --seed 3 --rel-err 0.15 --threads 2 --quiet --out "$T/ffs.h5"
[ $rc -eq 0 ] && pass micro_ffs_run || fail micro_ffs_run "exit $rc"
cp "$T/stdout" "$T/ffs.out"
run "$M" switch --level micro --method brute --brute-time 1500s --seed 4 --threads 2 \
    --out "$T/brute.h5"
[ $rc -eq 0 ] && pass micro_brute_run || fail micro_brute_run "exit $rc"
cp "$T/stdout" "$T/brute.out"
read -r fl fll flh fh fhl fhh <<<"$(rates "$T/ffs.out")"
read -r bl bll blh bh bhl bhh <<<"$(rates "$T/brute.out")"
echo "      from low:  ffs $fl [$fll, $flh], brute $bl [$bll, $blh]"
echo "      from high: ffs $fh [$fhl, $fhh], brute $bh [$bhl, $bhh]"
overlap "$fl $fll $flh" "$bl $bll $blh" && pass micro_ffs_vs_brute_from_low ||
    fail micro_ffs_vs_brute_from_low "no overlap"
overlap "$fh $fhl $fhh" "$bh $bhl $bhh" && pass micro_ffs_vs_brute_from_high ||
    fail micro_ffs_vs_brute_from_high "no overlap"
h5dump -a /level "$T/ffs.h5" 2>/dev/null | grep -q '"micro"' && pass micro_file_level ||
    fail micro_file_level "the root attribute level is not micro"

# ---- 2. checkpoint in the middle of the stages, resume to the same bits ------------------
# 512 trials a stage: the other direction's first stage then runs about 0.6 s after the line
# the signal follows (64 left it 0.09 s: a race with the poll of stop_at under load)
small="--level micro --seed 8 --rel-err 0.2 --basin-realizations 16 --trials 512 --pilot 16 --batch 24"
run "$M" switch $small --threads 2 --quiet --out "$T/ref.h5"
[ $rc -eq 0 ] || fail micro_reference_run "exit $rc"
# the signal follows the first stage's line: stored micro states in the pools, trials running
stop_at "from low: stage 0" "$M" switch $small --threads 2 --out "$T/res.h5"
if [ $rc -eq 75 ] && [ -e "$T/res.h5.ckpt" ] && [ ! -e "$T/res.h5" ]; then
    pass micro_sigterm_checkpoint
    run "$M" switch --resume "$T/res.h5.ckpt" --threads 1 --quiet
    same=1
    same_rates "$T/ref.h5" "$T/res.h5" || same=0
    if [ $rc -eq 0 ] && [ $same -eq 1 ]; then
        pass micro_resume_same_bits
    else
        fail micro_resume_same_bits "exit $rc, same bits: $same"
    fi
else
    fail micro_sigterm_checkpoint "exit $rc (the run may have ended before the signal)"
fi

# ---- 3. memory -----------------------------------------------------------------------------
run "$M" switch --level micro --dry-run --out "$T/dry.h5"
micro_mb=$(sed -nE 's/^memory: ([^ ]+) MB per stored state.*/\1/p' "$T/stdout")
if [ $rc -eq 0 ] && [ ! -e "$T/dry.h5" ] && [ -n "$micro_mb" ] &&
    $PY -c "import sys; sys.exit(0 if float('$micro_mb') * 1e6 > 3 * 1000 * 8 else 1)"; then
    pass micro_dry_run
else
    fail micro_dry_run "exit $rc, $micro_mb MB per state (B1: 2 x 500 neurons)"
fi
run "$M" switch --level micro --pool-max 10000000 --out "$T/big.h5"
if [ $rc -eq 2 ] && [ "$(wc -l <"$T/stderr")" -eq 1 ] && grep -q -- "--pool-max" "$T/stderr" &&
    [ ! -s "$T/stdout" ] && [ ! -e "$T/big.h5" ]; then
    pass micro_pools_too_big
else
    fail micro_pools_too_big "exit $rc"
fi

mg_end
