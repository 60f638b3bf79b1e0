"""mesogif.switch against `mesogif switch`: forward flux sampling and brute force give the
command line's bits (rates, intervals, interfaces, stage tallies), the file written with out=
holds the command line's /switching/ffs, and bad options raise the command line's messages.
Seeded and compared bitwise: nothing here can fail by chance."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
from conftest import ROOT, cli

import mesogif

# the small estimate of tests/test_ffs.sh (B1, N = 500): about a second
SMALL = dict(seed=9, rel_err=0.3, basin_realizations=16, basin_budget="300s", trials=64,
             pilot=16, threads=2, progress=False)
SMALL_CLI = ["--seed", 9, "--rel-err", 0.3, "--basin-realizations", 16, "--basin-budget", "300s",
             "--trials", 64, "--pilot", 16, "--threads", 2, "--quiet"]


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.astype(b.dtype).tobytes() == b.tobytes()


def test_ffs_matches_the_cli_bitwise(tmp_path):
    cli("switch", *SMALL_CLI, "--out", tmp_path / "cli.h5")
    r = mesogif.switch(None, out=tmp_path / "py.h5", **SMALL)
    assert r.method == "ffs" and r.observable == "A1-A2" and r.thresholds == (-5.0, 5.0)
    with h5py.File(tmp_path / "cli.h5", "r") as f, h5py.File(tmp_path / "py.h5", "r") as g:
        ffs = f["/switching/ffs"]
        assert same_bits(ffs["rate_hz"][()], r.rate_hz)
        assert same_bits(ffs["rate_ci_low"][()], r.rate_ci_low)
        assert same_bits(ffs["rate_ci_high"][()], r.rate_ci_high)
        for name, d in (("from_low", r.from_low), ("from_high", r.from_high)):
            assert same_bits(ffs[name]["interfaces"][()], d.interfaces)
            assert same_bits(ffs[name]["trials"][()], d.trials)
            assert same_bits(ffs[name]["successes"][()], d.successes)
        # the file of out= holds the same estimate
        for k in ("rate_hz", "rate_ci_low", "rate_ci_high", "flux_hz", "from_low/p",
                  "from_high/successes"):
            assert same_bits(g["/switching/ffs/" + k][()], ffs[k][()]), k
    assert r.rate_hz[0] == r.from_low.rate_hz and r.rate_hz[1] == r.from_high.rate_hz
    assert 0 < r.rate_ci_low[0] < r.rate_hz[0] < r.rate_ci_high[0]
    with pytest.raises(FileExistsError):
        mesogif.switch(None, out=tmp_path / "py.h5", **SMALL)


def test_brute_matches_the_cli_bitwise(tmp_path):
    cli("switch", "--method", "brute", "--brute-time", "300s", "--seed", 4, "--threads", 2,
        "--out", tmp_path / "cli.h5")
    r = mesogif.switch(None, method="brute", brute_time="300s", seed=4, threads=2,
                       progress=False)
    with h5py.File(tmp_path / "cli.h5", "r") as f:
        assert same_bits(f["/stats/switching/rate_hz"][()], r.rate_hz)
        assert same_bits(f["/stats/switching/rate_ci_low"][()], r.rate_ci_low)
    assert r.method == "brute" and r.from_low is None and r.run is not None


@pytest.mark.parametrize("opts,cli_opts,word", [
    (dict(rel_err=1.0), ["--rel-err", 1], "--rel-err"),
    (dict(interfaces=[-2, 6]), ["--interfaces", "-2,6"], "--interfaces"),
    (dict(switch_observable="A1-A3"), ["--switch-observable", "A1-A3"], "A3"),
    (dict(level="macro"), ["--level", "macro"], "level"),
])
def test_bad_options_raise_the_cli_message(tmp_path, opts, cli_opts, word):
    with pytest.raises((mesogif.OptionError, mesogif.ModelError)) as e:
        mesogif.switch(None, progress=False, out=tmp_path / "bad.h5", **opts)
    assert word in str(e.value)
    p = cli("switch", *cli_opts, "--out", tmp_path / "bad.h5", check=False)
    assert p.returncode == 2 and word in p.stderr
    assert not (tmp_path / "bad.h5").exists()


CANCEL_SCRIPT = r"""
import json, os, signal, sys, threading, time
import mesogif
# Ctrl-C as an interactive Python has it: a parent that ignores SIGINT (a background job, e.g.
# `make test &`) passes the ignore on, and Python then installs no handler
signal.signal(signal.SIGINT, signal.default_int_handler)
root, out = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(root, "data", "models", "bistable_b1.json")))
for p in m["populations"]:
    p["N"] = 10000
for q in m["projections"]:
    q["J"] = -0.043 * 500 / 10000
model = mesogif.Model.from_dict(m)  # a state lasts about 10^6 s: only the flag ends it in time
timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
t0 = time.monotonic()
timer.start()
try:
    mesogif.switch(model, threads=2, progress=False, out=out)
    print("not cancelled")
except KeyboardInterrupt:
    print("cancelled after %.2f s" % (time.monotonic() - t0))
assert not os.path.exists(out) and not os.path.exists(out + ".partial")
r = mesogif.switch(None, seed=9, rel_err=0.3, basin_realizations=16, basin_budget="300s",
                   trials=64, pilot=16, threads=2, progress=False)
print("after", r.rate_hz.shape)
"""


def test_ctrl_c_cancels_the_estimate(tmp_path):
    """Ctrl-C (SIGINT) half a second into an estimate that would take days, in a process of its
    own: KeyboardInterrupt within a few seconds (a round of basin runs completes first, about a
    second), no file, and the next estimate runs."""
    p = subprocess.run([sys.executable, "-c", CANCEL_SCRIPT, ROOT, str(tmp_path / "never.h5")],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")))
    assert p.returncode == 0, p.stdout + p.stderr
    line = [l for l in p.stdout.split("\n") if l.startswith("cancelled after")]
    assert len(line) == 1 and float(line[0].split()[2]) < 5.0, p.stdout
    assert "after (2,)" in p.stdout
