#!/usr/bin/python3
"""tools/ffs_rate_vs_N.py: the switching rate of B1 scaled to N neurons per population, against N.

For each N, B1 (data/models/bistable_b1.json) with N neurons per population and J = -0.043 * 500 /
N mV (J N fixed: the same mean field at every N; passed as --set options) is run with `mesogif
switch --level LEVEL` (forward flux sampling) and, where a brute-force estimate is cheap
(--brute-max N), with `mesogif switch --level LEVEL --method brute` (simulated time for about 300
switches per direction, at most --brute-time-s). Writes OUT.csv (one row per level, N and method:
rates with their 95 % intervals, simulated seconds, wall seconds, CPU seconds) and OUT.png (ln rate
against N for every level in the csv, error bars = the 95 % intervals), and prints the table. With
--merge the rows already in OUT.csv for other levels or other N are kept (e.g. run the meso level
once, then the micro level, N by N), so that one figure shows both; --n "" --merge only redraws.

usage: tools/ffs_rate_vs_N.py [--mesogif bin/mesogif] [--level meso|micro]
                              [--n 500,1000,2000,3000,5000,10000] [--rel-err 0.1]
                              [--brute-max 3000] [--brute-time-s 30000] [--threads 2]
                              [--merge] [--out docs/fig_ffs_rate_vs_N]
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

import h5py

B1 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "models",
                  "bistable_b1.json")


def scaled_sets(n):
    """`--set` options that scale B1 to n neurons per population with J n fixed (repr gives the
    double's shortest exact decimal, so the run has the bits of a model file with these values)."""
    j = repr(-0.043 * 500 / n)
    return ["--set", "P1.N=%d" % n, "--set", "P2.N=%d" % n,
            "--set", "PROJ[P1->P2].J=" + j, "--set", "PROJ[P2->P1].J=" + j]


def run(cmd):
    """Wall and CPU seconds (user + system of the child) of a command that must succeed."""
    t0 = time.time()
    c0 = os.times()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    c1 = os.times()
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr.strip()))
    cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    return time.time() - t0, cpu


