"""mesogif.run: an ensemble through the library's mg_run (include/mesogif/run.h)."""
from __future__ import annotations

import math
import numbers
import os
from typing import Any, Dict, Optional, Tuple, Union

from ._ffi import err_msg, ffi, lib
from ._worker import call_cancellable

try:  # imported here, not in run(): a Ctrl-C during an import would leave the module broken
    from tqdm.auto import tqdm as _tqdm
except ImportError:  # progress bars are optional
    _tqdm = None
from .errors import ModelError, OptionError, RunError
from .model import Model
from .result import Result

Duration = Union[str, float, int]

_LEVELS = {"meso": 0, "micro": 1}
_NOISE = {"binomial": 0, "poisson": 1, "deterministic": 2}
_BACKENDS = {"auto": 0, "cpu": 1, "cuda": 2}
_CONNECTIVITY = {"per-realization": 0, "shared": 1}


def duration_ms(name: str, value: Duration) -> float:
    """A duration in ms from a string with a unit ("10s", "0.5ms", "2min"; a bare number in a
    string means ms, as on the command line) or a number of seconds (float or int)."""
    if isinstance(value, bool) or not isinstance(value, (str, numbers.Real)):
        raise TypeError(f"{name}: expected a duration (a string with a unit such as '10s' or "
                        f"a number of seconds), not {type(value).__name__}")
    if isinstance(value, str):
        out = ffi.new("double *")
        if lib.mg_parse_duration_ms(value.encode(), out) != 0:
            raise OptionError(f"{name}: '{value}' is not a duration (allowed: number with us, "
                              "ms, s, min or h; bare numbers are ms; or a float in seconds)")
        return float(out[0])
    v = float(value) * 1e3
    if not math.isfinite(v):
        raise OptionError(f"{name}: {value!r} is not a finite number of seconds")
    return v


def frequency_hz(name: str, value: Union[str, float, int]) -> float:
    """A frequency in Hz from "1Hz", "2kHz" or a number of Hz."""
    if isinstance(value, bool) or not isinstance(value, (str, numbers.Real)):
        raise TypeError(f"{name}: expected a frequency ('1Hz' or a number of Hz), not "
                        f"{type(value).__name__}")
    if isinstance(value, str):
        out = ffi.new("double *")
        if lib.mg_parse_frequency_hz(value.encode(), out) != 0:
            raise OptionError(f"{name}: '{value}' is not a frequency (allowed: number with Hz "
                              "or kHz)")
        return float(out[0])
    if not math.isfinite(float(value)):
        raise OptionError(f"{name}: {value!r} is not a finite frequency")
    return float(value)


def _int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, not {type(value).__name__}")
    v = int(value)
    if not lo <= v <= hi:
        raise OptionError(f"{name}: {v} (allowed: {lo}..{hi})")
    return v


def _choice(name: str, value: Any, table: Dict[str, int]) -> int:
    if not isinstance(value, str) or value not in table:
        raise OptionError(f"{name}: {value!r} (allowed: {', '.join(table)})")
    return table[value]


def _as_model(model: Any) -> Model:
    if model is None:
        return Model.default()
    if isinstance(model, Model):
        return model
    if isinstance(model, dict):
        return Model.from_dict(model)
    if isinstance(model, (str, os.PathLike)):
        return Model.from_file(model)
    raise TypeError(f"model: expected a mesogif.Model, a dict, a file name or None, not "
                    f"{type(model).__name__}")


def _model_error(model: Model, msg: str) -> Exception:
    """As `mesogif run` reports a validation error: JSON paths are the model's, prefixed with
    its source; anything else names an option."""
    if msg.startswith("/") or msg.startswith("line "):
        return ModelError(f"{model.source}: {msg}")
    return OptionError(msg)


def _bin_near(default: float, dt: float) -> float:
    """The default bin when it is a whole number of steps of dt, else the nearest whole number
    (at least 1) of steps (src/cli/cli_run.c's bin_near)."""
    if not (dt > 0 and math.isfinite(dt)):
        return default
    q = default / dt
    k = int(math.floor(q + 0.5)) if q >= 0 else -int(math.floor(-q + 0.5))  # llround
    if k >= 1 and abs(q - k) <= 1e-9 * (q if q > 1 else 1):
        return default
    return float(k if k >= 1 else 1) * dt


