"""mesogif.run against the command line, round trips through files, bad arguments, Ctrl-C and
memory. Runs are seeded; statistics are compared bitwise (a realization depends only on model,
options, seed and index), so nothing here can fail by chance."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
from conftest import MODELS, ROOT, SMALL, cli

import mesogif


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_b1_python_and_cli_give_bitwise_equal_statistics(tmp_path):
    out = tmp_path / "cli.h5"
    cli("run", "--realizations", 12, "--t-sim", "3s", "--t-warmup", "500ms", "--seed", 7,
        "--threads", 2, "--psd-df", "10Hz", "--record-realizations", 2, "--quiet",
        "--no-checkpoint", "--out", out)
    r = mesogif.run(None, realizations=12, t_sim="3s", t_warmup=0.5, seed=7, threads=2,
                    psd_df="10Hz", record_realizations=2, progress=False)
    with h5py.File(out, "r") as f:
        assert same_bits(f["/stats/sums/i"][()], r._sums["i"])
        assert same_bits(f["/stats/sums/d"][()], r._sums["d"])
        for k in ("mean_A", "var_A", "cov_A", "mean_A_sem", "var_A_sem", "freq", "psd",
                  "psd_sem"):
            assert same_bits(f["/stats/" + k][()], getattr(r, k)), k
        assert same_bits(f["/stats/switching/rate_hz"][()], r.switching.rate_hz)
        assert same_bits(f["/traces/A_N"][()], r.traces)
        assert same_bits(f["/traces/A_bar"][()], r.traces_bar)
    # and the file read back through mesogif.load
    l = mesogif.load(out)
    for k in ("mean_A", "var_A", "cov_A", "psd", "freq"):
        assert same_bits(getattr(l, k), getattr(r, k))


def test_model_with_simulation_block_matches_the_cli(tmp_path):
    # nest_brunel_ei carries dt, t_sim, t_warmup and bins: both sides take them from the file
    path = os.path.join(MODELS, "nest_brunel_ei.json")
    out = tmp_path / "ei.h5"
    cli("run", path, "--realizations", 3, "--t-sim", "600ms", "--threads", 2, "--quiet",
        "--no-checkpoint", "--psd-df", "20Hz", "--out", out)
    r = mesogif.run(path, realizations=3, t_sim="600ms", threads=2, progress=False,
                    psd_df="20Hz")
    assert r.config["dt_ms"] == 0.5 and r.config["stats_bin_ms"] == 1.0
    with h5py.File(out, "r") as f:
        assert same_bits(f["/stats/sums/d"][()], r._sums["d"])


@pytest.mark.parametrize("model,opts", [
    (None, ["--t-sim", "2s"]),                                   # warm-up min(1 s, t_sim/10)
    ("bistable_b1.json", ["--t-sim", "1500ms"]),                 # the file's warm-up dropped
    ("bistable_b1.json", ["--t-sim", "3s", "--dt", "0.25ms"]),   # bins follow dt
    ("uncoupled.json", ["--t-sim", "300ms", "--dt", "1ms"]),     # stats bin fits a short run
])
def test_defaults_follow_the_cli(tmp_path, model, opts):
    out = tmp_path / "cli.h5"
    path = os.path.join(MODELS, model) if model else None
    cli("run", *([path] if path else []), "--realizations", 3, "--threads", 2, "--quiet",
        "--no-checkpoint", "--out", out, *opts)
    kw = {"t_sim": opts[1]}
    if "--dt" in opts:
        kw["dt"] = opts[3]
    r = mesogif.run(path, realizations=3, threads=2, progress=False, **kw)
    with h5py.File(out, "r") as f:
        for k in ("t_warmup_ms", "dt_ms", "t_sim_ms"):
            assert f.attrs[k] == r.config[k], k
        assert f["/config/options"].attrs["stats_bin_ms"] == r.config["stats_bin_ms"]
        assert f["/config/options"].attrs["record_bin_ms"] == r.config["record_bin_ms"]
        assert same_bits(f["/stats/sums/d"][()], r._sums["d"])


def test_to_hdf5_load_round_trip(tmp_path):
    r = mesogif.run(realizations=6, record_realizations=3, seed=3, **SMALL)
    path = r.to_hdf5(tmp_path / "r.h5")
    l = mesogif.load(path)
    assert l.population_names == r.population_names == ["P1", "P2"]
    for k in ("mean_A", "var_A", "cov_A", "mean_A_sem", "var_A_sem", "freq", "psd", "psd_sem",
              "traces", "traces_bar", "t_ms", "trace_realizations"):
        assert same_bits(getattr(l, k), getattr(r, k)), k
    for k in r.switching.__dataclass_fields__:
        assert same_bits(getattr(l.switching, k), getattr(r.switching, k)), k
    assert same_bits(l._sums["i"], r._sums["i"]) and same_bits(l._sums["d"], r._sums["d"])
    assert l.config["seed"] == 3 and l.config["level"] == "meso"
    assert l.model == r.model
    assert r.traces.shape == (3, 2, 2000) and r.t_s[1] == pytest.approx(1e-3)
    # a second write of the same path is refused unless forced; a loaded result copies its file
    with pytest.raises(FileExistsError):
        r.to_hdf5(path)
    r.to_hdf5(path, force=True)
    l.to_hdf5(tmp_path / "copy.h5")
    assert same_bits(mesogif.load(tmp_path / "copy.h5").psd, r.psd)
    # out= writes the file as part of the run
    r2 = mesogif.run(realizations=6, record_realizations=3, seed=3, out=tmp_path / "o.h5",
                     **SMALL)
    assert same_bits(mesogif.load(tmp_path / "o.h5")._sums["d"], r2._sums["d"])


def test_micro_with_spikes_round_trip(tmp_path):
    m = mesogif.Model.from_file(os.path.join(MODELS, "uncoupled.json"))
    r = mesogif.run(m, level="micro", realizations=2, record_realizations=1, **SMALL)
    assert r.spikes is not None and set(r.spikes) == set(r.population_names)
    t, ids = r.spikes[r.population_names[0]]
    assert t.size > 0 and t.size == ids.size and np.all(np.diff(t) >= 0)
    assert r.traces_bar is None
    l = mesogif.load(r.to_hdf5(tmp_path / "micro.h5"))
    for name in r.population_names:
        assert same_bits(l.spikes[name][0], r.spikes[name][0])
        assert same_bits(l.spikes[name][1], r.spikes[name][1])
    assert same_bits(l.psd, r.psd)


def test_load_shards_and_their_merge(tmp_path):
    """Shards and the merged file load like any result; the merge's counts are the shards'
    summed, equal to one run over all realizations, and its moments equal that run's to
    rounding (floating sums added in another order, docs/FILE_FORMAT.md)."""
    common = ["--realizations", 6, "--t-sim", "2s", "--threads", 2, "--psd-df", "10Hz",
              "--quiet", "--no-checkpoint"]
    shards = []
    for k in range(2):
        shards.append(tmp_path / f"s{k}.h5")
        cli("run", *common, "--shard", f"{k}/2", "--out", shards[-1])
    cli("merge", tmp_path / "m.h5", *shards)
    a, b, merged = (mesogif.load(p) for p in (*shards, tmp_path / "m.h5"))
    assert a.config["realization_count"] == b.config["realization_count"] == 3
    assert np.array_equal(merged._sums["i"], a._sums["i"] + b._sums["i"])
    whole = mesogif.run(realizations=6, t_sim="2s", threads=2, psd_df="10Hz", progress=False)
    assert same_bits(merged._sums["i"], whole._sums["i"])
    for k in ("mean_A", "var_A", "cov_A"):
        assert np.allclose(getattr(merged, k), getattr(whole, k), rtol=1e-12, atol=0), k
    assert mesogif.compare(merged, whole).agree


def test_load_refuses_what_is_not_a_result(tmp_path):
    bad = tmp_path / "x.h5"
    bad.write_text("not hdf5")
    with pytest.raises(mesogif.MesogifError, match="x.h5"):
        mesogif.load(bad)
    with pytest.raises(mesogif.MesogifError):
        mesogif.load(tmp_path / "missing.h5")
    with pytest.raises(TypeError):
        mesogif.load(3)


BAD = [
    (dict(realizations=-5), mesogif.OptionError, "realizations"),
    (dict(realizations=0), mesogif.OptionError, "realizations"),
    (dict(realizations="10"), TypeError, "realizations"),
    (dict(realizations=2.5), TypeError, "realizations"),
    (dict(backend="gpu"), mesogif.OptionError, "auto, cpu, cuda"),
    (dict(level="nano"), mesogif.OptionError, "meso, micro"),
    (dict(t_sim="10 parsecs"), mesogif.OptionError, "t_sim"),
    (dict(t_sim=[1]), TypeError, "t_sim"),
    (dict(t_sim=float("inf")), mesogif.OptionError, "t_sim"),
    (dict(dt=-0.001), mesogif.OptionError, "--dt"),
    (dict(threads=0), mesogif.OptionError, "threads"),
    (dict(seed=2**40), mesogif.OptionError, "seed"),
    (dict(seed=-1), mesogif.OptionError, "seed"),
    (dict(record_realizations=-1), mesogif.OptionError, "record_realizations"),
    (dict(stats="most"), mesogif.OptionError, "full, basic"),
    (dict(psd_df="fast"), mesogif.OptionError, "psd_df"),
    (dict(switch_thresholds=(5, -5)), mesogif.OptionError, "switch_thresholds"),
    (dict(switch_observable="B7"), mesogif.OptionError, "B7"),
    (dict(model=42), TypeError, "model"),
    (dict(model={"populations": []}), mesogif.ModelError, "populations"),
    (dict(out="/nonexistent/dir/x.h5"), mesogif.OptionError, "not writable"),
    (dict(batch=-3), mesogif.OptionError, "batch"),
]


@pytest.mark.parametrize("kwargs,exc,text", BAD)
def test_bad_arguments_raise(kwargs, exc, text):
    args = dict(realizations=2, t_sim="1s", t_warmup="100ms", threads=2, progress=False)
    args.update(kwargs)
    with pytest.raises(exc, match=text.replace("(", r"\(")):
        mesogif.run(**args)


def test_option_error_is_the_cli_message():
    with pytest.raises(mesogif.OptionError) as e:
        mesogif.run(t_sim="1s", t_warmup="1s", progress=False)
    p = cli("run", "--t-sim", "1s", "--t-warmup", "1s", "--dry-run", check=False)
    assert p.returncode == 2 and p.stderr.strip() == "mesogif: " + str(e.value)


def test_delay_shorter_than_dt_is_a_model_error():
    d = mesogif.Model.default().to_dict()
    with pytest.raises(mesogif.ModelError, match="/projections/0/delay"):
        mesogif.run(d, dt="5ms", record_bin="5ms", stats_bin="10ms", psd_df="off",
                    t_sim="1s", t_warmup="0ms", progress=False)


CANCEL_SCRIPT = r"""
import os, signal, sys, threading, time
import mesogif
# Ctrl-C as an interactive Python has it: a parent that ignores SIGINT (a background job, e.g.
# `make test &`) passes the ignore on, and Python then installs no handler
signal.signal(signal.SIGINT, signal.default_int_handler)
out = sys.argv[1]
for delay in (0.05, 0.3, 0.7):
    timer = threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    try:
        # about a minute: only the cancel flag can end it in time
        mesogif.run(realizations=4000, t_sim="20s", threads=2, progress=True, out=out)
        print("not cancelled")
    except KeyboardInterrupt:
        print("cancelled after %.2f s" % (time.monotonic() - t0))
    timer.cancel()
    assert not os.path.exists(out) and not os.path.exists(out + ".partial")
