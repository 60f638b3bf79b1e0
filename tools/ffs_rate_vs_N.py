#!/usr/bin/python3
"""tools/ffs_rate_vs_N.py: the switching rate of B1 scaled to N neurons per population, against N.

For each N, B1 (data/models/bistable_b1.json) with N neurons per population and J = -0.043 * 500
/ N mV (J N fixed: the same mean field at every N) is run with `mesogif switch` (forward flux
sampling, meso level) and, where a brute-force estimate is cheap (--brute-max N), with `mesogif
switch --method brute` (simulated time for about 300 switches per direction, at most
--brute-time-s). Writes OUT.csv (one row per N and method: rates with their 95 %
intervals, simulated seconds, wall seconds) and OUT.png (ln rate against N, error bars = the 95 %
intervals), and prints the table.

usage: tools/ffs_rate_vs_N.py [--mesogif bin/mesogif] [--n 500,1000,2000,3000,5000,10000]
                              [--rel-err 0.1] [--brute-max 3000] [--brute-time-s 30000]
                              [--threads 2] [--out docs/fig_ffs_rate_vs_N]
The micro level is not available for `switch` yet; this script plots the meso level only.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py


def scaled_model(n, path):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "data", "models", "bistable_b1.json")) as f:
        m = json.load(f)
    m["name"] = "b1_N%d" % n
    for p in m["populations"]:
        p["N"] = n
    for q in m["projections"]:
        q["J"] = -0.043 * 500 / n
    with open(path, "w") as f:
        json.dump(m, f)


def run(cmd):
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr.strip()))
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mesogif", default="bin/mesogif")
    ap.add_argument("--n", default="500,1000,2000,3000,5000,10000")
    ap.add_argument("--rel-err", default="0.1")
    ap.add_argument("--brute-max", type=int, default=3000)
    ap.add_argument("--brute-time-s", type=float, default=30000.0)
    ap.add_argument("--threads", default="2")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--out", default="docs/fig_ffs_rate_vs_N")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in a.n.split(",")]:
            model = os.path.join(tmp, "b1_%d.json" % n)
            scaled_model(n, model)
            out = os.path.join(tmp, "ffs_%d.h5" % n)
            wall = run([a.mesogif, "switch", model, "--rel-err", a.rel_err, "--seed", a.seed,
                        "--threads", a.threads, "--quiet", "--out", out])
            with h5py.File(out, "r") as f:
                g = f["switching/ffs"]
                sim = float(g["basin_realization_s"][0]) + float(sum(g["trial_realization_s"][:]))
                for d, name in enumerate(("low", "high")):
                    rows.append(dict(N=n, method="ffs", direction=name,
                                     rate_hz=float(g["rate_hz"][d]),
                                     ci_low=float(g["rate_ci_low"][d]),
                                     ci_high=float(g["rate_ci_high"][d]),
                                     rel_se=float(g["rate_rel_se"][d]),
                                     stages=len(g["from_%s/p" % name]),
                                     simulated_s=sim, wall_s=wall))
            print("N = %5d  ffs    %.4g / %.4g Hz  (%.0f s wall, %.3g s simulated)"
                  % (n, rows[-2]["rate_hz"], rows[-1]["rate_hz"], wall, sim), flush=True)
            if n > a.brute_max:
                continue
            out = os.path.join(tmp, "brute_%d.h5" % n)
            # about 300 switches per direction (half the time in each state), at most the cap
            k = min(rows[-2]["rate_hz"], rows[-1]["rate_hz"])
            brute_s = min(a.brute_time_s, 600.0 / k) if k > 0 else a.brute_time_s
            wall = run([a.mesogif, "switch", model, "--method", "brute", "--brute-time",
                        "%gs" % brute_s, "--seed", a.seed, "--threads", a.threads,
                        "--quiet", "--out", out])
            with h5py.File(out, "r") as f:
                g = f["stats/switching"]
                for d, name in enumerate(("low", "high")):
                    k = float(g["rate_hz"][d])
                    ex = int(g["n_exits"][d])
                    rows.append(dict(N=n, method="brute", direction=name, rate_hz=k,
                                     ci_low=float(g["rate_ci_low"][d]),
                                     ci_high=float(g["rate_ci_high"][d]),
                                     rel_se=ex ** -0.5 if ex > 0 else float("nan"), stages=0,
                                     simulated_s=brute_s, wall_s=wall))
            print("N = %5d  brute  %.4g / %.4g Hz  (%.0f s wall)"
                  % (n, rows[-2]["rate_hz"], rows[-1]["rate_hz"], wall), flush=True)
    with open(a.out + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    style = {("ffs", "low"): ("o", "C0", 0), ("ffs", "high"): ("s", "C1", 40),
             ("brute", "low"): ("x", "k", -40), ("brute", "high"): ("+", "k", 80)}
    for key, (mk, col, dx) in style.items():
        r = [x for x in rows if (x["method"], x["direction"]) == key]
        if not r:
            continue
        xs = [x["N"] + dx for x in r]
        ks = [x["rate_hz"] for x in r]
        err = [[x["rate_hz"] - x["ci_low"] for x in r], [x["ci_high"] - x["rate_hz"] for x in r]]
        ax.errorbar(xs, ks, yerr=err, fmt=mk, color=col, capsize=3, ls="none",
                    label="%s, from %s" % ("FFS" if key[0] == "ffs" else "brute force", key[1]))
    ax.set_yscale("log")
    ax.set_xlabel("N per population (J N fixed)")
    ax.set_ylabel("switching rate (Hz)")
    ax.set_title("B1, meso level: rate against N (95 % intervals)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out + ".png", dpi=120)
    print("written: %s.csv, %s.png" % (a.out, a.out))


if __name__ == "__main__":
    main()
