"""The cffi declarations (mesogif/_ffi.py) against the real headers: a C program compiled with
include/mesogif/*.h prints the size of every struct and the offset of every field the package
declares; each must equal what cffi computes. A mismatch would make Python read the wrong bytes.
Deterministic."""
import os
import subprocess

import pytest
from conftest import ROOT

from mesogif._ffi import ffi

STRUCTS = ["mg_err", "mg_pop", "mg_proj", "mg_sim_defaults", "mg_model", "mg_stats_cfg",
           "mg_stats_layout", "mg_stats", "mg_progress", "mg_run_opts", "mg_resolved",
           "mg_spikes", "mg_result", "mg_renewal", "mg_fixed_point", "mg_fixed_points",
           "mg_ffs_opts", "mg_ffs_result"]


def test_struct_layouts_match_the_headers(tmp_path):
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "mesogif/run.h"',
             '#include "mesogif/io.h"', '#include "mesogif/theory.h"',
             '#include "mesogif/ffs.h"', 'int main(void) {']
    expected = []
    for s in STRUCTS:
        t = ffi.typeof(s)
        lines.append(f'printf("{s} %zu\\n", sizeof({s}));')
        expected.append(f"{s} {ffi.sizeof(t)}")
        for name, _ in t.fields:
            lines.append(f'printf("{s}.{name} %zu\\n", offsetof({s}, {name}));')
            expected.append(f"{s}.{name} {ffi.offsetof(t, name)}")
    lines.append("return 0; }")
    src = tmp_path / "abi.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "abi"
    subprocess.run(["cc", "-std=c11", f"-I{ROOT}/include", str(src), "-o", str(exe)], check=True)
    got = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split("\n")
    got = [g for g in got if g]
    assert len(got) == len(expected) > 100
    assert got == expected
