"""mesogif.from_nest: a Model from what a PyNEST script gives NEST's gif_pop_psc_exp.

A PyNEST script of the mesoscopic model does

    pops = nest.Create("gif_pop_psc_exp", M, params=...)            # one node per population
    nest.Connect(pops[j], pops[i], syn_spec={"weight": w, "delay": d})
    gen = nest.Create("step_current_generator", params={"amplitude_times": [...],
                                                         "amplitude_values": [...]})
    nest.Connect(gen, pops[i])

and ``from_nest`` takes the same dicts (NEST names and units: ms, mV, pA, pF, Hz). Parameters a
script leaves out take NEST's defaults of gif_pop_psc_exp, as NEST would. Values are numbers in
NEST's unit, or strings with a unit ("20 ms", "250pF"): a string in another unit is an error.
"""
from __future__ import annotations

import difflib
import numbers
import re
from typing import Any, Dict, List, Optional, Sequence, Union

from .errors import ModelError
from .model import Model

# gif_pop_psc_exp's parameters: unit, NEST default
_POP_PARAMS = {
    "N": ("", 100), "tau_m": ("ms", 20.0), "C_m": ("pF", 250.0), "E_L": ("mV", 0.0),
    "V_reset": ("mV", 0.0), "V_T_star": ("mV", 15.0), "Delta_V": ("mV", 5.0),
    "lambda_0": ("Hz", 10.0), "t_ref": ("ms", 4.0), "I_e": ("pA", 0.0),
    "tau_sfa": ("ms", [300.0]), "q_sfa": ("mV", [0.5]), "len_kernel": ("", -1),
    "tau_syn_ex": ("ms", 3.0), "tau_syn_in": ("ms", 6.0), "BinoRand": ("", True),
}
_SYN_PARAMS = {"weight": "pA", "delay": "ms"}
_GEN_PARAMS = {"amplitude_times": "ms", "amplitude_values": "pA"}
_SIM_KEYS = {"resolution": "dt", "dt": "dt", "simtime": "t_sim", "t_sim": "t_sim",
             "t_warmup": "t_warmup", "interval": "record_bin", "record_bin": "record_bin",
             "stats_bin": "stats_bin"}
_UNIT_SCALE = {"ms": {"ms": 1.0, "s": 1e3, "us": 1e-3}, "mV": {"mV": 1.0, "V": 1e3},
               "pA": {"pA": 1.0, "nA": 1e3}, "pF": {"pF": 1.0, "nF": 1e3},
               "Hz": {"Hz": 1.0, "kHz": 1e3, "1/s": 1.0}}


def _unknown(where: str, key: str, allowed) -> ModelError:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ModelError(f"{where}: '{key}' is not a parameter{hint} (allowed: "
                      f"{', '.join(allowed)})")


def _value(where: str, unit: str, v: Any) -> Any:
    """A number (or list of numbers) in NEST's unit from a number or a string with a unit."""
    if isinstance(v, (list, tuple)):
        return [_value(f"{where}[{i}]", unit, x) for i, x in enumerate(v)]
    if hasattr(v, "tolist"):  # numpy scalars and arrays
        return _value(where, unit, v.tolist())
    if isinstance(v, bool):
        return v
    if isinstance(v, numbers.Real):
        return float(v) if not isinstance(v, numbers.Integral) else int(v)
    if isinstance(v, str):
        mt = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([A-Za-z/1]*)\s*", v)
        if mt:
            try:
                x = float(mt.group(1))
            except ValueError:
                x = None
            u = mt.group(2)
            if x is not None:
                if u == "" or (unit and u in _UNIT_SCALE.get(unit, {})):
                    return x * (_UNIT_SCALE[unit][u] if u else 1.0)
                raise ModelError(f"{where}: '{v}' is in {u or 'no unit'}, not a unit of "
                                 f"{unit or 'this dimensionless parameter'} (allowed: "
                                 f"{', '.join(_UNIT_SCALE.get(unit, {unit: 1}))})")
        raise ModelError(f"{where}: '{v}' is not a number with a unit (expected {unit})")
    raise ModelError(f"{where}: {v!r} is not a number ({unit or 'dimensionless'})")


def _pop_index(where: str, ref: Any, names: List[str]) -> int:
    if isinstance(ref, str):
        if ref in names:
            return names.index(ref)
        raise ModelError(f"{where}: population '{ref}' does not exist (allowed: "
                         f"{', '.join(names)})")
    if isinstance(ref, numbers.Integral) and not isinstance(ref, bool) and \
            0 <= int(ref) < len(names):
        return int(ref)
    raise ModelError(f"{where}: {ref!r} (allowed: a population name or index 0..{len(names) - 1})")


