"""mesogif.switch: switching rates of the two metastable states through the library's mg_ffs_run
(forward flux sampling, include/mesogif/ffs.h, docs/SWITCHING.md) or, with method="brute", the
exits / exposure of an ensemble run with the options of mg_ffs_brute_opts: `mesogif switch`."""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from ._ffi import cstr, err_msg, ffi, lib
from ._worker import call_cancellable
from .errors import OptionError, RunError
from .result import Result
from .run import (_BACKENDS, _LEVELS, _NOISE, Duration, _as_model, _choice, _int, _model_error,
                  _switch_analysis, duration_ms, run)

_DIRECTIONS = ("low", "high")


@dataclass
class Direction:
    """The estimate of one direction (from low: low -> high; from high: high -> low): the rate
    is the flux through the first interface times the stages' success probabilities."""
    rate_hz: float
    ci_low: float
    ci_high: float
    rel_se: float
    reached: bool             #: rel_se <= rel_err
    flux_hz: float
    flux_rel_se: float
    flux_crossings: int
    exposure_s: float
    basin_core: float         #: edge of the basin (Hz of the observable)
    interfaces: np.ndarray    #: [stages + 1] (Hz)
    trials: np.ndarray        #: [stages]
    successes: np.ndarray     #: [stages]
    p: np.ndarray             #: [stages] success probability of each stage
    p_rel_se: np.ndarray
    trial_s: float            #: simulated seconds of its trials and pilots


@dataclass
class SwitchResult:
    """Both rates (index 0: from low, 1: from high) with their 95 % intervals, as the last two
    lines of `mesogif switch`; per direction the FFS details (None for method="brute")."""
    method: str
    rate_hz: np.ndarray
    rate_ci_low: np.ndarray
    rate_ci_high: np.ndarray
    observable: str
    thresholds: Tuple[float, float]
    from_low: Optional[Direction]
    from_high: Optional[Direction]
    wall_s: float
    run: Optional[Result] = None  #: the ensemble of method="brute"

    def lines(self) -> str:
        """The command line's rate lines."""
        return "".join(f"rate from {d}: {self.rate_hz[k]:.6g} Hz [{self.rate_ci_low[k]:.6g}, "
                       f"{self.rate_ci_high[k]:.6g}] (95 %)\n"
                       for k, d in enumerate(_DIRECTIONS))


def _direction(r, d: int) -> Direction:
    n = int(r.n_stages[d])
    ints = lambda a: np.array([int(a[d][i]) for i in range(n)], dtype=np.int64)  # noqa: E731
    dbls = lambda a, k: np.array([float(a[d][i]) for i in range(k)])  # noqa: E731
    return Direction(float(r.rate_hz[d]), float(r.rate_ci_low[d]), float(r.rate_ci_high[d]),
                     float(r.rate_rel_se[d]), bool(r.reached[d]), float(r.flux_hz[d]),
                     float(r.flux_rel_se[d]), int(r.flux_crossings[d]), float(r.exposure_s[d]),
                     float(r.basin_core[d]), dbls(r.interfaces, n + 1), ints(r.trials),
                     ints(r.successes), dbls(r.p, n), dbls(r.p_rel_se, n), float(r.trial_s[d]))


def _positive_s(name: str, value: Duration) -> float:
    s = duration_ms(name, value) * 1e-3
    if not (s > 0 and math.isfinite(s)):
        raise OptionError(f"{name}: {value!r} (allowed: a duration > 0)")
    return s


