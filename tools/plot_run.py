#!/usr/bin/python3
"""tools/plot_run.py: a figure of one or two mesogif result files, in the manner of Fig. 1 of
the bistable-pair poster (Schwalger, Deger & Gerstner, CNS 2015; MODEL.md §3(a)).

    tools/plot_run.py FILE.h5 [OTHER.h5] -o fig.png [--t0 5s] [--duration 20s]

Panels:
  top rows   sample paths A_1(t), A_2(t) of the first recorded realization of each file
             (/traces/A_N), a micro file above a meso file; thin: the recorded bins, thick: the
             moving average the switching analysis uses (/stats/switching/smoothing_ms); with
             time-resolved statistics (/stats/time, `--stats-time`) the ensemble mean A(t) as
             a dashed line in a band of +- one standard deviation across realizations;
  bottom     (a) power spectra of every population of both files (/stats/psd, two-sided unless
             the file says onesided), with the linear theory at each stable fixed point when
             the file has a /theory group (optional);
             (b) histogram of the switching observable (default A_1 - A_2, smoothed), as a
             density, with the hysteresis thresholds;
             (c) dwell-time distributions of both states: the fraction of complete dwells per
             logarithmic bin (/stats/switching/dwell_hist_*) and the exponential fit with the
             measured rate k = exits / exposure (/stats/switching/rate_hz): the fraction
             exp(-k t_i) - exp(-k t_i+1) in bin [t_i, t_i+1).
Every dataset is optional: a panel without data says so. Needs python3 with numpy, h5py and
matplotlib (Debian: python3-numpy python3-h5py python3-matplotlib); run as /usr/bin/python3.
Paths and conventions: docs/FILE_FORMAT.md."""

import argparse
import os
import re
import sys

try:
    import numpy as np
    import h5py
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:  # an environment problem: one line that says what to install
    sys.exit("%s: needs numpy, h5py and matplotlib (%s): on Debian/Ubuntu apt-get install "
             "python3-numpy python3-h5py python3-matplotlib and run it with /usr/bin/python3; "
             "elsewhere pip install --user numpy h5py matplotlib"
             % (os.path.basename(sys.argv[0]), e))


def duration_s(text):
    """'20s', '500ms', '2min' or a bare number of seconds."""
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(us|ms|s|min|h)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError("'%s' is not a duration (e.g. 20s, 500ms)" % text)
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, None: 1.0}[m.group(2)]
    return float(m.group(1)) * scale


def attr_str(obj, name, default=""):
    v = obj.attrs.get(name, default)
    return v.decode() if isinstance(v, bytes) else str(v)


