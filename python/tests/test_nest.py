"""mesogif.from_nest: the parameters of NEST's example pynest/examples/gif_pop_psc_exp.py
(Brunel E/I network with two adaptation kernels, MODEL.md 3(b)), typed here as the dicts the
script gives nest.Create / nest.Connect, give the model of data/models/nest_brunel_ei.json,
every resolved parameter equal. Deterministic."""
import os

import numpy as np
import pytest
from conftest import MODELS

import mesogif

# the example script's variables
dt, t_end, dt_rec = 0.5, 2000.0, 1.0
N = np.array([800, 200])
t_ref, tau_m, C_m = 4.0, np.array([20.0, 20.0]), 250.0
mu = 24.0 * np.ones(2)
c, Delta_u, V_th, V_reset = 10.0, 2.5, 15.0, 0.0
tau_theta = np.array([[100.0, 1000.0], [100.0, 1000.0]])
J_theta = np.array([[1000.0, 1000.0], [1000.0, 1000.0]])
J, g = 0.3, 5.0
pconn = 0.2 * np.ones((2, 2))
delay = 1.0 * np.ones((2, 2))
C0 = np.array([[800, 200], [800, 200]]) * 0.2
C = np.vstack((N, N)) * pconn
J_syn = np.array([[J, -g * J], [J, -g * J]]) * C0 / C
tau_ex, tau_in = 3.0, 6.0
step = [[20.0], [20.0]]       # mV, from t = 1500 ms
tstep = np.array([[1500.0], [1500.0]])


def nest_dicts():
    pops = {}
    for i, name in enumerate(("E", "I")):
        pops[name] = {"C_m": C_m, "I_e": mu[i] * C_m / tau_m[i], "lambda_0": c,
                      "Delta_V": Delta_u, "tau_m": tau_m[i], "tau_sfa": tau_theta[i],
                      "q_sfa": J_theta[i] / tau_theta[i], "V_T_star": V_th,
                      "V_reset": V_reset, "len_kernel": -1, "N": N[i], "t_ref": t_ref,
                      "tau_syn_ex": max([tau_ex, dt]), "tau_syn_in": max([tau_in, dt]),
                      "E_L": 0.0}
    g_syn = np.ones_like(J_syn)
    g_syn[:, 0] = C_m / tau_ex
    g_syn[:, 1] = C_m / tau_in
    conns = []
    names = ("E", "I")
    for i in range(2):          # target, in the model file's order E<-E, E<-I, I<-E, I<-I
        for j in range(2):      # source
            conns.append({"source": names[j], "target": names[i], "p": pconn[i, j],
                          "syn_spec": {"weight": J_syn[i, j] * g_syn[i, j] * pconn[i, j],
                                       "delay": delay[i, j]}})
    currents = {names[i]: {"amplitude_times": tstep[i],
                           "amplitude_values": np.array(step[i]) * C_m / tau_m[i]}
                for i in range(2)}
    sim = {"resolution": dt, "simtime": t_end, "t_warmup": 0.0, "interval": dt_rec,
           "stats_bin": dt_rec}
    return pops, conns, currents, sim


def test_nest_example_gives_nest_brunel_ei():
    pops, conns, currents, sim = nest_dicts()
    m = mesogif.from_nest(pops, conns, sim, name="nest_brunel_ei", step_currents=currents)
    ref = mesogif.Model.from_file(os.path.join(MODELS, "nest_brunel_ei.json"))
    assert m.resolved() == ref.resolved()
    assert m == ref
    # the step current generator as a connection source, as nest.Connect(gen, pop) does
    conns2 = conns + [{"source": currents[n], "target": n} for n in ("E", "I")]
    assert mesogif.from_nest(pops, conns2, sim) == ref


def test_microscopic_script_style():
    """gif_psc_exp style: per-connection weights with conn_spec fixed_indegree."""
    pops, conns, currents, sim = nest_dicts()
    micro = []
    for k in conns:
        p = k["p"]
        micro.append({"source": k["source"], "target": k["target"],
                      "conn_spec": {"rule": "fixed_indegree",
                                    "indegree": int(p * N[0 if k["source"] == "E" else 1])},
                      "syn_spec": {"weight": k["syn_spec"]["weight"] / p,
                                   "delay": k["syn_spec"]["delay"]}})
    m = mesogif.from_nest(pops, micro, sim, step_currents=currents).resolved()
    ref = mesogif.Model.from_file(os.path.join(MODELS, "nest_brunel_ei.json")).resolved()
    for a, b in zip(m["projections"], ref["projections"]):
        assert a["rule"] == b["rule"] == "fixed_indegree" and a["p"] == b["p"]
        assert a["J"] == pytest.approx(b["J"], rel=1e-12)


def test_units_as_strings_are_accepted():
    pops, conns, currents, sim = nest_dicts()
    pops["E"] = dict(pops["E"], tau_m="20 ms", C_m="0.25nF")
    ref = mesogif.from_nest(nest_dicts()[0], conns, sim, step_currents=currents)
    assert mesogif.from_nest(pops, conns, sim, step_currents=currents) == ref


def test_wrong_name_gets_a_clear_error():
    pops, conns, currents, sim = nest_dicts()
    pops["E"]["tau_mem"] = pops["E"].pop("tau_m")
    with pytest.raises(mesogif.ModelError, match=r"populations/E: 'tau_mem' .*did you mean "
                                                 r"'tau_m'"):
        mesogif.from_nest(pops, conns, sim)
    pops, conns, _, sim = nest_dicts()
    conns[0]["syn_spec"]["wieght"] = conns[0]["syn_spec"].pop("weight")
    with pytest.raises(mesogif.ModelError, match=r"connections\[0\]/syn_spec: 'wieght'"):
        mesogif.from_nest(pops, conns, sim)


def test_wrong_unit_gets_a_clear_error():
    pops, conns, _, sim = nest_dicts()
    pops["I"]["tau_m"] = "20 mV"
    with pytest.raises(mesogif.ModelError, match=r"populations/I/tau_m: '20 mV' is in mV, not "
                                                 r"a unit of ms"):
        mesogif.from_nest(pops, conns, sim)
    pops, conns, _, sim = nest_dicts()
    conns[1]["syn_spec"]["weight"] = "5 mV"
    with pytest.raises(mesogif.ModelError, match=r"weight: '5 mV' is in mV, not a unit of pA"):
        mesogif.from_nest(pops, conns, sim)


def test_bad_references_and_values():
    pops, conns, _, sim = nest_dicts()
    conns[0]["target"] = "X"
    with pytest.raises(mesogif.ModelError, match="population 'X' does not exist"):
        mesogif.from_nest(pops, conns, sim)
    pops, conns, _, sim = nest_dicts()
    pops["E"]["N"] = -800
    with pytest.raises(mesogif.ModelError, match="/populations/0/N"):
        mesogif.from_nest(pops, conns, sim)
    with pytest.raises(TypeError):
        mesogif.from_nest("E", conns)
