"""mesogif.compare and mesogif.theory against `mesogif compare` and `mesogif theory` on the same
inputs: every row's label and z-score as the command line prints them, the agree verdict, and
every number of the theory's tab-separated output. Seeded and deterministic."""
import math
import os

import pytest
from conftest import MODELS, cli

import mesogif


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    a, b = d / "a.h5", d / "b.h5"
    common = ["--t-sim", "4s", "--t-warmup", "1s", "--threads", 2, "--psd-df", "5Hz", "--quiet",
              "--no-checkpoint"]
    cli("run", "--realizations", 16, "--out", a, *common)
    cli("run", "--realizations", 16, "--first", 16, "--out", b, *common)
    c = d / "c.h5"  # a different model: mu raised by 4 mV (I_e 250 -> 300 pA)
    m = mesogif.Model.default().to_dict()
    for p in m["populations"]:
        p["I_e"] = 300.0
    mesogif.run(m, realizations=16, t_sim="4s", t_warmup="1s", threads=2, psd_df="5Hz",
                progress=False, out=c)
    return a, b, c


def cli_rows(stdout):
    rows = {}
    for line in stdout.splitlines():
        t = line.split()
        if t and t[-1] in ("ok", "DIFFERS"):
            rows[line[:40].rstrip()] = float(t[-2])
    return rows


@pytest.mark.parametrize("pair,opts", [((0, 1), {}), ((0, 2), {}),
                                       ((0, 2), {"rel_tol": 0.15, "bands": 4})])
def test_compare_matches_the_cli(two_files, pair, opts):
    a, b = two_files[pair[0]], two_files[pair[1]]
    args = []
    for k, v in opts.items():
        args += ["--" + k.replace("_", "-"), v]
    p = cli("compare", a, b, *args, check=False)
    assert p.returncode in (0, 1), p.stderr
    want = cli_rows(p.stdout)
    got = mesogif.compare(a, b, **opts)
    judged = {r.quantity: r.z for r in got.rows if r.judged}
    assert set(judged) == set(want) and len(want) >= 10
    for q, z in want.items():
        assert f"{judged[q]:+.2f}" == f"{z:+.2f}", q
    assert got.agree == (p.returncode == 0)
    # the same through loaded Result objects
    assert mesogif.compare(mesogif.load(a), mesogif.load(b), **opts).agree == got.agree


def test_same_model_agrees_different_disagrees(two_files):
    a, b, c = two_files
    assert mesogif.compare(a, b).agree
    assert not mesogif.compare(a, c).agree


def test_compare_refuses_what_cannot_be_compared(two_files, tmp_path):
    a = two_files[0]
    unc = mesogif.run(os.path.join(MODELS, "uncoupled.json"), realizations=2, t_sim="2s",
                      t_warmup="1s", threads=2, progress=False, psd_df="5Hz")
    with pytest.raises(mesogif.MesogifError, match="populations"):
        mesogif.compare(a, unc)
    one = mesogif.run(realizations=1, t_sim="4s", t_warmup="1s", threads=2, psd_df="5Hz",
                      progress=False)
    with pytest.raises(mesogif.MesogifError, match="realization"):
        mesogif.compare(a, one)
    with pytest.raises(mesogif.OptionError):
        mesogif.compare(a, a, alpha=2)
    with pytest.raises(TypeError):
        mesogif.compare(a, 5)


def g10(x):
    return "%.10g" % x


@pytest.mark.parametrize("model", [None, "nest_brunel_ei.json"])
def test_theory_matches_the_cli(model):
    path = os.path.join(MODELS, model) if model else None
    args = ["theory"] + ([path] if path else []) + ["--out", "tsv", "--freqs", "0.5,500,7"]
    out = cli(*args).stdout.splitlines()
    th = mesogif.theory(path, freqs=(0.5, 500, 7))
    rows = [l.split("\t") for l in out if l and not l.startswith("#")]
    i = rows.index(["population", "N", "mu_mV", "A0_hz", "cv", "gain_hz_per_mV"])
    for k, p in enumerate(th.populations):
        assert rows[i + 1 + k] == [p.name, str(p.N), g10(p.mu_mV), g10(p.A0_hz), g10(p.cv),
                                   g10(p.gain_hz_per_mV)]
    fp_rows = [r for r in rows if r[0].isdigit() and len(r) > 5]
    assert len(fp_rows) == len(th.fixed_points) >= 1
    P = len(th.populations)
    for r, fp in zip(fp_rows, th.fixed_points):
        assert r[1:1 + P] == [g10(x) for x in fp.A_hz]
        assert r[1 + P:1 + 2 * P] == [g10(x) for x in fp.h_mV]
        assert int(r[-2]) == fp.n_unstable and int(r[-1]) == int(fp.stable)
    spectra = [r for r in rows if len(r) == P + 1 and r[0] != "f_hz" and not r[0].isalpha()
               and r not in fp_rows]
    stable = [fp for fp in th.fixed_points if fp.stable]
    assert len(spectra) == 7 * len(stable)
    for k, fp in enumerate(stable):
        for j in range(7):
            assert spectra[7 * k + j] == [g10(th.freq_hz[j])] + [g10(fp.psd[a, j])
                                                                 for a in range(P)]


def test_theory_bad_arguments():
    with pytest.raises(mesogif.OptionError):
        mesogif.theory(None, rate_max=-1)
    with pytest.raises(mesogif.OptionError):
        mesogif.theory(None, freqs=(10, 1, 5))
    with pytest.raises(TypeError):
        mesogif.theory(3.5)
