"""Shared set-up of the Python tests: the library under test (MESOGIF_LIBRARY, else the build
tree's build/libmesogif.so.0) and the command line built with it (MESOGIF, else bin/mesogif),
for the tests that check the package against the command line."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("MESOGIF_LIBRARY", os.path.join(ROOT, "build", "libmesogif.so.0"))
MESOGIF = os.path.abspath(os.environ.get("MESOGIF", os.path.join(ROOT, "bin", "mesogif")))
MODELS = os.path.join(ROOT, "data", "models")

# small runs: 2 threads (the machine's), short simulations
SMALL = dict(t_sim="2s", t_warmup="500ms", threads=2, progress=False, psd_df="10Hz")


def cli(*args, check=True):
    """Run the command line; returns the CompletedProcess (text)."""
    if not os.access(MESOGIF, os.X_OK):
        raise RuntimeError(f"{MESOGIF}: not built (set MESOGIF)")
    p = subprocess.run([MESOGIF, *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    if check and p.returncode != 0:
        raise RuntimeError(f"mesogif {' '.join(map(str, args))}: exit {p.returncode}: {p.stderr}")
    return p


@pytest.fixture
def tmp(tmp_path):
    return tmp_path