class Run:
    """What the figure needs from one file; None where the file lacks it."""

    def __init__(self, path):
        self.path = path
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            raise ValueError("%s: cannot be read as an HDF5 file (%s)" % (path, e)) from None
        with f:
            if attr_str(f, "format") != "mesogif":
                raise ValueError("%s: not a mesogif result (no format attribute)" % path)
            if "/switching/ffs" in f:
                raise ValueError("%s: a `mesogif switch` result (/switching/ffs: switching rates, "
                                 "which `mesogif info` shows), not a run to draw" % path)
            if "/config/populations" not in f:
                raise ValueError("%s: not a mesogif run file (no /config/populations)" % path)
            self.level = attr_str(f, "level", "?")
            self.noise = attr_str(f, "noise", "")
            self.R = int(f.attrs.get("realization_count", 0))
            self.names = [n.decode() if isinstance(n, bytes) else str(n)
                          for n in f["/config/populations"][()]]
            self.trace = self.trace_dt_ms = None
            if "/traces/A_N" in f:
                self.trace = f["/traces/A_N"][0]  # [P][T], first recorded realization
                self.trace_dt_ms = float(f["/traces/A_N"].attrs["dt_ms"])
            self.stats_bin_ms = float(f["/stats/bin_ms"][()]) if "/stats/bin_ms" in f else None
            self.freq = f["/stats/freq"][()] if "/stats/freq" in f else None
            self.psd = f["/stats/psd"][()] if "/stats/psd" in f else None
            self.onesided = bool(f["/stats/psd"].attrs.get("onesided", 0)) if self.psd is not None else False
            self.theory = None
            if "/theory/psd" in f and "/theory/fixed_points/stable" in f:
                self.theory = (f["/theory/freq"][()] if "/theory/freq" in f else self.freq,
                               f["/theory/psd"][()], f["/theory/fixed_points/stable"][()],
                               f["/theory/fixed_points/rates_hz"][()])
            sw = "/stats/switching"
            sums = f["/stats/sums"].attrs if "/stats/sums" in f else {}
            self.basic = bool(sums.get("basic", 0))  # --stats basic: no switching analysis
            self.smooth_ms = float(f[sw + "/smoothing_ms"][()]) if sw + "/smoothing_ms" in f else None
            if self.smooth_ms is None and "sw_window" in sums and self.stats_bin_ms:
                # the run's --switch-smooth, kept with the sums even without the analysis
                self.smooth_ms = float(sums["sw_window"]) * self.stats_bin_ms
            self.thresholds = f[sw + "/thresholds"][()] if sw + "/thresholds" in f else None
            obs = f[sw + "/observable"][()] if sw + "/observable" in f else b"A1-A2"
            self.observable = obs.decode() if isinstance(obs, bytes) else str(obs)
            self.obs_edges = f["/stats/hist/observable/edges"][()] if "/stats/hist/observable/edges" in f else None
            self.obs_counts = f["/stats/hist/observable/counts"][()] if "/stats/hist/observable/counts" in f else None
            self.dwell_edges = f[sw + "/dwell_hist_edges_s"][()] if sw + "/dwell_hist_edges_s" in f else None
            self.dwell_counts = f[sw + "/dwell_hist_counts"][()] if sw + "/dwell_hist_counts" in f else None
            self.rate = f[sw + "/rate_hz"][()] if sw + "/rate_hz" in f else None
            self.n_exits = f[sw + "/n_exits"][()] if sw + "/n_exits" in f else None
            self.mean_dwell = f[sw + "/mean_dwell_s"][()] if sw + "/mean_dwell_s" in f else None
            self.tm_mean = None
            if "/stats/time/mean_A" in f and "/stats/time/var_A" in f:
                self.tm_t = f["/stats/time/t_s"][()]
                self.tm_mean = f["/stats/time/mean_A"][()]  # [P][bins]
                self.tm_sd = np.sqrt(np.maximum(f["/stats/time/var_A"][()], 0.0))
                self.tm_bin_s = float(f["/stats/time"].attrs.get("bin_ms", 0.0)) * 1e-3
                self.tm_R = int(f["/stats/time/n_realizations"][()]) if "/stats/time/n_realizations" in f else 0

    def label(self):
        return "%s (%s, %d realizations)" % (os.path.basename(self.path), self.level, self.R)


def moving_average(x, n):
    if n <= 1 or n > x.size:
        return x
    c = np.cumsum(np.insert(x.astype(float), 0, 0.0))
    out = np.full(x.size, np.nan)
    out[n - 1:] = (c[n:] - c[:-n]) / n
    return out


def plot_time_bands(ax, run, t0, dur, colors):
    """Ensemble mean A(t) +- one sd across realizations (/stats/time), at the bin centres."""
    tc = run.tm_t + 0.5 * run.tm_bin_s
    sel = (tc >= t0) & (tc <= t0 + dur)
    if not sel.any():
        sel = tc <= dur
    dark = ["navy", "darkred", "darkgreen", "indigo"]
    for p in range(min(4, run.tm_mean.shape[0])):
        m, sd = run.tm_mean[p][sel], run.tm_sd[p][sel]
        # above the sample path, which would hide them
        ax.fill_between(tc[sel], m - sd, m + sd, color=dark[p], alpha=0.25, lw=0, zorder=3)
        ax.plot(tc[sel], m, "--", lw=1.3, color=dark[p], zorder=4,
                label="ensemble mean +- sd of A_%d (%d realizations, %g ms bins)"
                % (p + 1, run.tm_R, run.tm_bin_s * 1e3))


