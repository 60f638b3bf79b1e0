#!/usr/bin/env bash
# tools/rename_lifecycle.sh: one lifecycle naming pair throughout (issue 16): a constructor that
# allocates is X_alloc, its release X_free (as mg_stats_alloc / mg_stats_free, and GSL). Value
# initializers without a release keep _init (mg_rng_init, mg_stats_layout_init), and functions
# named by what they compute keep their verb (mg_meso_derive, mg_inp_tables_build + _free).
# Rerunnable (idempotent) over the tracked sources, e.g. after merging a branch that still uses
# the old names: bash tools/rename_lifecycle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RENAMES=(
  mg_psd_plan_new:mg_psd_plan_alloc       # include/mesogif/stats.h (public)
  mg_cpu_psd_new:mg_cpu_psd_alloc         # src/engine/job.h
  worker_new_cb:worker_alloc_cb           # src/engine/backend_cpu_micro.c
  worker_new:worker_alloc                 # mg_cpu_block_ops (src/engine/job.h)
  scratch_new:scratch_alloc               # src/engine/backend_cpu.c
  mg_net_lin_init:mg_net_lin_alloc        # src/theory/theory_internal.h
  mg_cu_spectra_init:mg_cu_spectra_alloc  # kernels/cuda_common.cuh
)
expr=()
for r in "${RENAMES[@]}"; do expr+=(-e "s/\\b${r%%:*}\\b/${r##*:}/g"); done
files=$(git ls-files 'src/*' 'kernels/*' 'include/*' 'tests/*' 'bench/*' 'python/*' 'docs/*' \
        | grep -E '\.(c|h|cu|cuh|py|md)$' || true)
n=0
for f in $files; do
    if grep -qE "\\b($(printf '%s|' "${RENAMES[@]%%:*}" | sed 's/|$//'))\\b" "$f"; then
        sed -i "${expr[@]}" "$f"; n=$((n + 1))
    fi
done
echo "rename_lifecycle: $n files rewritten"
