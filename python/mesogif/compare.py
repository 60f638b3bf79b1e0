"""mesogif.compare: the table of ``mesogif compare A.h5 B.h5`` over two Results.

The comparison logic of the command line lives in src/cli/cli_compare.c (not in the library), so it
is reimplemented here over the same sufficient statistics, row for row and with the same
formulas (docs/COMPARE.md): moments with Welch's t mapped to the normal scale, spectra in
log-spaced bands with the band error of the command line, switching rates by Poisson counts and
mean dwells by their CVs; Bonferroni threshold z* = Phi^-1(1 - alpha / (2 m)). The t and normal
distributions are GSL's (the library's own dependency, called through it), so that z-scores
match the command line's to the last digit printed (python/tests/test_compare.py checks this).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np

from ._ffi import lib
from .errors import MesogifError, OptionError
from .result import Result, load


@dataclass
class Row:
    """One row: ``a`` and ``b`` are the files' values, ``ratio`` = b / a, ``z`` the
    normal-equivalent z of the excess of |b - a| over the tolerance (0 when within it);
    ``judged`` False rows are shown only (``note`` says why); ``ok`` = |z| < z*."""
    quantity: str
    a: float
    b: float
    a_err: float
    b_err: float
    ratio: float
    d: float
    se: float
    tol: float
    df: float
    judged: bool
    z: float
    ok: bool
    note: str = ""


@dataclass
class Comparison:
    rows: List[Row]
    agree: bool
    zstar: float
    n_judged: int
    alpha: float

    def __bool__(self) -> bool:
        return self.agree

    def table(self) -> str:
        """The rows as text, in the command line's layout."""
        lines = [f"{'quantity':40s} {'A':>14s} {'B':>14s} {'B/A':>8s} {'z':>7s}"]
        for r in self.rows:
            z = f"{r.z:+.2f}" if r.judged else ""
            ratio = f"{r.ratio:.4f}" if math.isfinite(r.ratio) else ""
            verdict = r.note if not r.judged else ("ok" if r.ok else "DIFFERS")
            lines.append(f"{r.quantity:40s} {r.a:14.5g} {r.b:14.5g} {ratio:>8s} {z:>7s}  "
                         f"{verdict}")
        lines.append(("agree" if self.agree else "DISAGREE") +
                     f": {sum(not r.ok for r in self.rows)} of {self.n_judged} rows beyond "
                     f"|z| = {self.zstar:.2f}")
        return "\n".join(lines)


def _welch_df(se_a, se_b, Ra, Rb):
    va, vb = se_a * se_a, se_b * se_b
    den = va * va / (Ra - 1.0) + vb * vb / (Rb - 1.0)
    return (va + vb) * (va + vb) / den if den > 0 else math.inf


def _div(x, y):
    with np.errstate(all="ignore"):
        return float(np.float64(x) / np.float64(y))


def _as_result(x: Any, name: str) -> Result:
    if isinstance(x, Result):
        return x
    if isinstance(x, (str, os.PathLike)):
        return load(x)
    raise TypeError(f"compare: {name} must be a mesogif.Result or a result file name, not "
                    f"{type(x).__name__}")


