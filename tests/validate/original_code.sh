#!/bin/bash
# tests/validate/original_code.sh: mesogif against the authors' own implementation of both levels
# (github schwalger/mesopopdyn_gif), on the case where the two levels of the model disagree most:
# one uncoupled population of NEST's E/I example (MODEL.md 3(b): strong adaptation, a 10 mV
# threshold jump per spike = 4 Delta_u) and its +20 mV step at 1.5 s (the transient of
# tests/validate/nest_ei_step.sh without the network). Part of `make validate` when MG_ORIGINAL
# names a clone of that repository (its glm_popdyn_1.1.c, glm_netw_sim_0.8.c and util.c);
# otherwise it says SKIP. The original is built outside this repository with
# tools/original_step_driver.c (about 1 min in all on 2 cores).
#
# Per 20 ms bin from 1.0 s to 2.0 s (50 bins), mean A(t) over trials (mesogif: 512 meso and 256
# micro realizations; original: 200 trials each):
#   1. mesogif micro = original micro: |difference| within 4.4 combined standard errors in every
#      bin (Bonferroni: a 5e-4 false-failure rate over the 50 bins). Two independent codes of one
#      exact micro model.
#   2. mesogif meso = original meso: within 2 % of the rate plus 4.4 standard errors. The 2 %:
#      the original takes its firing probabilities from a table in steps of Delta_u / 100 and
#      sets P = 0 below 1e-5 and 1 - P = 1e-5 above (glm_popdyn_1.1.c), which moves its mean
#      rate by up to about 2 % here (measured 2026-12-05: max 1.8 %, max z -0.5; micro: max z 3.0).
#   3. negative control: mesogif meso against the original MICRO fails check 2 (max z far above
#      4.4), so the checks can tell the levels apart;
#   4. (reported) meso against micro in each code: the mesoscopic model's own error for this
#      adaptation (the quasi-renewal approximation, MODEL.md §2.1), the same in both codes.
#      Measured 2026-12-05: meso rings at the step and settles near 18.5 Hz, micro near 16 Hz,
#      in mesogif and in the original alike (up to 50 % in single bins at 1.6-1.7 s). This is why
#      nest_ei_step.sh reports the transient and does not fail on it.
# Exit status 1 on any failure.
set -u
M=$(readlink -f "${MESOGIF:-bin/mesogif}")
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
ORIG=${MG_ORIGINAL:-}
if [ -z "$ORIG" ] || [ ! -f "$ORIG/glm_popdyn_1.1.c" ] || [ ! -f "$ORIG/glm_netw_sim_0.8.c" ]; then
    echo "SKIP original_code: set MG_ORIGINAL to a clone of github.com/schwalger/mesopopdyn_gif"
    exit 0
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/mg_validate_orig.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
ORIG=$(readlink -f "$ORIG")
for level in meso micro; do
    src=glm_netw_sim_0.8.c
    def=-DORIG_MICRO
    [ $level = meso ] && src=glm_popdyn_1.1.c && def=-DORIG_MESO
    # the original's sources include util.c from their own folder; -w: its warnings are not ours
    cc -O2 -w $def "-DORIG_SOURCE=\"$ORIG/$src\"" -o "$T/orig_$level" \
        "$ROOT/tools/original_step_driver.c" -lgsl -lgslcblas -lfftw3 -lm ||
        { echo "FAIL original_code: building the original $level code"; exit 1; }
    "$T/orig_$level" 200 2.0 1.5 20 >/dev/null 2>"$T/orig_$level.txt" ||
        { echo "FAIL original_code: running the original $level code"; exit 1; }
done

