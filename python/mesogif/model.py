"""mesogif.Model: a model parsed and validated by the C library (include/mesogif/model.h)."""
from __future__ import annotations

import json
import os
import weakref
from typing import Any, Dict, Optional

from ._ffi import cstr, err_msg, ffi, lib
from .errors import ModelError

_RULES = {0: "auto", 1: "all_to_all", 2: "fixed_indegree", 3: "pairwise_bernoulli"}


def _free_model(m) -> None:
    lib.mg_model_free(m)


class Model:
    """A network of populations of GIF neurons, as the command line reads it.

    Build one with :meth:`from_file`, :meth:`from_dict`, :meth:`from_json`, :meth:`default` or
    :func:`mesogif.from_nest`. A model that the library refuses raises :class:`ModelError` with
    the message of ``mesogif run`` ("<file>: <JSON path>: <what is wrong> (allowed: ...)").
    The parsed C model is freed when the object is collected.
    """

    def __init__(self, _cdata, _source: str):
        # use the constructors below; _cdata is a parsed mg_model * owned by this object
        self._m = _cdata
        self._source = _source
        # the embedded default: its "simulation" block is the command line's defaults
        self._embedded = _source == "<embedded B1>"
        self._finalizer = weakref.finalize(self, _free_model, _cdata)

    # ---- constructors --------------------------------------------------------------------
    @classmethod
    def _parse(cls, call, shown: str) -> "Model":
        m = ffi.new("mg_model *")
        err = ffi.new("mg_err *")
        rc = call(m, err)
        if rc != lib.MG_OK:
            msg = err_msg(err)
            # as `mesogif run`: an unreadable file is named by the message itself
            raise ModelError(msg if rc == lib.MG_EIO else f"{shown}: {msg}")
        return cls(m, shown)

    @classmethod
    def from_file(cls, path: "str | os.PathLike[str]") -> "Model":
        """Read and validate the model file at ``path`` (JSON, docs/MODEL_FILE.md)."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"Model.from_file: path must be a str or os.PathLike, not "
                            f"{type(path).__name__}")
        p = os.fspath(path)
        return cls._parse(lambda m, e: lib.mg_model_load(p.encode(), m, e), p)

    @classmethod
    def from_json(cls, text: str, source: str = "<json>") -> "Model":
        """Parse model JSON text; ``source`` names it in messages."""
        if not isinstance(text, str):
            raise TypeError(f"Model.from_json: text must be a str, not {type(text).__name__}")
        return cls._parse(lambda m, e: lib.mg_model_parse(text.encode(), source.encode(), m, e),
                          source)

    @classmethod
    def from_dict(cls, d: Dict[str, Any], source: str = "<dict>") -> "Model":
        """A model from a dict with the keys of a model file."""
        if not isinstance(d, dict):
            raise TypeError(f"Model.from_dict: expected a dict, not {type(d).__name__}")
        try:
            text = json.dumps(d, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ModelError(f"{source}: not representable as JSON: {e}") from None
        return cls.from_json(text, source)

    @classmethod
    def default(cls) -> "Model":
        """The embedded default model, the bistable pair B1 (MODEL.md 3(a))."""
        return cls._parse(lambda m, e: lib.mg_model_default(m, e), "<embedded B1>")

    # ---- views ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return cstr(self._m.name)

    @property
    def source(self) -> str:
        """Where the model came from (file name, "<dict>", "<embedded B1>")."""
        return self._source

    @property
    def json(self) -> str:
        """The model text as parsed (verbatim)."""
        return cstr(self._m.json)

    @property
    def population_names(self) -> list:
        return [cstr(self._m.pops[i].name) for i in range(self._m.P)]

    def to_dict(self) -> Dict[str, Any]:
        """The model file's content as a dict (``Model.from_dict(m.to_dict())`` gives m back)."""
        return json.loads(self.json)

    def resolved(self) -> Dict[str, Any]:
        """Every parameter as the library resolved it (defaults filled in, "weight" in pA turned
        into J in mV, names into indices): the basis of ``==`` between models."""
        m = self._m
        pops = []
        for i in range(m.P):
            p = m.pops[i]
            pops.append({
                "name": cstr(p.name), "N": int(p.N), "tau_m": p.tau_m, "C_m": p.C_m,
                "E_L": p.E_L, "V_reset": p.V_reset, "V_T_star": p.V_T_star,
                "Delta_V": p.Delta_V, "lambda_0": p.lambda_0, "t_ref": p.t_ref, "I_e": p.I_e,
                "tau_sfa": [p.tau_sfa[k] for k in range(p.n_sfa)],
                "q_sfa": [p.q_sfa[k] for k in range(p.n_sfa)],
                "len_kernel": int(p.len_kernel),
                "step_times": [p.step_times[k] for k in range(p.n_steps)],
                "step_amps": [p.step_amps[k] for k in range(p.n_steps)],
            })
        proj = []
        for k in range(m.n_proj):
            q = m.proj[k]
            proj.append({"source": q.source, "target": q.target, "J": q.J, "p": q.p,
                         "delay": q.delay, "tau_syn": q.tau_syn, "rule": _RULES.get(q.rule, "?")})
        s = m.sim
        sim = {"dt": s.dt, "t_sim": s.t_sim, "t_warmup": s.t_warmup,
               "record_bin": s.record_bin, "stats_bin": s.stats_bin}
        return {"populations": pops, "projections": proj, "simulation": sim}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return self.resolved() == other.resolved()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<mesogif.Model {self.name!r}: {self._m.P} populations from {self._source}>"