def from_nest(populations: Union[Dict[str, Dict[str, Any]], Sequence[Dict[str, Any]]],
              connections: Sequence[Dict[str, Any]],
              simulation: Optional[Dict[str, Any]] = None, *, name: str = "nest_model",
              step_currents: Optional[Dict[Any, Dict[str, Any]]] = None) -> Model:
    """A :class:`Model` from PyNEST's gif_pop_psc_exp parameters.

    ``populations``: {name: params} or a list of params (named P1, P2, ...), each the ``params``
    of ``nest.Create("gif_pop_psc_exp", 1, params=...)``.

    ``connections``: one dict per ``nest.Connect(pops[source], pops[target], ...)`` call:
    ``{"source": s, "target": t, "syn_spec": {"weight": pA, "delay": ms}}`` with s and t
    population names or indices. Without ``conn_spec`` the weight is NEST's mesoscopic weight
    (per-connection weight times the connection probability, as in NEST's gif_pop_psc_exp
    example); an optional ``"p"`` gives that probability, so that mesogif's micro level gets
    the per-connection weight weight / p with fixed in-degree p N_source (default p = 1). With
    ``conn_spec`` (the microscopic gif_psc_exp script: ``{"rule": "fixed_indegree",
    "indegree": K}``, ``{"rule": "pairwise_bernoulli", "p": p}`` or ``"all_to_all"``) the weight
    is per connection. The synaptic time constant is the target's tau_syn_ex for weights >= 0,
    tau_syn_in otherwise.

    ``step_currents``: {population: {"amplitude_times": ms, "amplitude_values": pA}} (a
    step_current_generator connected to it); a connection whose source is such a dict is
    taken the same way. ``simulation``: {"resolution" or "dt", "simtime" or "t_sim",
    "t_warmup", "interval" or "record_bin", "stats_bin"} in ms. BinoRand = False (Poisson spike
    counts) is a run option: pass ``noise="poisson"`` to mesogif.run.
    """
    if isinstance(populations, dict):
        items = list(populations.items())
    elif isinstance(populations, (list, tuple)):
        items = [(f"P{i + 1}", p) for i, p in enumerate(populations)]
    else:
        raise TypeError("from_nest: populations must be a dict {name: params} or a list of "
                        f"params, not {type(populations).__name__}")
    if not items:
        raise ModelError("populations: none given (allowed: at least one gif_pop_psc_exp)")
    names = [str(n) for n, _ in items]
    pops_json = []
    tau_syn = []
    for pname, params in items:
        where = f"populations/{pname}"
        if not isinstance(params, dict):
            raise ModelError(f"{where}: expected a dict of gif_pop_psc_exp parameters")
        merged: Dict[str, Any] = {k: v for k, (_, v) in _POP_PARAMS.items()}
        for k, v in params.items():
            if k not in _POP_PARAMS:
                raise _unknown(where, k, _POP_PARAMS)
            merged[k] = _value(f"{where}/{k}", _POP_PARAMS[k][0], v)
        sfa_t = merged["tau_sfa"] if isinstance(merged["tau_sfa"], list) else [merged["tau_sfa"]]
        sfa_q = merged["q_sfa"] if isinstance(merged["q_sfa"], list) else [merged["q_sfa"]]
        if len(sfa_t) != len(sfa_q):
            raise ModelError(f"{where}: tau_sfa has {len(sfa_t)} values, q_sfa {len(sfa_q)} "
                             "(allowed: as many of each)")
        pj = {"name": pname}
        for k in ("N", "tau_m", "C_m", "E_L", "V_reset", "V_T_star", "Delta_V", "lambda_0",
                  "t_ref", "I_e"):
            pj[k] = merged[k]
        pj["tau_sfa"] = [float(x) for x in sfa_t]
        pj["q_sfa"] = [float(x) for x in sfa_q]
        pj["len_kernel"] = merged["len_kernel"]
        pops_json.append(pj)
        tau_syn.append((float(merged["tau_syn_ex"]), float(merged["tau_syn_in"])))

    def add_current(where: str, target: Any, gen: Dict[str, Any]) -> None:
        t = _pop_index(where, target, names)
        if not isinstance(gen, dict):
            raise ModelError(f"{where}: expected the step_current_generator's dict")
        g = {}
        for k, v in gen.items():
            if k in ("model", "element_type"):
                continue
            if k not in _GEN_PARAMS:
                raise _unknown(where, k, _GEN_PARAMS)
            g[k] = _value(f"{where}/{k}", _GEN_PARAMS[k], v)
        if "step_current" in pops_json[t]:
            raise ModelError(f"{where}: population '{names[t]}' has a step current already "
                             "(allowed: one generator per population)")
        pops_json[t]["step_current"] = {"amplitude_times": list(g.get("amplitude_times", [])),
                                        "amplitude_values": list(g.get("amplitude_values", []))}

    for target, gen in (step_currents or {}).items():
        add_current(f"step_currents/{target}", target, gen)

    projections = []
    if not isinstance(connections, (list, tuple)):
        raise TypeError("from_nest: connections must be a list of dicts")
    for k, c in enumerate(connections):
        where = f"connections[{k}]"
        if not isinstance(c, dict):
            raise ModelError(f"{where}: expected a dict with source, target, syn_spec")
        for key in c:
            if key not in ("source", "target", "syn_spec", "conn_spec", "p"):
                raise _unknown(where, key, ("source", "target", "syn_spec", "conn_spec", "p"))
        if "target" not in c or "source" not in c:
            raise ModelError(f"{where}: needs 'source' and 'target'")
        if isinstance(c["source"], dict):
            add_current(where, c["target"], c["source"])
            continue
        s = _pop_index(f"{where}/source", c["source"], names)
        t = _pop_index(f"{where}/target", c["target"], names)
        syn = c.get("syn_spec", {})
        if not isinstance(syn, dict):
            raise ModelError(f"{where}/syn_spec: expected a dict with weight and delay")
        for key in syn:
            if key not in _SYN_PARAMS and key not in ("synapse_model", "model"):
                raise _unknown(f"{where}/syn_spec", key, _SYN_PARAMS)
        w = float(_value(f"{where}/syn_spec/weight", "pA", syn.get("weight", 1.0)))
        d = float(_value(f"{where}/syn_spec/delay", "ms", syn.get("delay", 1.0)))
        proj = {"source": names[s], "target": names[t]}
        conn = c.get("conn_spec")
        if conn is None:
            p = float(_value(f"{where}/p", "", c.get("p", 1.0)))
            if not 0 < p <= 1:
                raise ModelError(f"{where}/p: {p} (allowed: 0 < p <= 1)")
            proj.update({"weight": w / p, "p": p})
            if p < 1:
                proj["rule"] = "fixed_indegree"
        else:
            rule = conn if isinstance(conn, str) else conn.get("rule") if isinstance(conn, dict) \
                else None
            if rule == "all_to_all":
                proj.update({"weight": w, "p": 1.0, "rule": "all_to_all"})
            elif rule == "fixed_indegree":
                K = conn.get("indegree")
                if isinstance(K, bool) or not isinstance(K, numbers.Integral) or \
                        not 0 < K <= pops_json[s]["N"]:
                    raise ModelError(f"{where}/conn_spec/indegree: {K!r} (allowed: an integer "
                                     f"1..{pops_json[s]['N']})")
                proj.update({"weight": w, "p": int(K) / pops_json[s]["N"],
                             "rule": "fixed_indegree"})
            elif rule == "pairwise_bernoulli":
                p = float(_value(f"{where}/conn_spec/p", "", conn.get("p")))
                proj.update({"weight": w, "p": p, "rule": "pairwise_bernoulli"})
            else:
                raise ModelError(f"{where}/conn_spec: {conn!r} (allowed: all_to_all, "
                                 "{'rule': 'fixed_indegree', 'indegree': K}, "
                                 "{'rule': 'pairwise_bernoulli', 'p': p})")
        proj["delay"] = d
        proj["tau_syn"] = tau_syn[t][0] if w >= 0 else tau_syn[t][1]
        projections.append(proj)

    model: Dict[str, Any] = {"name": name, "populations": pops_json, "projections": projections}
    if simulation is not None:
        if not isinstance(simulation, dict):
            raise ModelError("simulation: expected a dict (resolution, simtime, ...)")
        sim = {}
        for k, v in simulation.items():
            if k not in _SIM_KEYS:
                raise _unknown("simulation", k, _SIM_KEYS)
            sim[_SIM_KEYS[k]] = float(_value(f"simulation/{k}", "ms", v))
        model["simulation"] = sim
    return Model.from_dict(model, source=f"<from_nest {name}>")