def compare(a: Any, b: Any, alpha: float = 0.01, bands: int = 8, fmin: float = 0.0,
            fmax: float = 0.0, rel_tol: float = 0.0, dwell_factor: float = 1.3,
            min_dwells: int = 100) -> Comparison:
    """Do two results (Result objects or file names) show the same statistics? The options are
    those of ``mesogif compare`` (--alpha, --bands, --fmin, --fmax in Hz, --rel-tol,
    --dwell-factor, --min-dwells). Returns a :class:`Comparison` (rows and ``agree``). Results
    that cannot be compared (different populations or statistics options, fewer than two
    realizations) raise :class:`MesogifError` with the command line's message."""
    A, B = _as_result(a, "a"), _as_result(b, "b")
    for name, v, lo, hi in (("--alpha", alpha, 1e-12, 0.5), ("--bands", bands, 1, 1000),
                            ("--rel-tol", rel_tol, 0, 10), ("--dwell-factor", dwell_factor, 1, 1e6),
                            ("--min-dwells", min_dwells, 2, 1e15)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise OptionError(f"{name}: {v!r} (allowed: a number in [{lo:g}, {hi:g}])")
    if bands != int(bands) or min_dwells != int(min_dwells):
        raise OptionError("--bands, --min-dwells: whole numbers")
    if not (isinstance(fmin, (int, float)) and fmin >= 0 and isinstance(fmax, (int, float))
            and fmax >= 0):
        raise OptionError("--fmin/--fmax: frequencies >= 0 (Hz)")
    if fmax > 0 and fmin >= fmax:
        raise OptionError(f"--fmin: {fmin:g} Hz (allowed: below --fmax, {fmax:g} Hz)")
    if A.population_names != B.population_names:
        raise MesogifError(f"B: populations {B.population_names}, but {A.population_names} in A "
                           "(allowed: the same populations in the same order)")
    sa, sb = A._sums, B._sums
    if sa["cfg"] != sb["cfg"] or sa["F"] != sb["F"]:
        diff = [k for k in sa["cfg"] if sa["cfg"][k] != sb["cfg"].get(k)]
        raise MesogifError(f"B: statistics options differ from A: {', '.join(diff) or 'F'} "
                           "(allowed: the same statistics options; rerun one with the other's)")
    oa, ia, da = sa["offsets"], sa["i"], sa["d"]
    ib, db = sb["i"], sb["d"]
    for nm, s in (("A", sa), ("B", sb)):
        if s["i"][oa["i_nreal"]] < 2:
            raise MesogifError(f"{nm}: {int(s['i'][oa['i_nreal']])} realization(s) with "
                               "statistics (allowed: >= 2: the error bars come from the spread "
                               "across realizations)")
    P, F = sa["P"], sa["F"]
    names = A.population_names
    rows: List[Row] = []

    def add(q, va, vb, ea, eb, d, se, tol, df, judged, note=""):
        rows.append(Row(q, va, vb, ea, eb, _div(vb, va), d, se, tol, df, judged, 0.0, True,
                        note))

    Ra, Rb = float(ia[oa["i_nreal"]]), float(ib[oa["i_nreal"]])
    for p in range(P):
        for what in range(2):
            if what == 0:
                q = f"mean A {names[p]} (Hz)"
                va, vb = float(A.mean_A[p]), float(B.mean_A[p])
                ea, eb = float(A.mean_A_sem[p]), float(B.mean_A_sem[p])
            else:
                q = f"var A {names[p]} within (Hz^2)"
                va = da[oa["d_v1"] + p] / Ra if Ra > 0 else math.nan
                vb = db[oa["d_v1"] + p] / Rb if Rb > 0 else math.nan
                ea, eb = float(A.var_A_sem[p]), float(B.var_A_sem[p])
            add(q, va, vb, ea, eb, vb - va, math.sqrt(ea * ea + eb * eb),
                rel_tol * 0.5 * (abs(va) + abs(vb)), _welch_df(ea, eb, Ra, Rb), True)
    # spectra where both formed a segment; switching where both declared an observable
    if F > 0 and ia[oa["i_psd_seg"]] > 0 and ib[oa["i_psd_seg"]] > 0:
        fa = A.freq
        lo = fmin if fmin > fa[0] else fa[0]
        hi = fmax if 0 < fmax < fa[F - 1] else fa[F - 1]
        Rpa, Rpb = float(ia[oa["i_psd_nreal"]]), float(ib[oa["i_psd_nreal"]])
        Ma = _div(ia[oa["i_psd_seg"]], Rpa)
        Mb = _div(ib[oa["i_psd_seg"]], Rpb)
        side = "one-sided" if sa["cfg"]["onesided"] else "two-sided"
        psd_n = sa["cfg"]["psd_n"]
        for p in range(P):
            for bnd in range(int(bands)):
                e0 = lo * math.pow(hi / lo, bnd / bands)
                e1 = lo * math.pow(hi / lo, (bnd + 1) / bands)
                ma = mb = xa = xb = sqa = sqb = 0.0
                cnt = 0
                for k in range(F):
                    f = fa[k]
                    if f < e0 * (1 - 1e-12) or (f >= e1 * (1 - 1e-12) if bnd < bands - 1
                                                else f > e1 * (1 + 1e-12)):
                        continue
                    pa, pb = A.psd[p, k], B.psd[p, k]
                    ma += pa
                    mb += pb
                    w = 2.0 if psd_n % 2 == 0 and k == F - 1 else 1.0
                    sqa += w * pa * pa / Ma
                    sqb += w * pb * pb / Mb
                    xa += A.psd_sem[p, k] * A.psd_sem[p, k] * Rpa
                    xb += B.psd_sem[p, k] * B.psd_sem[p, k] * Rpb
                    cnt += 1
                if cnt == 0:
                    continue
                ma /= cnt
                mb /= cnt
                ea = math.sqrt((sqa / cnt / cnt + max(0.0, (xa - sqa) / cnt)) / Rpa)
                eb = math.sqrt((sqb / cnt / cnt + max(0.0, (xb - sqb) / cnt)) / Rpb)
                add(f"PSD {names[p]} {e0:.3g}-{e1:.3g} Hz (Hz, {side})", ma, mb, ea, eb,
                    mb - ma, math.sqrt(ea * ea + eb * eb), rel_tol * 0.5 * (abs(ma) + abs(mb)),
                    _welch_df(ea, eb, Rpa, Rpb), True)
    state = ("low", "high")
    swa, swb = A.switching, B.switching
    for s in range(2 if swa is not None and swb is not None else 0):
        na, nb = float(swa.n_exits[s]), float(swb.n_exits[s])
        Ta, Tb = float(swa.exposure_s[s]), float(swb.exposure_s[s])
        if Ta > 0 and Tb > 0 and na + nb > 0:
            add(f"switch rate from {state[s]} (Hz)", swa.rate_hz[s], swb.rate_hz[s], math.nan,
                math.nan, math.log((nb + 0.5) / Tb) - math.log((na + 0.5) / Ta),
                math.sqrt(1.0 / (na + 0.5) + 1.0 / (nb + 0.5)), math.log1p(rel_tol), math.inf,
                True)
        else:
            add(f"switch rate from {state[s]} (Hz)", swa.rate_hz[s], swb.rate_hz[s], math.nan,
                math.nan, math.nan, math.nan, 0.0, math.inf, False, "no exits")
        dA, dB = float(swa.n_complete[s]), float(swb.n_complete[s])
        q = f"mean dwell in {state[s]} (s)"
        ma, mb = float(swa.mean_dwell_s[s]), float(swb.mean_dwell_s[s])
        if dA >= min_dwells and dB >= min_dwells:
            ca, cb = float(swa.cv_dwell[s]), float(swb.cv_dwell[s])
            with np.errstate(all="ignore"):
                d = float(np.log(np.float64(mb) / np.float64(ma)))
            add(q, ma, mb, math.nan, math.nan, d, math.sqrt(ca * ca / dA + cb * cb / dB),
                math.log(dwell_factor), math.inf, True)
        else:
            add(q, ma, mb, math.nan, math.nan, math.nan, math.nan, 0.0, math.inf, False,
                "too few complete dwells")
    m = 0
    for r in rows:
        if r.judged and (not math.isfinite(r.d) or not r.se >= 0):
            r.judged, r.note = False, "undefined"
        m += r.judged
    if m == 0:
        raise MesogifError("nothing to compare (no statistics with error bars)")
    zstar = lib.gsl_cdf_ugaussian_Qinv(alpha / (2.0 * m))
    for r in rows:
        r.z, r.ok = 0.0, True
        if not r.judged:
            continue
        excess = abs(r.d) - r.tol
        if excess > 0:
            t = excess / r.se if r.se > 0 else math.inf
            z = t
            if math.isfinite(r.df) and math.isfinite(t):
                p2 = lib.gsl_cdf_tdist_Q(t, r.df)
                z = lib.gsl_cdf_ugaussian_Qinv(p2) if p2 > 1e-300 else t
            r.z = -z if r.d < 0 else z
        r.ok = abs(r.z) < zstar
    return Comparison(rows, all(r.ok for r in rows), zstar, m, alpha)
