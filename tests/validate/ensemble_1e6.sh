#!/bin/bash
# tests/validate/ensemble_1e6.sh: 10^6 meso realizations for real (issue 17.4: statistics memory
# independent of R). Part of `make validate` (about 6 min on 2 cores); uses $MESOGIF when set,
# else bin/mesogif. B1 (the default model), 30 ms each (10 ms warm-up), --stats full. Checks:
#   1. the run ends (exit 0) with all 10^6 realizations in /stats/sums/n_realizations and in
#      /stats/time/n_realizations;
#   2. its peak resident memory stays below the --dry-run total + 150 MB (program, HDF5 and
#      libraries): what the run holds does not grow with R (the old per-group sums were 1.5 GB
#      here);
#   3. its mean A per population agrees with that of 10^4 other realizations (a disjoint range)
#      within 4.5 combined standard errors (two-sided, per population: false alarms 7e-6 each);
#   4. (reported, not checked) the --dry-run estimate of the run time against the wall time.
# Deterministic for a given build; exit status 1 on any failure.
set -u
. tests/lib.sh # M, PY; T from mg_begin
mg_begin validate_1e6
fail=0
RO=(--t-sim 30ms --t-warmup 10ms --stats full --stats-time 10ms --record-realizations 1
    --no-checkpoint --quiet)

"$M" run --realizations 1000000 "${RO[@]}" --dry-run --out "$T/big.h5" >"$T/dry" ||
    { echo "FAIL ensemble_1e6: dry run"; exit 1; }
/usr/bin/time -f "%M %e" -o "$T/time" "$M" run --realizations 1000000 "${RO[@]}" \
    --out "$T/big.h5" >/dev/null || { echo "FAIL ensemble_1e6: 10^6 run"; exit 1; }
"$M" run --first 2000000 --realizations 10000 "${RO[@]}" --out "$T/small.h5" >/dev/null ||
    { echo "FAIL ensemble_1e6: 10^4 run"; exit 1; }

"$PY" - "$T/big.h5" "$T/small.h5" "$T/dry" "$T/time" <<'PYEOF' || fail=1
import re, sys
import h5py, numpy as np
big, small, dry, tm = sys.argv[1:5]
bad = 0
def check(ok, what):
    global bad
    print(("PASS" if ok else "FAIL") + " ensemble_1e6: " + what)
    bad += not ok
with h5py.File(big) as b, h5py.File(small) as s:
    n = int(b["/stats/sums/n_realizations"][()])
    nt = int(b["/stats/time/n_realizations"][()])
    check(n == 1000000 and nt == 1000000, f"10^6 realizations summed ({n}, time-resolved {nt})")
    mb, sb = b["/stats/mean_A"][()], b["/stats/mean_A_sem"][()]
    ms, ss = s["/stats/mean_A"][()], s["/stats/mean_A_sem"][()]
    z = np.abs(mb - ms) / np.sqrt(sb**2 + ss**2)
    check(bool(np.all(z < 4.5)), "mean A of 10^6 vs 10^4 realizations: "
          + ", ".join(f"{a:.4f} vs {c:.4f} Hz (z {q:.2f})" for a, c, q in zip(mb, ms, z)))
text = open(dry).read()
total = float(re.search(r"MB per realization in flight, ([0-9.e+]+) MB in total", text).group(1))
est = re.search(r"\(([0-9.e+]+) s\) on", text)
rss_kb, wall = open(tm).read().split()[-2:]
rss = float(rss_kb) / 1e3
check(rss < total + 150, f"peak memory {rss:.0f} MB < dry-run total {total:.1f} MB + 150 MB")
print(f"     run time {float(wall):.1f} s, estimated by --dry-run "
      f"{float(est.group(1)) if est else float('nan'):.1f} s")
sys.exit(1 if bad else 0)
PYEOF
exit $fail