def _times(o, m: Model, dt, t_sim, t_warmup, record_bin, stats_bin) -> None:
    """dt, t_sim, t_warmup and the bins as ``mesogif run`` sets them (src/cli/cli_run.c): the
    values given, else the model's "simulation" block, else defaults that follow the run: a
    warm-up of min(1 s, t_sim / 10) (also when the model's warm-up does not fit a t_sim given
    here: t_sim <= 2 t_warmup), bins of 1 ms and 10 ms rounded to whole steps of dt, the
    statistics bin shortened until one complete bin follows the warm-up. The embedded B1's
    block is those defaults themselves (as the command line without a model file)."""
    sim = m._m.sim
    given = {}
    from_file = set()
    for name, value, field, from_model in (
            ("dt", dt, "dt_ms", sim.dt if sim.dt > 0 else None),
            ("t_sim", t_sim, "t_sim_ms", sim.t_sim if sim.t_sim > 0 else None),
            ("t_warmup", t_warmup, "t_warmup_ms", sim.t_warmup if sim.t_warmup >= 0 else None),
            ("record_bin", record_bin, "record_bin_ms",
             sim.record_bin if sim.record_bin > 0 else None),
            ("stats_bin", stats_bin, "stats_bin_ms",
             sim.stats_bin if sim.stats_bin > 0 else None)):
        if value is not None:
            setattr(o, field, duration_ms(name, value))
            given[name] = True
        elif from_model is not None:
            setattr(o, field, from_model)
            from_file.add(name)
    if m._embedded:
        from_file = set()
    warm_default = "t_warmup" not in given and (
        "t_warmup" not in from_file or m._embedded or
        ("t_sim" in given and not 2.0 * o.t_warmup_ms < o.t_sim_ms))
    if warm_default and o.t_sim_ms > 0 and math.isfinite(o.t_sim_ms):
        o.t_warmup_ms = min(1000.0, o.t_sim_ms / 10.0)
    if "record_bin" not in given and "record_bin" not in from_file:
        o.record_bin_ms = _bin_near(1.0, o.dt_ms)
    if "stats_bin" not in given and "stats_bin" not in from_file:
        o.stats_bin_ms = _bin_near(10.0, o.dt_ms)
        if (o.dt_ms > 0 and math.isfinite(o.dt_ms) and o.t_sim_ms > 0 and
                math.isfinite(o.t_sim_ms) and o.t_warmup_ms >= 0):
            n_steps = math.floor(o.t_sim_ms / o.dt_ms + 1e-9)
            k = math.floor(o.stats_bin_ms / o.dt_ms + 0.5)
            while k > 1 and not (math.ceil(o.t_warmup_ms / (o.dt_ms * k) - 1e-9) + 1.0 <=
                                 math.floor(n_steps / k)):
                k -= 1.0
            if k * o.dt_ms != o.stats_bin_ms:
                o.stats_bin_ms = k * o.dt_ms


def _switch_analysis(o, m: Model, switch_observable, switch_smooth, switch_thresholds) -> None:
    """The switching analysis into o (mg_run_opts or mg_ffs_opts: the same fields), as the
    command line: the model's declared observable unless one is given."""
    if switch_observable is not None:
        if not isinstance(switch_observable, str) or len(switch_observable.encode()) >= 256:
            raise OptionError("switch_observable: expected a string such as 'A1-A2' "
                              "(under 256 bytes)")
        o.switch_observable = switch_observable.encode()
    elif m._m.switch_observable[0] != b"\0":
        o.switch_observable = m._m.switch_observable
    if switch_smooth is not None:
        o.switch_smooth_ms = duration_ms("switch_smooth", switch_smooth)
        if not o.switch_smooth_ms > 0:
            raise OptionError(f"switch_smooth: {switch_smooth!r} (allowed: a duration > 0)")
    if switch_thresholds is not None:
        try:
            lo, hi = (float(x) for x in switch_thresholds)
        except (TypeError, ValueError):
            raise OptionError("switch_thresholds: expected (low, high) in Hz") from None
        if not (lo < hi and math.isfinite(lo) and math.isfinite(hi)):
            raise OptionError(f"switch_thresholds: ({lo}, {hi}) (allowed: finite low < high)")
        o.switch_lo, o.switch_hi = lo, hi


