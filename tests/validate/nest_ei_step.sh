#!/bin/bash
# tests/validate/nest_ei_step.sh: NEST's E/I example (data/models/nest_brunel_ei.json, MODEL.md
# 3(b)) and its +20 mV step at 1.5 s, micro vs meso, time-resolved (issue 17.1). Part of
# `make validate` (about 2 min on 2 cores); uses $MESOGIF when set, else bin/mesogif. Micro 256
# realizations, meso 512 (a disjoint range), 2 s each, --stats-time 20 ms. Checks:
#   1. before the step, after the start transient (0.4 s <= t < 1.5 s: 55 bins of 20 ms per
#      population), mean A(t) agrees bin by bin within the combined sampling error on top of
#      the 15 % that MODEL.md §5 allows between meso and micro (as `mesogif compare --rel-tol
#      0.15`, tests/validate/b1_micro_meso.sh): z = (|meso - micro| - 0.15 micro) / error below
#      the Bonferroni bound of a 1 % family-wise false-alarm rate over those 110 bins. The z
#      without the allowance is printed too (measured 2026-12-04: max 4.2 against a bound of
#      3.9: the meso rate is 2-4 % below the micro rate before the step, 5.75 vs 5.97 Hz);
#   2. after the step both levels settle near the mean field (13.52 Hz, MODEL.md 3(b)): the
#      mean of A over 1.8-2.0 s within 25 % of it at each level (the network still oscillates
#      there; measured 2026-12-04: micro 14.73 and 14.74 Hz, meso 16.18 and 16.22 Hz, E and I);
#   3. (reported) `mesogif compare micro meso` over all 100 bins, the per-bin verdict of the
#      whole response: the meso approximation rings more strongly after the step (larger
#      damped oscillation, measured 24 and 27 of 100 bins beyond the error, worst at 1.64 s:
#      micro 14.7 Hz, meso 24.9 Hz), which
#      this script prints but does not fail on: MODEL.md §5 asks the mesoscopic model for
#      stationary statistics within 15 %, not for the transient. The ringing is the mesoscopic
#      model's own (its quasi-renewal approximation of this strong adaptation), not mesogif's:
#      tests/validate/original_code.sh shows the authors' code giving the same meso and micro
#      responses as mesogif, bin by bin, for the uncoupled population (2026-12-05).
# Deterministic for a given build; exit status 1 on any failure.
set -u
M=${MESOGIF:-bin/mesogif}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
E=data/models/nest_brunel_ei.json
T=$(mktemp -d /tmp/mg_validate_ei.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
RO=(--stats-time 20ms --record-realizations 0 --no-checkpoint --quiet)
"$M" run "$E" --level micro --realizations 256 "${RO[@]}" --out "$T/micro.h5" >/dev/null ||
    { echo "FAIL nest_ei_step: micro run"; exit 1; }
"$M" run "$E" --level meso --first 100000 --realizations 512 "${RO[@]}" --out "$T/meso.h5" \
    >/dev/null || { echo "FAIL nest_ei_step: meso run"; exit 1; }
"$M" compare "$T/micro.h5" "$T/meso.h5" >"$T/cmp"
echo "     mesogif compare micro meso (exit $?), time-resolved rows:"
grep "mean A(t)" "$T/cmp" | sed 's/^/       /'

"$PY" - "$T/micro.h5" "$T/meso.h5" <<'PYEOF'
import sys
import h5py, numpy as np
from statistics import NormalDist
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
t = a["/stats/time/t_s"][()]
ma, mb = a["/stats/time/mean_A"][()], b["/stats/time/mean_A"][()]
sa, sb = a["/stats/time/mean_A_sem"][()], b["/stats/time/mean_A_sem"][()]
bad = 0
pre = (t >= 0.4 - 1e-9) & (t < 1.5 - 1e-9)
n = int(pre.sum()) * ma.shape[0]
zmax = NormalDist().inv_cdf(1 - 0.01 / (2 * n))
se = np.hypot(sa[:, pre], sb[:, pre])
d = np.abs(mb[:, pre] - ma[:, pre])
z0 = (d / se).max()
z15 = ((d - 0.15 * ma[:, pre]) / se).max()
rel = (d / ma[:, pre]).max()
ok = z15 < zmax
bad += not ok
print(("PASS" if ok else "FAIL") + f" nest_ei_step: before the step ({n} bins) mean A(t) micro vs"
      f" meso within 15 % + the sampling error: max z {z15:.2f} < {zmax:.2f} (without the 15 %:"
      f" max |z| {z0:.2f}; largest relative difference {100 * rel:.1f} %)")
post = (t >= 1.8 - 1e-9)
for p in range(ma.shape[0]):
    mi, me = ma[p, post].mean(), mb[p, post].mean()
    ok = abs(mi / 13.523 - 1) < 0.25 and abs(me / 13.523 - 1) < 0.25
    bad += not ok
    print(("PASS" if ok else "FAIL") + f" nest_ei_step: population {p} after the step "
          f"(1.8-2.0 s): micro {mi:.2f} Hz, meso {me:.2f} Hz, mean field 13.52 Hz (25 %)")
sys.exit(1 if bad else 0)
PYEOF