def _options(o, m, level, noise, backend, rel_err, interfaces, seed, threads, dt, stats_bin,
             t_warmup, switch_observable, switch_smooth, switch_thresholds, basin_realizations,
             basin_budget, trial_max, trials, pilot, p_target, pool_max, batch, budget) -> None:
    """The options of `mesogif switch` under their Python names into o (mg_ffs_opts), with the
    model's "simulation" block and declared observable where none is given, as the command
    line (src/cli/cli_switch.c)."""
    o.level = _choice("level", level, _LEVELS)
    o.noise = _choice("noise", noise, {k: v for k, v in _NOISE.items() if k != "deterministic"})
    o.backend = _choice("backend", backend, _BACKENDS)
    if isinstance(rel_err, bool) or not isinstance(rel_err, (int, float)) or \
            not 0 < rel_err < 1:
        raise OptionError(f"--rel-err: {rel_err!r} (allowed: 0 < rel-err < 1)")
    o.rel_err = float(rel_err)
    if interfaces is not None and interfaces != "auto":
        vals = [float(x) for x in interfaces]
        if not 0 < len(vals) < lib.MG_FFS_IF_MAX or not all(map(math.isfinite, vals)):
            raise OptionError(f"--interfaces: {interfaces!r} (allowed: 'auto', or 1 to "
                              f"{lib.MG_FFS_IF_MAX - 1} finite values in Hz)")
        o.n_interfaces = len(vals)
        for i, v in enumerate(vals):
            o.interfaces[i] = v
    o.seed = _int("seed", seed, 0, 2**32 - 1)
    o.threads = 0 if threads is None else _int("threads", threads, 1, 4096)
    sim = m._m.sim
    for name, value, field, from_model in (
            ("dt", dt, "dt_ms", sim.dt if sim.dt > 0 else None),
            ("t_warmup", t_warmup, "t_warmup_ms", sim.t_warmup if sim.t_warmup >= 0 else None),
            ("stats_bin", stats_bin, "stats_bin_ms",
             sim.stats_bin if sim.stats_bin > 0 else None)):
        if value is not None:
            setattr(o, field, duration_ms(name, value))
        elif from_model is not None:
            setattr(o, field, from_model)
    _switch_analysis(o, m, switch_observable, switch_smooth, switch_thresholds)
    o.basin_realizations = _int("basin_realizations", basin_realizations, 2, 1 << 20)
    if basin_budget is not None:
        o.basin_budget_s = _positive_s("basin_budget", basin_budget)
    if trial_max is not None:
        o.trial_max_s = _positive_s("trial_max", trial_max)
    o.trials_first = _int("trials", trials, 8, 1 << 23)
    o.pilot_trials = _int("pilot", pilot, 8, 65536)
    o.p_target = float(p_target)
    o.pool_max = _int("pool_max", pool_max, 0, 10000000)
    o.batch = _int("batch", batch, 0, 1024)
    if budget is not None:
        o.budget_s = _positive_s("budget", budget)


def _out_path(out, force: bool) -> Optional[str]:
    if out is None:
        return None
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out: expected a file name, not {type(out).__name__}")
    path = os.fspath(out)
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path}: exists (use force=True to overwrite)")
    return path


def switch(model: Any = None, level: str = "meso", method: str = "ffs", rel_err: float = 0.1,
           interfaces: "Optional[Sequence[float] | str]" = None, seed: int = 1,
           threads: Optional[int] = None, backend: str = "auto", progress: bool = True,
           out: "Optional[str | os.PathLike[str]]" = None, *, noise: str = "binomial",
           dt: Optional[Duration] = None, stats_bin: Optional[Duration] = None,
           t_warmup: Optional[Duration] = None, switch_observable: Optional[str] = None,
           switch_smooth: Optional[Duration] = None,
           switch_thresholds: Optional[Tuple[float, float]] = None,
           basin_realizations: int = 64, basin_budget: Optional[Duration] = None,
           trial_max: Optional[Duration] = None, trials: int = 256, pilot: int = 64,
           p_target: float = 0.3, pool_max: int = 0, batch: int = 0,
           budget: Optional[Duration] = None, brute_time: Duration = "2000s",
           force: bool = False) -> SwitchResult:
    """The switching rates of ``model`` from low and from high, with 95 % intervals: ``mesogif
    switch`` under Python names (the same values give the same bits). ``method`` is "ffs"
    (forward flux sampling) or "brute" (exits / exposure of ``basin_realizations`` runs of
    ``brute_time`` in all after the warm-up). ``progress=True`` prints the estimate's progress
    lines to stderr. With ``out`` the result is written there as the command line writes it.
    Ctrl-C cancels (KeyboardInterrupt, nothing written); bad options raise OptionError or
    TypeError, bad models ModelError, with the command line's messages; failures RunError."""
    m = _as_model(model)
    if method not in ("ffs", "brute"):
        raise OptionError(f"--method: {method!r} (allowed: ffs, brute)")
    o = ffi.new("mg_ffs_opts *")
    lib.mg_ffs_opts_default(o)
    _options(o, m, level, noise, backend, rel_err, interfaces, seed, threads, dt, stats_bin,
             t_warmup, switch_observable, switch_smooth, switch_thresholds, basin_realizations,
             basin_budget, trial_max, trials, pilot, p_target, pool_max, batch, budget)
    out_path = _out_path(out, force)
    err = ffi.new("mg_err *")
    per, total = ffi.new("double *"), ffi.new("double *")
    if lib.mg_ffs_estimate(m._m, o, per, total, err) != lib.MG_OK:
        raise _model_error(m, err_msg(err))
    if method == "brute":
        return _brute(m, o, duration_ms("brute_time", brute_time), out_path, force, progress)
    return _ffs(m, o, out_path, force, progress)