def plot_traces(ax, run, t0, dur):
    colors = ["tab:blue", "tab:red", "tab:green", "tab:purple"]
    if run.trace is None and run.tm_mean is not None:
        plot_time_bands(ax, run, t0, dur, colors)
        ax.set_ylabel("A (Hz)")
        ax.set_title("%s: %s level, ensemble mean +- sd (no traces recorded)"
                     % (os.path.basename(run.path), run.level), fontsize=9)
        ax.legend(loc="upper right", fontsize=8)
        return
    if run.trace is None:
        ax.text(0.5, 0.5, "%s: no traces recorded" % os.path.basename(run.path),
                ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    dt_s = run.trace_dt_ms * 1e-3
    T = run.trace.shape[1]
    i0 = int(round(t0 / dt_s))
    i1 = min(T, i0 + int(round(dur / dt_s)))
    if i0 >= i1:
        i0, i1 = 0, min(T, int(round(dur / dt_s)))
    t = np.arange(i0, i1) * dt_s
    win = int(round(run.smooth_ms / run.trace_dt_ms)) if run.smooth_ms else 1
    # thin: block averages over the statistics bin (10 ms by default), so that the finite-size
    # noise is visible without drowning the switches
    blk = max(1, int(round((run.stats_bin_ms or run.trace_dt_ms) / run.trace_dt_ms)))
    nblk = (i1 - i0) // blk
    tb = (i0 + (np.arange(nblk) + 0.5) * blk) * dt_s
    for p, name in enumerate(run.names[:4]):
        a = run.trace[p].astype(float)
        ab = a[i0:i0 + nblk * blk].reshape(nblk, blk).mean(axis=1)
        ax.plot(tb, ab, lw=0.4, alpha=0.35, color=colors[p])
        ax.plot(t, moving_average(a, win)[i0:i1], lw=1.3, color=colors[p],
                label="A_%d (%s)" % (p + 1, name))
    if run.tm_mean is not None:
        plot_time_bands(ax, run, t[0], t[-1] - t[0], colors)
    ax.set_ylabel("A (Hz)")
    top = np.nanpercentile(moving_average(run.trace[0].astype(float), win)[i0:i1], 99.5)
    ax.set_ylim(0, max(25.0, 1.6 * top))
    ax.set_xlim(t[0], t[-1])
    ax.set_title("%s: %s level%s, first realization (thin: %g ms bins, thick: %g ms average)"
                 % (os.path.basename(run.path), run.level,
                    ", %s noise" % run.noise if run.level == "meso" and run.noise else "",
                    blk * run.trace_dt_ms, win * run.trace_dt_ms), fontsize=9)
    ax.legend(loc="upper right", fontsize=8, ncol=2)


def log_rebin(f, y, per_decade=20):
    """Means over bins equally spaced in log f (as S3's __rebin_log__ does for plotting): the
    periodogram's scatter is averaged away at high f, where the bins hold many ordinates."""
    lo = np.floor(np.log10(f[0]) * per_decade)
    hi = np.ceil(np.log10(f[-1]) * per_decade) + 1
    edges = 10 ** (np.arange(lo, hi + 1) / per_decade)
    idx = np.digitize(f, edges)
    fc, yc = [], []
    for k in np.unique(idx):
        m = idx == k
        fc.append(np.exp(np.mean(np.log(f[m]))))
        yc.append(np.mean(y[..., m], axis=-1))
    return np.array(fc), np.moveaxis(np.array(yc), 0, -1)


def plot_psd(ax, runs):
    any_data = False
    styles = ["-", "--"]
    colors = ["tab:blue", "tab:red", "tab:green", "tab:purple"]
    for r, run in enumerate(runs):
        if run.psd is None:
            continue
        any_data = True
        fb, pb = log_rebin(run.freq, run.psd)
        for p, name in enumerate(run.names[:4]):
            ax.loglog(fb, pb[p], styles[r % 2], lw=1.2, color=colors[p],
                      alpha=0.9 if r == 0 else 0.8,
                      label="%s %s" % (run.level, name))
        if run.theory is not None and r == len(runs) - 1:
            tf, tpsd, stable, rates = run.theory
            # linear theory around each stable fixed point, in the population's colour; for a
            # bistable model each describes the fluctuations within one state only
            for i, k in enumerate(np.flatnonzero(stable)):
                for p in range(min(4, tpsd.shape[1])):
                    if np.all(np.isnan(tpsd[k, p])):
                        continue
                    ax.loglog(tf, tpsd[k, p], [":", "-."][i % 2], lw=1.0, color=colors[p],
                              label="theory at fixed point (%s) Hz"
                              % ", ".join("%.3g" % x for x in rates[k]) if p == 0 else None)
    if not any_data:
        ax.text(0.5, 0.5, "no spectra in the files", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    ax.set_xlabel("f (Hz)")
    ax.set_ylabel("PSD of A (Hz, %s)" % ("one-sided" if runs[0].onesided else "two-sided"))
    ax.set_title("(a) power spectra (means in 20 log bins per decade)", fontsize=9)
    ax.legend(fontsize=7)


def plot_observable(ax, runs):
    any_data = False
    for r, run in enumerate(runs):
        if run.obs_counts is None or run.obs_counts.sum() == 0:
            continue
        any_data = True
        e = run.obs_edges
        dens = run.obs_counts / (run.obs_counts.sum() * np.diff(e))
        ax.step(e[:-1], dens, where="post", lw=1.2, ls=["-", "--"][r % 2],
                color=["k", "tab:orange"][r % 2], label=run.level)
    if not any_data:
        why = ("no switching analysis\n(--stats basic)" if all(r.basic for r in runs) else
               "no switching observable declared\n(--switch-observable)")
        ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    run = runs[0]
    if run.thresholds is not None:
        for x in run.thresholds:
            ax.axvline(x, color="0.6", lw=0.8, ls=":")
    nz = np.flatnonzero(run.obs_counts)
    if nz.size:
        ax.set_xlim(run.obs_edges[max(nz[0] - 2, 0)], run.obs_edges[min(nz[-1] + 3, run.obs_edges.size - 1)])
    ax.set_xlabel("%s, %g ms average (Hz)" % (run.observable, run.smooth_ms or 0))
    ax.set_ylabel("density (1/Hz)")
    ax.set_title("(b) histogram of the switching observable", fontsize=9)
    ax.legend(fontsize=8)


def plot_dwells(ax, runs):
    any_data = False
    states = ["low", "high"]
    colors = [["tab:blue", "tab:red"], ["tab:cyan", "tab:orange"]]
    for r, run in enumerate(runs):
        if run.dwell_counts is None or run.rate is None:
            continue
        e = run.dwell_edges
        centers = np.sqrt(e[:-1] * e[1:])
        for s in range(2):
            c = run.dwell_counts[s].astype(float)
            n = c.sum()
            if n == 0:
                continue
            any_data = True
            frac = c / n
            k = run.rate[s]
            fit = np.exp(-k * e[:-1]) - np.exp(-k * e[1:])
            m = frac > 0
            ax.semilogx(centers[m], frac[m], "o" if r == 0 else "s", ms=3.5, mfc="none",
                        color=colors[r % 2][s],
                        label="%s %s: %d dwells, mean %.3g s, k = %.3g Hz"
                        % (run.level, states[s], n, run.mean_dwell[s], k))
            keep = fit > 1e-4
            ax.semilogx(centers[keep], fit[keep], "-" if r == 0 else "--", lw=1.0,
                        color=colors[r % 2][s])
    if not any_data:
        why = ("no switching analysis\n(--stats basic)" if all(r.basic for r in runs) else
               "no complete dwells")
        ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    ax.set_xlabel("dwell time (s)")
    ax.set_ylabel("fraction of dwells per log bin")
    ax.set_title("(c) dwell times; lines: exponential, k = exits / exposure", fontsize=9)
    ax.legend(fontsize=6.5, loc="upper left")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.35)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", metavar="FILE.h5", help="one or two mesogif result files")
    ap.add_argument("-o", "--out", required=True, help="output image (png, pdf, svg)")
    ap.add_argument("--t0", type=duration_s, default=duration_s("1s"), help="start of the sample paths (default 1s)")
    ap.add_argument("--duration", type=duration_s, default=duration_s("20s"),
                    help="length of the sample paths (default 20s)")
    ap.add_argument("--title", default=None, help="figure title")
    args = ap.parse_args(argv)
    if len(args.files) > 2:
        ap.error("at most two files")
    try:
        runs = [Run(p) for p in args.files]
    except (OSError, KeyError, ValueError) as e:
        sys.exit("plot_run.py: %s" % e)
    # micro above meso
    runs.sort(key=lambda r: 0 if r.level == "micro" else 1)
    n_tr = len(runs)
    fig = plt.figure(figsize=(12, 3.0 * n_tr + 4.2))
    gs = fig.add_gridspec(n_tr + 1, 3, height_ratios=[1.0] * n_tr + [1.5], hspace=0.45, wspace=0.3)
    for r, run in enumerate(runs):
        ax = fig.add_subplot(gs[r, :])
        plot_traces(ax, run, args.t0, args.duration)
        if r == n_tr - 1:
            ax.set_xlabel("t (s)")
    plot_psd(fig.add_subplot(gs[n_tr, 0]), runs)
    plot_observable(fig.add_subplot(gs[n_tr, 1]), runs)
    plot_dwells(fig.add_subplot(gs[n_tr, 2]), runs)
    fig.suptitle(args.title or " vs ".join(r.label() for r in runs), fontsize=11)
    fig.savefig(args.out, dpi=110, bbox_inches="tight")
    print("written: %s" % args.out)


if __name__ == "__main__":
    main()
