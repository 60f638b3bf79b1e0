#!/usr/bin/env bash
# tools/slurm/submit.sh: run one mesogif ensemble as a SLURM job array of shards plus a merge job
# that starts when every shard has succeeded (--dependency=afterok).
#
# usage: tools/slurm/submit.sh --shards N [options] -- [MODEL.json] RUN_OPTIONS...
#   --shards N         array tasks (each runs --shard slurm: a contiguous range of realizations)
#   --parallel M       at most M tasks at once (--array=0-(N-1)%M; default: no limit)
#   --outdir DIR       shard files, logs and the merged file (default ./mesogif_<date>)
#   --time T           time limit per task, sbatch syntax (default 01:00:00)
#   --partition P      partition (default: the cluster's default)
#   --cpus C           cpus per task (default 1; mesogif uses them all with OpenMP)
#   --gpu              request one GPU per task (--gres=gpu:1) and run with --backend cuda
#   --mesogif PATH     the mesogif binary (default: mesogif on PATH, else this repo's bin/)
#   --sbatch-arg ARG   extra argument for both sbatch calls (repeatable, e.g. --account=x)
#   --dry-run          write the scripts, print the sbatch commands, submit nothing
# The merged result is DIR/merged.h5; the shard files stay in DIR for inspection.
# Preempted or timed-out tasks write DIR/shard_I.h5.ckpt (mesogif's checkpoint on SIGTERM);
# resubmit them with: sbatch --array=I DIR/array.sbatch (the script resumes when it finds one).
set -euo pipefail
N=""; PAR=""; OUTDIR="mesogif_$(date +%Y%m%d_%H%M%S)"; TIME="01:00:00"; PART=""; CPUS=1
GPU=0; DRY=0; MG=""; EXTRA=()
while [ $# -gt 0 ]; do
    case $1 in
    --shards) N=$2; shift 2 ;;
    --parallel) PAR=$2; shift 2 ;;
    --outdir) OUTDIR=$2; shift 2 ;;
    --time) TIME=$2; shift 2 ;;
    --partition) PART=$2; shift 2 ;;
    --cpus) CPUS=$2; shift 2 ;;
    --gpu) GPU=1; shift ;;
    --mesogif) MG=$2; shift 2 ;;
    --sbatch-arg) EXTRA+=("$2"); shift 2 ;;
    --dry-run) DRY=1; shift ;;
    --) shift; break ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "submit.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --shards N is required (N >= 1)" >&2; exit 2; }
if [ -z "$MG" ]; then
    MG=$(command -v mesogif || true)
    [ -n "$MG" ] || MG="$(cd "$(dirname "$0")/../.." && pwd)/bin/mesogif"
fi
MG=$(readlink -f "$MG")
[ -x "$MG" ] || { echo "submit.sh: $MG is not an executable mesogif" >&2; exit 2; }
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
ARRAY="0-$((N - 1))${PAR:+%$PAR}"
RUN_ARGS=$(printf ' %q' "$@")
[ $GPU -eq 1 ] && RUN_ARGS="$RUN_ARGS --backend cuda"

{
    echo "#!/usr/bin/env bash"
    echo "#SBATCH --job-name=mesogif"
    echo "#SBATCH --array=$ARRAY"
    echo "#SBATCH --time=$TIME"
    echo "#SBATCH --cpus-per-task=$CPUS"
    echo "#SBATCH --output=$OUTDIR/shard_%a.log"
    [ -n "$PART" ] && echo "#SBATCH --partition=$PART"
    [ $GPU -eq 1 ] && echo "#SBATCH --gres=gpu:1"
    echo "set -euo pipefail"
    echo "out=$OUTDIR/shard_\${SLURM_ARRAY_TASK_ID}.h5"
    echo "export OMP_NUM_THREADS=\${SLURM_CPUS_PER_TASK:-$CPUS}"
    echo "if [ -f \"\$out.ckpt\" ]; then exec $MG run --resume \"\$out.ckpt\"; fi"
    echo "exec $MG run$RUN_ARGS --shard slurm --quiet --force --out \"\$out\""
} > "$OUTDIR/array.sbatch"
{
    echo "#!/usr/bin/env bash"
    echo "#SBATCH --job-name=mesogif-merge"
    echo "#SBATCH --time=00:30:00"
    echo "#SBATCH --output=$OUTDIR/merge.log"
    [ -n "$PART" ] && echo "#SBATCH --partition=$PART"
    echo "set -euo pipefail"
    echo "exec $MG merge --force $OUTDIR/merged.h5 $(for i in $(seq 0 $((N - 1))); do printf '%s ' "$OUTDIR/shard_$i.h5"; done)"
} > "$OUTDIR/merge.sbatch"

if [ $DRY -eq 1 ]; then
    echo "sbatch ${EXTRA[*]:-} --parsable $OUTDIR/array.sbatch"
    echo "sbatch ${EXTRA[*]:-} --dependency=afterok:<array job id> $OUTDIR/merge.sbatch"
    exit 0
fi
ARRAY_ID=$(sbatch "${EXTRA[@]}" --parsable "$OUTDIR/array.sbatch")
ARRAY_ID=${ARRAY_ID%%;*}
MERGE_ID=$(sbatch "${EXTRA[@]}" --parsable --dependency=afterok:"$ARRAY_ID" "$OUTDIR/merge.sbatch")
MERGE_ID=${MERGE_ID%%;*}
echo "submitted array job $ARRAY_ID ($N shards) and merge job $MERGE_ID; result: $OUTDIR/merged.h5"
echo "$ARRAY_ID $MERGE_ID" > "$OUTDIR/job_ids"