time.sleep(0.5)  # the library must not touch the cancelled calls' memory afterwards
r = mesogif.run(realizations=2, t_sim="1s", t_warmup="100ms", threads=2, progress=False)
print("after", r.mean_A.shape)
"""


def test_ctrl_c_cancels_cleanly(tmp_path):
    """Ctrl-C (SIGINT) at three moments of a long run, in a process of its own: each raises
    KeyboardInterrupt within a second, leaves no file, and the process goes on and exits 0."""
    p = subprocess.run([sys.executable, "-c", CANCEL_SCRIPT, str(tmp_path / "never.h5")],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")))
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.split("\n")
    times = [float(l.split()[2]) for l in lines if l.startswith("cancelled after")]
    assert len(times) == 3 and max(times) < 2.0, p.stdout
    assert "after (2,)" in p.stdout


def test_progress_bar(capsys):
    r = mesogif.run(realizations=8, t_sim="3s", t_warmup="1s", threads=2, progress=True)
    err = capsys.readouterr().err
    assert "8/8" in err and r.mean_A.shape == (2,)


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_200_runs_keep_memory_flat():
    """200 runs in a loop (20 to warm up, then 180 measured). Each holds about 0.2 MB in C
    (two recorded realizations of A_N and A_bar, 2 x 2 x 2000 float32 each, and the statistics'
    sums with 1 Hz spectra) and about as much in numpy: leaking the C result grows the process
    by 27 MB (measured with mg_result_free disabled), against 1.2 MB of allocator noise when
    nothing leaks (measured). The bound, 12 MB, separates the two."""
    args = dict(realizations=2, t_sim="2s", t_warmup="1s", threads=2, progress=False,
                record_realizations=2)
    for _ in range(20):
        mesogif.run(**args)
    before = rss_kb()
    for i in range(180):
        r = mesogif.run(seed=i, **args)
        assert r.traces.shape[0] == 2
    del r
    grown = rss_kb() - before
    assert grown < 12 * 1024, f"RSS grew by {grown} kB over 180 runs"