def load_rows(path, skip_level, skip_n):
    """Rows of an earlier csv except those of level skip_level at the N in skip_n (no level
    column: meso)."""
    if not os.path.exists(path):
        return []
    keep = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            r.setdefault("level", "meso")
            if not r["level"]:
                r["level"] = "meso"
            if r["level"] == skip_level and int(r["N"]) in skip_n:
                continue
            for k in ("rate_hz", "ci_low", "ci_high", "rel_se", "simulated_s", "wall_s"):
                r[k] = float(r[k])
            r["cpu_s"] = float(r["cpu_s"]) if r.get("cpu_s") else float("nan")
            r["N"] = int(r["N"])
            r["stages"] = int(r["stages"])
            keep.append(r)
    return keep


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mesogif", default="bin/mesogif")
    ap.add_argument("--level", default="meso", choices=("meso", "micro"))
    ap.add_argument("--merge", action="store_true")
    ap.add_argument("--n", default="500,1000,2000,3000,5000,10000")
    ap.add_argument("--rel-err", default="0.1")
    ap.add_argument("--brute-max", type=int, default=3000)
    ap.add_argument("--brute-time-s", type=float, default=30000.0)
    ap.add_argument("--threads", default="2")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--out", default="docs/fig_ffs_rate_vs_N")
    a = ap.parse_args()
    rows = []
    lv = a.level
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in a.n.split(",") if x]:
            model = [B1] + scaled_sets(n)
            out = os.path.join(tmp, "ffs_%d.h5" % n)
            wall, cpu = run([a.mesogif, "switch"] + model +
                            ["--level", lv, "--rel-err", a.rel_err, "--seed", a.seed,
                             "--threads", a.threads, "--quiet", "--out", out])
            with h5py.File(out, "r") as f:
                g = f["switching/ffs"]
                sim = float(g["basin_realization_s"][0]) + float(sum(g["trial_realization_s"][:]))
                for d, name in enumerate(("low", "high")):
                    rows.append(dict(level=lv, N=n, method="ffs", direction=name,
                                     rate_hz=float(g["rate_hz"][d]),
                                     ci_low=float(g["rate_ci_low"][d]),
                                     ci_high=float(g["rate_ci_high"][d]),
                                     rel_se=float(g["rate_rel_se"][d]),
                                     stages=len(g["from_%s/p" % name]),
                                     simulated_s=sim, wall_s=wall, cpu_s=cpu))
            print("%s N = %5d  ffs    %.4g / %.4g Hz  (%.0f s wall, %.0f s CPU, %.3g s "
                  "simulated; load %.1f)" % (lv, n, rows[-2]["rate_hz"], rows[-1]["rate_hz"],
                                             wall, cpu, sim, os.getloadavg()[1]), flush=True)
            if n > a.brute_max:
                continue
            out = os.path.join(tmp, "brute_%d.h5" % n)
            # about 300 switches per direction (half the time in each state), at most the cap
            k = min(rows[-2]["rate_hz"], rows[-1]["rate_hz"])
            brute_s = min(a.brute_time_s, 600.0 / k) if k > 0 else a.brute_time_s
            wall, cpu = run([a.mesogif, "switch"] + model +
                            ["--level", lv, "--method", "brute", "--brute-time", "%gs" % brute_s,
                             "--seed", a.seed, "--threads", a.threads, "--quiet", "--out", out])
            with h5py.File(out, "r") as f:
                g = f["stats/switching"]
                for d, name in enumerate(("low", "high")):
                    k = float(g["rate_hz"][d])
                    ex = int(g["n_exits"][d])
                    rows.append(dict(level=lv, N=n, method="brute", direction=name, rate_hz=k,
                                     ci_low=float(g["rate_ci_low"][d]),
                                     ci_high=float(g["rate_ci_high"][d]),
                                     rel_se=ex ** -0.5 if ex > 0 else float("nan"), stages=0,
                                     simulated_s=brute_s, wall_s=wall, cpu_s=cpu))
            print("%s N = %5d  brute  %.4g / %.4g Hz  (%.0f s wall, %.0f s CPU)"
                  % (lv, n, rows[-2]["rate_hz"], rows[-1]["rate_hz"], wall, cpu), flush=True)
    if a.merge:
        rows = load_rows(a.out + ".csv", lv, {x["N"] for x in rows}) + rows
        rows.sort(key=lambda x: (x["level"] != "meso", x["N"]))
    with open(a.out + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["level", "N", "method", "direction", "rate_hz",
                                          "ci_low", "ci_high", "rel_se", "stages",
                                          "simulated_s", "wall_s", "cpu_s"])
        w.writeheader()
        w.writerows(rows)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    # (method, direction) -> marker and offset along N; level -> colours (meso blue/orange,
    # micro green/red, brute force grey/black)
    style = {("ffs", "low"): ("o", 0, 0), ("ffs", "high"): ("s", 1, 40),
             ("brute", "low"): ("x", 2, -40), ("brute", "high"): ("+", 3, 80)}
    colours = {"meso": ("C0", "C1", "0.5", "0.5"), "micro": ("C2", "C3", "k", "k")}
    levels = [lv_ for lv_ in ("meso", "micro") if any(x["level"] == lv_ for x in rows)]
    for lv_ in levels:
        for key, (mk, ci, dx) in style.items():
            r = [x for x in rows if x["level"] == lv_ and (x["method"], x["direction"]) == key]
            if not r:
                continue
            shift = dx + (0 if lv_ == "meso" else 150)
            xs = [x["N"] + shift for x in r]
            ks = [x["rate_hz"] for x in r]
            err = [[x["rate_hz"] - x["ci_low"] for x in r],
                   [x["ci_high"] - x["rate_hz"] for x in r]]
            ax.errorbar(xs, ks, yerr=err, fmt=mk, color=colours[lv_][ci], capsize=3, ls="none",
                        mfc="none" if lv_ == "micro" else None,
                        label="%s %s, from %s" % (lv_, "FFS" if key[0] == "ffs" else "brute",
                                                  key[1]))
    ax.set_yscale("log")
    ax.set_xlabel("N per population (J N fixed)")
    ax.set_ylabel("switching rate (Hz)")
    ax.set_title("B1, %s: rate against N (95 %% intervals)" % " and ".join(levels))
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(a.out + ".png", dpi=120)
    print("written: %s.csv, %s.png" % (a.out, a.out))


if __name__ == "__main__":
    main()