def _ffs(m, o, out_path, force, progress) -> SwitchResult:
    err = ffi.new("mg_err *")
    cancel = ffi.new("int *", 0)

    @ffi.callback("void(const char *, void *)")
    def on_log(line, user):  # the library's thread: a line to stderr
        sys.stderr.write(f"mesogif switch: {cstr(line)}\n")

    if progress:
        o.log = on_log
    o.cancel = cancel
    res = ffi.new("mg_ffs_result *")

    def call():
        keep = (m, o, res, err, cancel, on_log)  # noqa: F841 (alive while the library runs)
        return lib.mg_ffs_run(m._m, o, res, err)

    rc, interrupted = call_cancellable(call, cancel, "mesogif.switch")
    if interrupted or rc in (None, lib.MG_EINTR, lib.MG_ESTOPPED):
        raise KeyboardInterrupt("mesogif.switch: cancelled; nothing written")
    if rc == lib.MG_EINVAL:
        raise _model_error(m, err_msg(err))
    if rc != lib.MG_OK:
        raise RunError(err_msg(err))
    if out_path is not None:
        line = ffi.new("char[]", b"mesogif.switch (Python)")
        if lib.mg_ffs_write_h5(out_path.encode(), res, m._m, line, 1 if force else 0,
                               err) != lib.MG_OK:
            raise RunError(err_msg(err))
    vec = lambda a: np.array([float(a[0]), float(a[1])])  # noqa: E731
    return SwitchResult("ffs", vec(res.rate_hz), vec(res.rate_ci_low), vec(res.rate_ci_high),
                        cstr(res.observable), (float(res.lo), float(res.hi)),
                        _direction(res, 0), _direction(res, 1), float(res.wall_s))


def _brute(m, o, brute_ms, out_path, force, progress) -> SwitchResult:
    # the ensemble, with mg_run's options as the library maps them
    ro = ffi.new("mg_run_opts *")
    err = ffi.new("mg_err *")
    if lib.mg_ffs_brute_opts(o, brute_ms, ro, err) != lib.MG_OK:
        raise OptionError(err_msg(err))
    level = next(k for k, v in _LEVELS.items() if v == ro.level)
    noise = next(k for k, v in _NOISE.items() if v == ro.noise)
    backend = next(k for k, v in _BACKENDS.items() if v == ro.backend)
    ms = lambda v: f"{float(v)!r}ms"  # noqa: E731 (exact: the command line's bits)
    r = run(m, level=level, realizations=int(ro.realization_count), t_sim=ms(ro.t_sim_ms),
            t_warmup=ms(ro.t_warmup_ms), dt=ms(ro.dt_ms), seed=int(ro.seed), backend=backend,
            threads=int(ro.threads) or None, record_realizations=0, progress=progress,
            out=out_path, noise=noise, record_bin=ms(ro.record_bin_ms),
            stats_bin=ms(ro.stats_bin_ms), psd_df="off",
            switch_observable=cstr(ro.switch_observable) or None,
            switch_smooth=ms(ro.switch_smooth_ms) if ro.switch_smooth_ms > 0 else None,
            switch_thresholds=(ro.switch_lo, ro.switch_hi) if ro.switch_lo < ro.switch_hi
            else None, force=force)
    sw = r.switching
    return SwitchResult("brute", sw.rate_hz.copy(), sw.rate_ci_low.copy(),
                        sw.rate_ci_high.copy(), sw.observable,
                        (float(sw.thresholds_hz[0]), float(sw.thresholds_hz[1])), None, None,
                        float(r.config.get("wall_s", math.nan)), r)