class _Progress:
    """The progress callback's numbers, written by the library's thread, read by ours."""

    def __init__(self):
        self.done = 0
        self.total = 0
        self.sim_s = 0.0


def run(model: Any = None, level: str = "meso", realizations: int = 1000,
        t_sim: Optional[Duration] = None, t_warmup: Optional[Duration] = None,
        dt: Optional[Duration] = None, seed: int = 1, backend: str = "auto",
        threads: Optional[int] = None, record_realizations: int = 1, stats: str = "full",
        progress: bool = True, out: "Optional[str | os.PathLike[str]]" = None, *,
        first: int = 0, noise: str = "binomial", record_bin: Optional[Duration] = None,
        stats_bin: Optional[Duration] = None, psd_df: Union[str, float, None] = None,
        psd_bin: Optional[Duration] = None, onesided: bool = False,
        switch_observable: Optional[str] = None, switch_smooth: Optional[Duration] = None,
        switch_thresholds: Optional[Tuple[float, float]] = None,
        hist_max: Union[str, float, None] = None, hist_bins: Optional[int] = None,
        batch: int = 0, connectivity: str = "per-realization", theory: bool = False,
        force: bool = False) -> Result:
    """Simulate ``realizations`` realizations of ``model`` and return a :class:`Result`.

    The options are those of ``mesogif run`` under their Python names: the same values give the
    same statistics, bit for bit. ``model`` is a :class:`Model`, a dict, a model file name, or
    None for the default B1. Durations are strings with units ("10s", "0.5ms") or seconds as
    numbers; ``t_sim``, ``t_warmup``, ``dt``, ``record_bin`` and ``stats_bin`` left at None take
    the model's "simulation" block, else the command line's defaults (10 s, a warm-up of
    min(1 s, t_sim/10), 0.5 ms, bins of 1 ms and 10 ms in whole steps of dt).
    ``threads=None`` uses every core. ``stats`` is "full" or "basic" (moments only);
    ``psd_df`` is a frequency or "off". ``progress=True`` shows a tqdm bar (also in Jupyter).
    With ``out`` the result is also written there (refused if it exists, unless ``force``).

    Ctrl-C (KeyboardInterrupt) cancels the run through the library's cancel flag: the call
    returns within a fraction of a second, raises KeyboardInterrupt and writes nothing.
    Bad options raise :class:`OptionError` (ValueError) or TypeError, bad models
    :class:`ModelError`, both with the command line's message; run-time failures
    :class:`RunError`.
    """
    m = _as_model(model)
    o = ffi.new("mg_run_opts *")
    lib.mg_run_opts_default(o)
    o.level = _choice("level", level, _LEVELS)
    o.noise = _choice("noise", noise, _NOISE)
    o.backend = _choice("backend", backend, _BACKENDS)
    o.connectivity = _choice("connectivity", connectivity, _CONNECTIVITY)
    if level == "micro" and noise != "binomial":
        raise OptionError("--noise: does not apply to the micro level")
    o.realization_count = _int("realizations", realizations, 1, 2**62)
    o.realization_first = _int("first", first, 0, 2**62)
    o.realizations_total = o.realization_count
    o.shard_index, o.shard_count = 0, 1
    o.record_realizations = _int("record_realizations", record_realizations, 0, 1000000)
    o.seed = _int("seed", seed, 0, 2**32 - 1)
    o.threads = 0 if threads is None else _int("threads", threads, 1, 4096)
    o.batch = _int("batch", batch, 0, 2**40)
    _times(o, m, dt, t_sim, t_warmup, record_bin, stats_bin)
    if not isinstance(stats, str) or stats not in ("full", "basic"):
        raise OptionError(f"stats: {stats!r} (allowed: full, basic)")
    o.stats_basic = 1 if stats == "basic" else 0
    if psd_df is not None:
        if psd_df == "off":
            o.psd_df_hz = -1.0
        else:
            o.psd_df_hz = frequency_hz("psd_df", psd_df)
            if not o.psd_df_hz > 0:
                raise OptionError(f"psd_df: {psd_df!r} (allowed: a frequency > 0 or 'off')")
    if psd_bin is not None:
        o.psd_bin_ms = duration_ms("psd_bin", psd_bin)
        if not o.psd_bin_ms > 0:
            raise OptionError(f"psd_bin: {psd_bin!r} (allowed: a duration > 0)")
    o.onesided = 1 if onesided else 0
    _switch_analysis(o, m, switch_observable, switch_smooth, switch_thresholds)
    if hist_max is not None:
        o.hist_max_hz = frequency_hz("hist_max", hist_max)
        if not o.hist_max_hz > 0:
            raise OptionError(f"hist_max: {hist_max!r} (allowed: a rate > 0)")
    if hist_bins is not None:
        o.hist_bins = _int("hist_bins", hist_bins, 1, 1000000)
    o.theory = 1 if theory else 0
    out_path = None
    if out is not None:
        if not isinstance(out, (str, os.PathLike)):
            raise TypeError(f"out: expected a file name, not {type(out).__name__}")
        out_path = os.fspath(out)
        if os.path.exists(out_path) and not force:
            raise FileExistsError(f"{out_path}: exists (use force=True to overwrite)")
        folder = os.path.dirname(os.path.abspath(out_path))
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OptionError(f"--out: {out_path}: folder '{folder}' is not writable (allowed: "
                              "a file in an existing, writable folder)")

    # validate everything (options against the model, memory) before running
    per, total = ffi.new("double *"), ffi.new("double *")
    err = ffi.new("mg_err *")
    rc = lib.mg_run_estimate(m._m, o, per, total, err)
    if rc != lib.MG_OK:
        raise _model_error(m, err_msg(err))
    if backend == "cuda":
        name = ffi.new("char[160]")
        if not lib.mg_cuda_available(name, 160):
            raise OptionError(f"--backend cuda: {ffi.string(name).decode()}")

    state = _Progress()
    state.total = int(o.realization_count)

    @ffi.callback("void(const mg_progress *, void *)")
    def on_progress(p, user):  # runs on the library's thread: record only
        state.done = int(p.realizations_done)
        state.sim_s = float(p.sim_s_done)

    cancel = ffi.new("int *", 0)
    o.progress = on_progress
    o.cancel = cancel
    res = ffi.new("mg_result *")
    bar = None
    if progress and _tqdm is not None:
        bar = _tqdm(total=state.total, unit="real", desc=f"mesogif {level}", leave=True)

    def call():
        # the closure keeps everything the library points to alive while it runs (a struct
        # field does not keep a cffi object alive)
        keep = (m, o, res, err, cancel, on_progress)  # noqa: F841
        return lib.mg_run(m._m, o, res, err)

    def poll():
        if bar is not None and state.done > bar.n:
            bar.update(state.done - bar.n)

    try:
        rc, interrupted = call_cancellable(call, cancel, "mesogif.run", poll)
    finally:
        if bar is not None:
            bar.close()
    rc = lib.MG_EINTR if rc is None else rc
    if rc == lib.MG_ENUM:
        # a numerical fault: a partial result is held; free it and report
        lib.mg_result_free(res)
        raise RunError(err_msg(err))
    if rc != lib.MG_OK:
        if interrupted or rc in (lib.MG_EINTR, lib.MG_ESTOPPED):
            raise KeyboardInterrupt("mesogif.run: cancelled; nothing written")
        if rc == lib.MG_EINVAL:
            raise _model_error(m, err_msg(err))
        raise RunError(err_msg(err))
    if interrupted:
        lib.mg_result_free(res)
        raise KeyboardInterrupt("mesogif.run: cancelled; nothing written")
    r = Result._from_run(res, m, level, noise)
    if out_path is not None:
        r.to_hdf5(out_path, force=force)
    return r
