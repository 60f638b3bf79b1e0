#!/usr/bin/python3
"""python/examples/fig1.py: the B1 figure (micro vs meso) from Python, through mesogif.run.

    /usr/bin/python3 python/examples/fig1.py [-o fig1.png] [--micro 32] [--meso 128] [--t-sim 30s]

The bistable pair B1 (MODEL.md 3(a), the default model) simulated at the micro level (every
neuron) and at the meso level (the population equations), as README's figure made with the
command line: top, the first realization of each level (A1, A2 in 10 ms bins); bottom left, the
power spectra of both levels with the linear theory at the stable fixed points
(mesogif.theory); bottom right, the switching rates out of each state with their exact 95 %
limits. Prints mesogif.compare's verdict (micro vs meso with 15 % tolerance, MODEL.md 4.3).
The defaults (half the realizations of README's figure) take about 12 s on 2 idle cores
(16 s of CPU time); make test runs it with small sizes.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import mesogif  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", default="fig1.png")
    ap.add_argument("--micro", type=int, default=32, help="micro realizations (32)")
    ap.add_argument("--meso", type=int, default=128, help="meso realizations (128)")
    ap.add_argument("--t-sim", default="30s", help="per realization, warm-up 1 s included")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)

    model = mesogif.Model.default()
    common = dict(t_sim=a.t_sim, t_warmup="1s", threads=a.threads, progress=not a.no_progress,
                  record_realizations=1, record_bin="10ms")
    micro = mesogif.run(model, level="micro", realizations=a.micro, **common)
    meso = mesogif.run(model, level="meso", realizations=a.meso, **common)
    th = mesogif.theory(model, freqs=(micro.freq[0], micro.freq[-1], 60))

    fig = plt.figure(figsize=(10, 7), constrained_layout=True)
    gs = fig.add_gridspec(3, 2)
    colors = ("tab:blue", "tab:red")
    for row, (label, r) in enumerate((("micro", micro), ("meso", meso))):
        ax = fig.add_subplot(gs[row, :])
        for p, name in enumerate(r.population_names):
            ax.plot(r.t_s, r.traces[0, p], lw=0.6, color=colors[p], label=f"A_{name}")
        ax.set_ylabel(f"{label}: A (Hz)")
        ax.set_xlim(r.t_s[0], r.t_s[-1] + (r.t_s[1] - r.t_s[0]))
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("t (s)")

    ax = fig.add_subplot(gs[2, 0])
    for p, name in enumerate(micro.population_names):
        ax.loglog(micro.freq, micro.psd[p], lw=0.8, color=colors[p], alpha=0.5,
                  label=f"micro {name}")
        ax.loglog(meso.freq, meso.psd[p], lw=0.8, color=colors[p], ls="--", label=f"meso {name}")
    for k, fp in enumerate(th.fixed_points):
        if fp.psd is not None:
            ax.loglog(th.freq_hz, fp.psd[0], color="k", lw=0.8,
                      label=f"theory {th.population_names[0]}, stable f.p." if k == 0 else None)
    ax.set_xlabel("f (Hz)")
    ax.set_ylabel("PSD of A (Hz, two-sided)")
    ax.legend(fontsize=7)

    ax = fig.add_subplot(gs[2, 1])
    x = np.arange(2)
    for j, (label, r) in enumerate((("micro", micro), ("meso", meso))):
        s = r.switching
        lo = np.nan_to_num(s.rate_hz - s.rate_ci_low)
        hi = np.nan_to_num(s.rate_ci_high - s.rate_hz)
        ax.bar(x + 0.35 * j, s.rate_hz, 0.35, yerr=[lo, hi], capsize=3, label=label)
    ax.set_xticks(x + 0.175)
    ax.set_xticklabels(["from low", "from high"])
    ax.set_ylabel(f"switching rate of {micro.switching.observable} (Hz)")
    ax.legend(fontsize=8)
    fig.savefig(a.out, dpi=110)

    c = mesogif.compare(micro, meso, rel_tol=0.15)
    print(f"wrote {a.out}; micro {micro.config['wall_s']:.1f} s, meso "
          f"{meso.config['wall_s']:.1f} s of simulation")
    print(f"micro vs meso (15 % tolerance): {'agree' if c.agree else 'DISAGREE'} "
          f"({c.n_judged} rows, |z| < {c.zstar:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