cat > "$T/model.json" <<'EOF'
{"name": "nest_ei_E_uncoupled",
 "populations": [
  {"name": "E", "N": 800, "tau_m": 20.0, "C_m": 250.0, "E_L": 0.0, "V_reset": 0.0,
   "V_T_star": 15.0, "Delta_V": 2.5, "lambda_0": 10.0, "t_ref": 4.0, "I_e": 300.0,
   "tau_sfa": [100.0, 1000.0], "q_sfa": [10.0, 1.0], "len_kernel": -1,
   "step_current": {"amplitude_times": [1500.0], "amplitude_values": [250.0]}}],
 "projections": []}
EOF
RO=(--dt 0.5ms --t-sim 2s --stats-time 20ms --record-realizations 0 --no-checkpoint --quiet)
"$M" run "$T/model.json" --level meso --realizations 512 "${RO[@]}" --out "$T/meso.h5" \
    >/dev/null || { echo "FAIL original_code: mesogif meso run"; exit 1; }
"$M" run "$T/model.json" --level micro --realizations 256 "${RO[@]}" --out "$T/micro.h5" \
    >/dev/null || { echo "FAIL original_code: mesogif micro run"; exit 1; }

"$PY" - "$T" <<'PYEOF'
import sys
import h5py, numpy as np
T = sys.argv[1]
def ours(level):
    f = h5py.File(f"{T}/{level}.h5", "r")
    return f["/stats/time/t_s"][()], f["/stats/time/mean_A"][0], f["/stats/time/mean_A_sem"][0]
t, m_meso, s_meso = ours("meso")
_, m_micro, s_micro = ours("micro")
o_meso, o_micro = np.loadtxt(f"{T}/orig_meso.txt"), np.loadtxt(f"{T}/orig_micro.txt")
assert np.allclose(o_meso[:, 0], t) and np.allclose(o_micro[:, 0], t)
w = (t >= 1.0 - 1e-9)
bad = 0
def judge(name, a, sa, b, sb, rel, control=False):
    global bad
    d = np.abs(a[w] - b[w])
    z = (d - rel * np.abs(b[w])) / np.hypot(sa[w], sb[w])
    ok = (z.max() < 4.4) != control
    if control:
        name = "negative control, " + name + " must fail"
    bad += not ok
    bad += not ok
    print(("PASS" if ok else "FAIL") + f" original_code: {name}, {w.sum()} bins from 1 s: "
          f"max z {z.max():.2f} {'>=' if control else '<'} 4.4 (allowance {100 * rel:.0f} %; largest relative "
          f"difference {100 * (d / np.abs(b[w])).max():.1f} %)")
judge("mesogif micro = original micro", m_micro, s_micro, o_micro[:, 1], o_micro[:, 2], 0.0)
judge("mesogif meso = original meso", m_meso, s_meso, o_meso[:, 1], o_meso[:, 2], 0.02)
judge("mesogif meso = original micro", m_meso, s_meso, o_micro[:, 1], o_micro[:, 2], 0.02, True)
late = t >= 1.8 - 1e-9
rel_m = np.abs(m_meso[w] - m_micro[w]) / m_micro[w]
rel_o = np.abs(o_meso[w, 1] - o_micro[w, 1]) / o_micro[w, 1]
print(f"     meso vs micro (the mesoscopic approximation): largest relative difference "
      f"{100 * rel_m.max():.0f} % in mesogif, {100 * rel_o.max():.0f} % in the original; "
      f"1.8-2.0 s: meso {m_meso[late].mean():.2f} / {o_meso[late, 1].mean():.2f} Hz, micro "
      f"{m_micro[late].mean():.2f} / {o_micro[late, 1].mean():.2f} Hz (mesogif / original)")
print("       t     mesogif meso  original meso  mesogif micro  original micro")
for i in np.where((t >= 1.48 - 1e-9) & (t < 1.7 - 1e-9))[0]:
    print(f"     {t[i]:.2f}  {m_meso[i]:12.2f}  {o_meso[i, 1]:13.2f}  {m_micro[i]:13.2f}  "
          f"{o_micro[i, 1]:14.2f}")
sys.exit(1 if bad else 0)
PYEOF
