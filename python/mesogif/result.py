"""mesogif.Result and mesogif.load: the statistics, traces and spikes of a run as numpy arrays."""
from __future__ import annotations

import os
import shutil
import weakref
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from ._ffi import cstr, err_msg, ffi, lib
from .errors import MesogifError, RunError

# the layout offsets of mg_stats_layout (include/mesogif/stats.h) kept for compare()
_I_FIELDS = ("i_count", "i_nreal", "i_psd_seg", "i_psd_nreal", "i_hist_A", "i_hist_obs",
             "i_sw_exits", "i_sw_done", "i_sw_cens", "i_sw_hist", "i_isi_hist", "i_isi_n")
_D_FIELDS = ("d_s1", "d_s2", "d_m1", "d_m2", "d_v1", "d_v2", "d_psd", "d_psd_m1", "d_psd_m2",
             "d_csd_re", "d_csd_im", "d_sw_expo", "d_sw_d1", "d_sw_d2", "d_isi_s1", "d_isi_s2")
_CFG_FIELDS = ("bin_ms", "psd_n", "psd_bin_ms", "onesided", "hist_bins", "hist_max_hz",
               "obs_bins", "obs_max_hz", "sw_window", "sw_lo", "sw_hi", "dwell_bins",
               "dwell_min_s", "dwell_max_s", "basic", "isi_bins", "isi_max_s")


@dataclass
class Switching:
    """Switching of the observable between its low (index 0) and high (index 1) state
    (docs/FILE_FORMAT.md, /stats/switching): per state the exits, the time observed (s), the
    exit rate (Hz) with its exact 95 % limits, complete and censored dwells, the mean dwell (s)
    and its coefficient of variation."""
    observable: str
    thresholds_hz: np.ndarray
    smoothing_ms: float
    n_exits: np.ndarray
    exposure_s: np.ndarray
    rate_hz: np.ndarray
    rate_ci_low: np.ndarray
    rate_ci_high: np.ndarray
    n_complete: np.ndarray
    n_censored: np.ndarray
    mean_dwell_s: np.ndarray
    cv_dwell: np.ndarray


def _arr(ptr, n: int, dtype=np.float64) -> np.ndarray:
    """A numpy copy of n values at a C pointer (empty for NULL or n = 0)."""
    if ptr == ffi.NULL or n <= 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(ffi.buffer(ptr, n * np.dtype(dtype).itemsize), dtype=dtype).copy()


def _stats_fields(s, switching: bool) -> Dict[str, Any]:
    """Everything Result keeps of a finalized mg_stats (copies; s may be freed afterwards).
    switching: whether the run analysed switching (an observable was declared); spectra are
    kept only when a segment was formed (as the files keep them)."""
    L = s.L
    P, F = int(L.P), int(L.F)
    c = L.cfg
    out: Dict[str, Any] = {
        "mean_A": _arr(s.mean_A, P), "var_A": _arr(s.var_A, P),
        "cov_A": _arr(s.cov_A, P * P).reshape(P, P),
        "mean_A_sem": _arr(s.mean_A_sem, P), "var_A_sem": _arr(s.var_A_sem, P),
        "freq": _arr(s.freq, F), "psd": _arr(s.psd, P * F).reshape(P, F),
        "psd_sem": _arr(s.psd_sem, P * F).reshape(P, F),
    }
    i = _arr(s.i, int(L.n_i), np.int64)
    d = _arr(s.d, int(L.n_d))
    if F > 0 and i[L.i_psd_seg] == 0:
        for k in ("freq", "psd", "psd_sem"):
            out[k] = np.zeros((0,) if k == "freq" else (P, 0))
    sw = None if not switching or c.basic else Switching(
        observable=cstr(c.observable), thresholds_hz=np.array([c.sw_lo, c.sw_hi]),
        smoothing_ms=float(c.sw_window * c.bin_ms),
        n_exits=i[L.i_sw_exits:L.i_sw_exits + 2].copy(),
        exposure_s=d[L.d_sw_expo:L.d_sw_expo + 2].copy(),
        rate_hz=np.array(list(s.rate_hz)), rate_ci_low=np.array(list(s.rate_ci_low)),
        rate_ci_high=np.array(list(s.rate_ci_high)),
        n_complete=i[L.i_sw_done:L.i_sw_done + 2].copy(),
        n_censored=i[L.i_sw_cens:L.i_sw_cens + 2].copy(),
        mean_dwell_s=np.array(list(s.mean_dwell_s)), cv_dwell=np.array(list(s.cv_dwell)))
    out["switching"] = sw
    out["_sums"] = {
        "i": i, "d": d, "P": P, "F": F,
        "offsets": {k: int(getattr(L, k)) for k in _I_FIELDS + _D_FIELDS},
        "cfg": {k: getattr(c, k) for k in _CFG_FIELDS} |
               {"observable": cstr(c.observable), "sw_coef": list(c.sw_coef)},
    }
    return out


def _free_result(res, keep) -> None:
    lib.mg_result_free(res)


