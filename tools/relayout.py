#!/usr/bin/python3
"""tools/relayout.py: the move of src/ into folders by concept (issue 16), as a rerunnable script.

Moves every file of MOVES that still sits at its old path (git mv), then rewrites, in every
tracked text file, #include "<old header>" to the header's new path (all includes of src/
headers are written relative to src/, e.g. "engine/job.h") and "src/<old file>" to
"src/<new file>" in comments and docs. Idempotent: run it again after merging a branch that
still uses the old names (new code's includes are rewritten, nothing else changes). It names
any C file left at the top of src/: put it into a folder (docs/ARCHITECTURE.md) and add it here.

    /usr/bin/python3 tools/relayout.py          (from the repository root)
"""
import os
import re
import subprocess
import sys

# old path under src/ -> new path under src/
MOVES = {
    # util: errors and units, used by every layer
    "error.c": "util/error.c",
    "units.c": "util/units.c",
    # stats: sufficient statistics, spectra (FFTW)
    "stats.c": "stats/stats.c",
    # model: the model file, --set, stimuli, value types of run.h
    "model_parse.c": "model/model.c",
    "model_set.c": "model/model_set.c",
    "model_json.c": "model/model_json.c",
    "model_json.h": "model/model_json.h",
    "stimulus.c": "model/stimulus.c",
    "stimulus.h": "model/stimulus.h",
    "stimulus_file.c": "model/stimulus_file.c",
    "stimulus_parse.c": "model/stimulus_parse.c",
    # theory: mean-field fixed points and spectra
    "theory_fixed.c": "theory/theory_fixed.c",
    "theory_renewal.c": "theory/theory_renewal.c",
    "theory_response.c": "theory/theory_response.c",
    "theory_spectrum.c": "theory/theory_spectrum.c",
    "theory_internal.h": "theory/theory_internal.h",
    # io: HDF5 files of format 1 (results, FFS results), readers, info
    "io_h5.c": "io/io_h5_write.c",
    "io_h5_info.c": "io/io_h5_info.c",
    "io_h5_read.c": "io/io_h5_read.c",
    "io_h5_spikes.c": "io/io_h5_spikes.c",
    "io_h5_theory.c": "io/io_h5_theory.c",
    "io_h5_util.c": "io/io_h5_util.c",
    "io_h5_internal.h": "io/io_h5_internal.h",
    "ffs_h5.c": "io/ffs_h5.c",
    "ffs_h5.h": "io/ffs_h5.h",
    # engine: derivation, the job, the driver, backends, checkpoints (shards: util)
    "ensemble.c": "engine/run.c",
    "ensemble.h": "engine/job.h",
    "backend_cpu.c": "engine/backend_cpu.c",
    "backend_cpu_micro.c": "engine/backend_cpu_micro.c",
    "cpu_schedule.c": "engine/cpu_schedule.c",
    "checkpoint.c": "engine/checkpoint.c",
    "shard.c": "util/shard.c",
    "shard.h": "util/shard.h",
    "run_key.c": "engine/run_key.c",
    "run_key.h": "engine/run_key.h",
    "observe_setup.c": "engine/observe_setup.c",
    "meso_derive.c": "engine/meso_derive.c",
    "meso_derive.h": "engine/meso_derive.h",
    "micro_derive.c": "engine/micro_derive.c",
    "micro_derive.h": "engine/micro_derive.h",
    "cuda_selftest.h": "engine/cuda_selftest.h",
    "ensemble_groups.c": "engine/ensemble_groups.c",
    "run_plan.c": "engine/run_plan.c",
    "run_plan.h": "engine/run_plan.h",
    # ffs: forward flux sampling of switching rates
    "ffs.c": "ffs/ffs.c",
    "ffs_ckpt.c": "ffs/ffs_ckpt.c",
    "ffs_internal.h": "ffs/ffs_internal.h",
    "ffs_meso_cpu.c": "ffs/ffs_meso_cpu.c",
    "ffs_opts.c": "ffs/ffs_opts.c",
    "ffs_state.h": "ffs/ffs_state.h",
    "ffs_stats.c": "ffs/ffs_stats.c",
    "ffs_engine.c": "ffs/ffs_engine.c",
    "ffs_micro_cpu.c": "ffs/ffs_micro_cpu.c",
    # cli: the command line (not in the library)
    "main.c": "cli/main.c",
    "cli.h": "cli/cli.h",
    "cli_common.c": "cli/cli_common.c",
    "cli_compare.c": "cli/cli_compare.c",
    "cli_device.c": "cli/cli_device.c",
    "cli_merge.c": "cli/cli_merge.c",
    "cli_run.c": "cli/cli_run.c",
    "cli_sweep.c": "cli/cli_sweep.c",
    "cli_switch.c": "cli/cli_switch.c",
    "cli_theory.c": "cli/cli_theory.c",
}

TEXT_EXT = (".c", ".h", ".cu", ".cuh", ".md", ".sh", ".py", ".txt", ".in", ".supp")


def git(*args):
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def main():
    moved = 0
    for old, new in MOVES.items():
        if os.path.exists("src/" + old) and not os.path.exists("src/" + new):
            os.makedirs(os.path.dirname("src/" + new), exist_ok=True)
            git("mv", "src/" + old, "src/" + new)
            moved += 1
    headers = {o: n for o, n in MOVES.items() if o.endswith(".h")}
    inc = re.compile(r'(#\s*include\s+")([^"]+)(")')
    # "src/<old>" not followed by a name character (src/ffs.c must not match src/ffs.cpp)
    path_re = re.compile(r"src/(" + "|".join(re.escape(o) for o in
                                             sorted(MOVES, key=len, reverse=True)) + r")(?![\w.])")
    changed = 0
    for f in git("ls-files").split("\n"):
        if not f.endswith(TEXT_EXT) and os.path.basename(f) != "Makefile":
            continue
        if f == "tools/relayout.py" or not os.path.isfile(f):
            continue
        with open(f, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
        new_text = text
        if f.endswith((".c", ".h", ".cu", ".cuh")):
            new_text = inc.sub(lambda m: m.group(1) + headers.get(m.group(2), m.group(2))
                               + m.group(3), new_text)
        new_text = path_re.sub(lambda m: "src/" + MOVES[m.group(1)], new_text)
        if new_text != text:
            with open(f, "w", encoding="utf-8", errors="surrogateescape") as fh:
                fh.write(new_text)
            changed += 1
    left = sorted(f for f in os.listdir("src") if f.endswith((".c", ".h")))
    print(f"relayout: {moved} files moved, {changed} files rewritten")
    if left:
        print("relayout: still at the top of src/ (give each a folder in MOVES):", " ".join(left))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
