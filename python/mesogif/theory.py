"""mesogif.theory: what ``mesogif theory`` prints, as data (include/mesogif/theory.h)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Optional, Union

import numpy as np

from ._ffi import cstr, err_msg, ffi, lib
from .errors import ModelError, OptionError
from .run import _as_model, duration_ms, frequency_hz


@dataclass
class PopulationTheory:
    """One population alone at its mean input mu (quasi-renewal theory)."""
    name: str
    N: int
    mu_mV: float
    A0_hz: float
    cv: float
    gain_hz_per_mV: float


@dataclass
class FixedPoint:
    """A fixed point A = Phi(mu + w A) of the mean-field network with its stability."""
    A_hz: np.ndarray
    h_mV: np.ndarray
    gain_hz_per_mV: np.ndarray
    cv: np.ndarray
    static_eig: complex
    static_stable: bool
    n_unstable: int
    stable: bool
    psd: Optional[np.ndarray] = None  # [P, F] two-sided (Hz) at a stable fixed point, else None


@dataclass
class Theory:
    """``populations`` (uncoupled, at mu), ``fixed_points`` (sorted as the CLI prints them),
    ``complete`` (exhaustive search, P <= 2), and the spectra at ``freq_hz`` of every stable
    fixed point (``FixedPoint.psd``)."""
    model_name: str
    population_names: List[str]
    populations: List[PopulationTheory]
    fixed_points: List[FixedPoint]
    complete: bool
    rate_max_hz: float
    freq_hz: np.ndarray
    at_ms: Optional[float] = None


def theory(model: Any = None, rate_max: Union[str, float] = 200.0,
           freqs: tuple = (0.1, 1000.0, 41), at: Any = None) -> Theory:
    """The stationary rates, fixed points with stability and spectra of ``mesogif theory``
    (same options: ``rate_max`` as --rate-max, ``freqs`` = (fmin, fmax, n) log-spaced as
    --freqs, ``at`` a duration as --at: step currents evaluated then; default ignored)."""
    m = _as_model(model)
    rmax = frequency_hz("rate_max", rate_max)
    if not rmax > 0:
        raise OptionError(f"--rate-max: {rate_max!r} (allowed: a rate > 0, e.g. 200 or 200Hz)")
    try:
        fmin, fmax, nf = freqs
        fmin, fmax = float(fmin), float(fmax)
        if isinstance(nf, bool) or int(nf) != nf:
            raise ValueError
        nf = int(nf)
    except (TypeError, ValueError):
        raise OptionError(f"--freqs: {freqs!r} (allowed: (FMIN, FMAX, N))") from None
    if not (fmin > 0 and fmax >= fmin and 0 <= nf <= 100000):
        raise OptionError(f"--freqs: {freqs!r} (allowed: FMIN,FMAX,N with 0 < FMIN <= FMAX in "
                          "Hz and N >= 0, e.g. 0.1,1000,41)")
    t_ms = -1.0
    if at is not None:
        t_ms = duration_ms("--at", at)
        if not t_ms >= 0:
            raise OptionError(f"--at: {at!r} is not a duration >= 0")
    P = m._m.P
    names = m.population_names
    err = ffi.new("mg_err *")
    mu = ffi.new("double[]", P)
    lib.mg_theory_mu(m._m, t_ms, mu)
    pops = []
    for a in range(P):
        r = ffi.new("mg_renewal *")
        rc = lib.mg_theory_stationary_pop(ffi.addressof(m._m.pops[a]), mu[a], r, err)
        if rc != lib.MG_OK:
            raise ModelError(f"{m.source}: populations[{a}] ({names[a]}): {err_msg(err)}")
        pops.append(PopulationTheory(names[a], int(m._m.pops[a].N), mu[a], r.A0_hz, r.cv,
                                     r.gain_hz_per_mV))
        lib.mg_renewal_free(r)
    fps = ffi.new("mg_fixed_points *")
    rc = lib.mg_theory_fixed_points_at(m._m, rmax, t_ms, fps, err)
    if rc != lib.MG_OK:
        raise ModelError(f"{m.source}: {err_msg(err)}")
    f = np.array([fmin if nf == 1 else fmin * math.pow(fmax / fmin, i / (nf - 1))
                  for i in range(nf)], dtype=np.float64)
    out = []
    try:
        for k in range(fps.n):
            fp = fps.fp[k]
            x = FixedPoint(
                A_hz=np.array([fp.A_hz[a] for a in range(P)]),
                h_mV=np.array([fp.h_mV[a] for a in range(P)]),
                gain_hz_per_mV=np.array([fp.gain_hz_per_mV[a] for a in range(P)]),
                cv=np.array([fp.cv[a] for a in range(P)]),
                static_eig=complex(fp.static_eig_re, fp.static_eig_im),
                static_stable=bool(fp.static_stable), n_unstable=int(fp.n_unstable),
                stable=bool(fp.stable))
            if fp.stable and nf > 0:
                S = ffi.new("double[]", P * nf)
                fc = ffi.new("double[]", list(f))
                rc = lib.mg_theory_spectrum_at(m._m, t_ms, fp.A_hz, fc, nf, S, err)
                if rc != lib.MG_OK:
                    raise ModelError(f"{m.source}: fixed point {k + 1}: {err_msg(err)}")
                x.psd = np.frombuffer(ffi.buffer(S, 8 * P * nf), dtype=np.float64).reshape(
                    P, nf).copy()
            out.append(x)
        complete = bool(fps.complete)
    finally:
        lib.mg_fixed_points_free(fps)
    return Theory(m.name, names, pops, out, complete, rmax, f, None if t_ms < 0 else t_ms)