class Result:
    """What a run produced, or what a result file holds (:func:`load`).

    Attributes (numpy arrays; P populations in model order, F frequencies):

    - ``population_names``: list of P names;
    - ``mean_A`` [P] (Hz), ``var_A`` [P] (Hz^2), ``cov_A`` [P, P] (Hz^2), ``mean_A_sem`` [P],
      ``var_A_sem`` [P]: moments of A after the warm-up;
    - ``freq`` [F] (Hz), ``psd`` [P, F] (Hz, two-sided unless the run was one-sided),
      ``psd_sem`` [P, F]: spectra (empty with spectra off);
    - ``switching``: a :class:`Switching`, or None when no observable was declared (option
      ``switch_observable`` or the model's "switch_observable") or with ``stats="basic"``;
    - ``traces`` [realization, population, bin] float32 (Hz): A_N of the recorded realizations,
      ``traces_bar`` the same for the expectation A_bar (meso; None for micro), ``t_ms`` [T]
      the start of each bin (ms) and ``t_s`` the same in seconds, ``trace_realizations`` [k]
      the realization index of each row;
    - ``spikes`` (micro runs): {population: (t_ms, node_id)} (SONATA layout);
    - ``config``: a dict of the run (level, noise, seed, dt_ms, t_sim_ms, t_warmup_ms,
      realization_first, realization_count, backend, device, model_json, run_hash, ...).

    :meth:`to_hdf5` writes the file ``mesogif run`` would write (format 1). The C memory of a
    run's result is freed when the object is collected (or by :meth:`close`).
    """

    population_names: List[str]
    mean_A: np.ndarray
    var_A: np.ndarray
    cov_A: np.ndarray
    mean_A_sem: np.ndarray
    var_A_sem: np.ndarray
    freq: np.ndarray
    psd: np.ndarray
    psd_sem: np.ndarray
    switching: Optional[Switching]
    traces: np.ndarray
    traces_bar: Optional[np.ndarray]
    t_ms: np.ndarray
    trace_realizations: np.ndarray
    spikes: Optional[Dict[str, Any]]
    config: Dict[str, Any]

    def __init__(self):
        self._res = None        # mg_result * of a run (owned), for to_hdf5
        self._model = None      # its mesogif.Model
        self._path = None       # the file a loaded result came from
        self._finalizer = None

    # ---- from a run ----------------------------------------------------------------------
    @classmethod
    def _from_run(cls, res, model, level: str, noise: str) -> "Result":
        r = cls()
        r._res, r._model = res, model
        r._finalizer = weakref.finalize(r, _free_result, res, model)
        P = int(res.P)
        r.population_names = [cstr(res.pop_names[p]) for p in range(P)]
        declared = res.opts.switch_observable[0] != b"\0"
        for k, v in _stats_fields(res.stats, declared).items():
            setattr(r, k, v)
        k, T = int(res.trace_k), int(res.trace_T)
        r.traces = _arr(res.A_N, k * P * T, np.float32).reshape(k, P, T)
        r.traces_bar = (_arr(res.A_bar, k * P * T, np.float32).reshape(k, P, T)
                        if res.A_bar != ffi.NULL else None)
        bin_ms = float(res.trace_bin_ms)
        r.t_ms = bin_ms * np.arange(T, dtype=np.float64)
        o = res.opts
        r.trace_realizations = np.arange(int(o.realization_first),
                                         int(o.realization_first) + k, dtype=np.int64)
        r.spikes = None
        if res.spikes != ffi.NULL:
            r.spikes = {}
            for p in range(P):
                s = res.spikes[p]
                r.spikes[r.population_names[p]] = (_arr(s.t_ms, int(s.n)),
                                                   _arr(s.node_id, int(s.n), np.uint64))
        r.config = {
            "level": level, "noise": noise, "seed": int(o.seed), "dt_ms": o.dt_ms,
            "t_sim_ms": o.t_sim_ms, "t_warmup_ms": o.t_warmup_ms,
            "record_bin_ms": o.record_bin_ms, "stats_bin_ms": o.stats_bin_ms,
            "realization_first": int(o.realization_first),
            "realization_count": int(o.realization_count),
            "record_realizations": k, "backend": cstr(res.backend_name),
            "device": cstr(res.device), "wall_s": float(res.wall_s),
            "run_hash": cstr(res.run_hash), "model_name": model.name,
            "model_json": model.json, "model_source": model.source,
            "partial": int(res.partial),
        }
        return r

    # ---- common --------------------------------------------------------------------------
    @property
    def t_s(self) -> np.ndarray:
        """Start of each trace bin in seconds."""
        return self.t_ms * 1e-3

    @property
    def model(self):
        """The model of the run (a mesogif.Model, parsed from the file for loaded results)."""
        if self._model is None:
            from .model import Model
            self._model = Model.from_json(self.config["model_json"],
                                          self.config.get("model_source", "<file>"))
        return self._model

    def close(self) -> None:
        """Free the C result now (the numpy arrays stay; to_hdf5 is then unavailable)."""
        if self._finalizer is not None:
            self._finalizer()
        self._res = None

    def to_hdf5(self, path: "str | os.PathLike[str]", force: bool = False,
                command_line: str = "python: mesogif.run") -> str:
        """Write the result file (format 1, docs/FILE_FORMAT.md) to ``path`` as ``mesogif run``
        does: through ``path.partial``, never a half-written file; an existing file is kept
        unless ``force``. Returns the path. A loaded result copies its file the same way."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"to_hdf5: path must be a str or os.PathLike, not "
                            f"{type(path).__name__}")
        p = os.fspath(path)
        if self._res is not None:
            err = ffi.new("mg_err *")
            rc = lib.mg_h5_write_result(p.encode(), self._res, self._model._m,
                                        command_line.encode(), 1 if force else 0, err)
            if rc != lib.MG_OK:
                raise (FileExistsError if os.path.exists(p) and not force else RunError)(
                    err_msg(err))
            return p
        if self._path is None:
            raise MesogifError("to_hdf5: this result has no C result and no source file "
                               "(closed)")
        if os.path.exists(p) and not force:
            raise FileExistsError(f"{p}: exists (use force=True to overwrite)")
        tmp = p + ".partial"
        try:
            shutil.copyfile(self._path, tmp)
            os.replace(tmp, p)
        except OSError as e:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise RunError(f"{p}: {e.strerror or e}") from None
        return p

    def __repr__(self) -> str:
        c = self.config
        return (f"<mesogif.Result {c.get('model_name', '?')} {c.get('level')}: "
                f"{c.get('realization_count')} realizations x {c.get('t_sim_ms')} ms, "
                f"mean A {np.array2string(self.mean_A, precision=3)} Hz>")


def load(path: "str | os.PathLike[str]") -> Result:
    """A :class:`Result` from a format-1 result file (a run, a shard, a merge, micro with
    spikes). The statistics come through the library's reader (mg_h5_read_stats: the same
    numbers as the run that wrote the file), the rest through h5py. Raises
    :class:`MesogifError` (with the reader's message) for a file that is not a result."""
    import h5py

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load: path must be a str or os.PathLike, not {type(path).__name__}")
    p = os.fspath(path)
    s = ffi.new("mg_stats *")
    err = ffi.new("mg_err *")
    if lib.mg_h5_read_stats(p.encode(), s, err) != lib.MG_OK:
        raise MesogifError(err_msg(err))
    r = Result()
    r._path = os.path.abspath(p)
    try:
        with h5py.File(p, "r") as f:
            declared = "/stats/switching" in f
    except OSError as e:
        lib.mg_stats_free(s)
        raise MesogifError(f"{p}: {e}") from None
    try:
        for k, v in _stats_fields(s, declared).items():
            setattr(r, k, v)
    finally:
        lib.mg_stats_free(s)

    def attr(obj, name, default=None):
        v = obj.attrs.get(name, default)
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, np.generic):
            v = v.item()
        return v

    try:
        with h5py.File(p, "r") as f:
            r.population_names = [n for n in f["/config/populations"].asstr()[()]]
            P = len(r.population_names)
            r.config = {k: attr(f, k) for k in f.attrs.keys()}
            r.config["model_json"] = f["/config/model_json"].asstr()[()]
            r.config["model_source"] = (f["/config/model_source"].asstr()[()]
                                        if "/config/model_source" in f else p)
            if "/config/options" in f:
                for k in f["/config/options"].attrs.keys():
                    r.config.setdefault(k, attr(f["/config/options"], k))
            import json as _json
            r.config["model_name"] = _json.loads(r.config["model_json"]).get("name", "?")
            if "/traces/A_N" in f:
                ds = f["/traces/A_N"]
                r.traces = ds[()]
                r.traces_bar = f["/traces/A_bar"][()] if "/traces/A_bar" in f else None
                T = r.traces.shape[2]
                r.t_ms = float(ds.attrs.get("t0_ms", 0.0)) + float(ds.attrs["dt_ms"]) * \
                    np.arange(T, dtype=np.float64)
                if "/traces/realization_index" in f:
                    r.trace_realizations = f["/traces/realization_index"][()].astype(np.int64)
                else:
                    first = int(ds.attrs.get("realization_first", 0))
                    r.trace_realizations = np.arange(first, first + r.traces.shape[0])
            else:
                r.traces = np.zeros((0, P, 0), dtype=np.float32)
                r.traces_bar = None
                r.t_ms = np.zeros(0)
                r.trace_realizations = np.zeros(0, dtype=np.int64)
            r.spikes = None
            if "/spikes" in f:
                r.spikes = {}
                for name in r.population_names:
                    g = f["/spikes"].get(name)
                    if g is not None:
                        r.spikes[name] = (g["timestamps"][()].astype(np.float64),
                                          g["node_ids"][()].astype(np.uint64))
    except (OSError, KeyError) as e:
        raise MesogifError(f"{p}: not a complete mesogif result ({e})") from None
    return r
