#!/usr/bin/env bash
# tools/slurm/submit.sh: run one mesogif ensemble as a SLURM job array of shards plus a merge job
# that starts when every shard has succeeded (--dependency=afterok).
#
# usage: tools/slurm/submit.sh --shards N [options] -- [MODEL.json] RUN_OPTIONS...
#        tools/slurm/submit.sh --resubmit DIR I[,J...]   (shards of an earlier submission)
#   --shards N         array tasks (task I runs --shard I/N: a contiguous range of realizations)
#   --parallel M       at most M tasks at once (--array=0-(N-1)%M; default: no limit)
#   --outdir DIR       shard files, logs and the merged file (default ./mesogif_<date>)
#   --time T           time limit per task, sbatch syntax (default 01:00:00)
#   --mem MEM          memory per task, sbatch syntax (e.g. 4G; default: the cluster's)
#   --partition P      partition of the shards (default: the cluster's default)
#   --cpus C           cpus per task (default 1; mesogif uses them all with OpenMP)
#   --gpu              request one GPU per task (--gres=gpu:1) and run with --backend cuda
#   --merge-time T     time limit of the merge job (default 00:30:00)
#   --merge-mem MEM    memory of the merge job (default 4G)
#   --merge-partition P  partition of the merge job, which needs no GPU (default: --partition
#                      without --gpu, the cluster's default with --gpu)
#   --mesogif PATH     the mesogif binary (default: mesogif on PATH, else this repo's bin/)
#   --sbatch-arg ARG   extra argument for every sbatch call (repeatable, e.g. --account=x)
#   --dry-run          check, write the scripts, print the sbatch commands, submit nothing
#   -h, --help         this text
# Before anything is submitted the run is checked with `mesogif run ... --dry-run` (model
# file, options, memory): a typo fails here, not in every array task after queueing.
# The merged result is DIR/merged.h5; the shard files stay in DIR for inspection.
# A shard that failed, was preempted or ran out of time (its checkpoint DIR/shard_I.h5.ckpt is
# resumed by the array script) is run again with
#     tools/slurm/submit.sh --resubmit DIR I
# which submits those array tasks again, cancels the merge job that waits for the failed
# array (afterok can no longer be satisfied) and submits a new one after them.
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
N=""; PAR=""; OUTDIR="mesogif_$(date +%Y%m%d_%H%M%S)"; TIME="01:00:00"; PART=""; CPUS=1
GPU=0; DRY=0; MG=""; EXTRA=(); MEM=""; MTIME="00:30:00"; MMEM="4G"; MPART=""; MPART_SET=0
RESUB=""; RESUB_IDS=""
need() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "submit.sh: $1 needs a value (see --help)" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case $1 in
    --shards) need "$@"; N=$2; shift 2 ;;
    --parallel) need "$@"; PAR=$2; shift 2 ;;
    --outdir) need "$@"; OUTDIR=$2; shift 2 ;;
    --time) need "$@"; TIME=$2; shift 2 ;;
    --mem) need "$@"; MEM=$2; shift 2 ;;
    --partition) need "$@"; PART=$2; shift 2 ;;
    --cpus) need "$@"; CPUS=$2; shift 2 ;;
    --gpu) GPU=1; shift ;;
    --merge-time) need "$@"; MTIME=$2; shift 2 ;;
    --merge-mem) need "$@"; MMEM=$2; shift 2 ;;
    --merge-partition) need "$@"; MPART=$2; MPART_SET=1; shift 2 ;;
    --mesogif) need "$@"; MG=$2; shift 2 ;;
    --sbatch-arg) need "$@"; EXTRA+=("$2"); shift 2 ;;
    --dry-run) DRY=1; shift ;;
    --resubmit) need "$@"; [ $# -ge 3 ] || { echo "submit.sh: --resubmit DIR I[,J...]" >&2; exit 2; }
        RESUB=$2; RESUB_IDS=$3; shift 3 ;;
    --) shift; break ;;
    -h | --help) usage; exit 0 ;;
    *) echo "submit.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done

# ---- resubmit shards of an earlier submission ------------------------------------------------
if [ -n "$RESUB" ]; then
    [ -f "$RESUB/array.sbatch" ] && [ -f "$RESUB/merge.sbatch" ] ||
        { echo "submit.sh: $RESUB has no array.sbatch and merge.sbatch (not a submit.sh folder)" >&2; exit 2; }
    [[ "$RESUB_IDS" =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] ||
        { echo "submit.sh: --resubmit: '$RESUB_IDS' (allowed: shard indices like 3 or 1,4-6)" >&2; exit 2; }
    OLD_MERGE=""
    [ -f "$RESUB/job_ids" ] && OLD_MERGE=$(awk '{print $2}' "$RESUB/job_ids")
    if [ $DRY -eq 1 ]; then
        echo "sbatch ${EXTRA[*]:-} --parsable --array=$RESUB_IDS $RESUB/array.sbatch"
        [ -n "$OLD_MERGE" ] && echo "scancel $OLD_MERGE"
        echo "sbatch ${EXTRA[*]:-} --parsable --dependency=afterok:<new array job id> $RESUB/merge.sbatch"
        exit 0
    fi
    ARRAY_ID=$(sbatch "${EXTRA[@]}" --parsable --array="$RESUB_IDS" "$RESUB/array.sbatch")
    ARRAY_ID=${ARRAY_ID%%;*}
    # the old merge job waits for an array that failed: afterok can never be satisfied
    [ -n "$OLD_MERGE" ] && scancel "$OLD_MERGE" 2>/dev/null || true
    MERGE_ID=$(sbatch "${EXTRA[@]}" --parsable --dependency=afterok:"$ARRAY_ID" "$RESUB/merge.sbatch")
    MERGE_ID=${MERGE_ID%%;*}
    echo "resubmitted shards $RESUB_IDS as job $ARRAY_ID, merge job $MERGE_ID (replaces ${OLD_MERGE:-none})"
    echo "$ARRAY_ID $MERGE_ID" > "$RESUB/job_ids"
    exit 0
fi

[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --shards N is required (N >= 1)" >&2; exit 2; }
[ -z "$PAR" ] || [[ "$PAR" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --parallel: '$PAR' (allowed: M >= 1)" >&2; exit 2; }
[[ "$CPUS" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --cpus: '$CPUS' (allowed: C >= 1)" >&2; exit 2; }
if [ -z "$MG" ]; then
    MG=$(command -v mesogif || true)
    [ -n "$MG" ] || MG="$(cd "$(dirname "$0")/../.." && pwd)/bin/mesogif"
fi
MG=$(readlink -f "$MG")
[ -x "$MG" ] || { echo "submit.sh: $MG is not an executable mesogif" >&2; exit 2; }
[ $MPART_SET -eq 1 ] || { [ $GPU -eq 1 ] && MPART="" || MPART=$PART; }
RUN=("$@")
[ $GPU -eq 1 ] && RUN+=(--backend cuda)

# ---- check the run before anything is queued: model file, options, shard count, memory --------
# (the last shard is the one --dry-run sizes: it is never larger than the first)
if ! "$MG" run "${RUN[@]}" --shard 0/"$N" --dry-run --quiet --out /dev/null/x.h5 > /dev/null 2> "${TMPDIR:-/tmp}/submit_check.$$"; then
    sed 's/^/submit.sh: /' "${TMPDIR:-/tmp}/submit_check.$$" >&2
    rm -f "${TMPDIR:-/tmp}/submit_check.$$"
    echo "submit.sh: the run does not start (mesogif run --dry-run above); nothing submitted" >&2
    exit 2
fi
rm -f "${TMPDIR:-/tmp}/submit_check.$$"

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
ARRAY="0-$((N - 1))${PAR:+%$PAR}"
RUN_ARGS=$(printf ' %q' "${RUN[@]}")

{
    echo "#!/usr/bin/env bash"
    echo "#SBATCH --job-name=mesogif"
    echo "#SBATCH --array=$ARRAY"
    echo "#SBATCH --time=$TIME"
    echo "#SBATCH --cpus-per-task=$CPUS"
    [ -n "$MEM" ] && echo "#SBATCH --mem=$MEM"
    echo "#SBATCH --output=$OUTDIR/shard_%a.log"
    [ -n "$PART" ] && echo "#SBATCH --partition=$PART"
    [ $GPU -eq 1 ] && echo "#SBATCH --gres=gpu:1"
    echo "set -euo pipefail"
    echo "out=$OUTDIR/shard_\${SLURM_ARRAY_TASK_ID}.h5"
    echo "export OMP_NUM_THREADS=\${SLURM_CPUS_PER_TASK:-$CPUS}"
    echo "# a preempted or timed-out task left a checkpoint: continue it"
    echo "if [ -f \"\$out.ckpt\" ]; then exec $MG run --resume \"\$out.ckpt\"; fi"
    echo "# the shard count is written out (not --shard slurm): a task resubmitted alone"
    echo "# (sbatch --array=I) is still shard I of $N"
    echo "exec $MG run$RUN_ARGS --shard \${SLURM_ARRAY_TASK_ID}/$N --quiet --force --out \"\$out\""
} > "$OUTDIR/array.sbatch"
{
    echo "#!/usr/bin/env bash"
    echo "#SBATCH --job-name=mesogif-merge"
    echo "#SBATCH --time=$MTIME"
    echo "#SBATCH --cpus-per-task=1"
    echo "#SBATCH --mem=$MMEM"
    echo "#SBATCH --output=$OUTDIR/merge.log"
    [ -n "$MPART" ] && echo "#SBATCH --partition=$MPART"
    echo "set -euo pipefail"
    echo "# merge refuses an incomplete set of shards (mesogif merge names the missing ones)"
    echo "exec $MG merge --force $OUTDIR/merged.h5 $(for i in $(seq 0 $((N - 1))); do printf '%s ' "$OUTDIR/shard_$i.h5"; done)"
} > "$OUTDIR/merge.sbatch"

if [ $DRY -eq 1 ]; then
    echo "checked: $MG run$RUN_ARGS --shard 0/$N --dry-run"
    echo "sbatch ${EXTRA[*]:-} --parsable $OUTDIR/array.sbatch"
    echo "sbatch ${EXTRA[*]:-} --parsable --dependency=afterok:<array job id> $OUTDIR/merge.sbatch"
    exit 0
fi
ARRAY_ID=$(sbatch "${EXTRA[@]}" --parsable "$OUTDIR/array.sbatch")
ARRAY_ID=${ARRAY_ID%%;*}
MERGE_ID=$(sbatch "${EXTRA[@]}" --parsable --dependency=afterok:"$ARRAY_ID" "$OUTDIR/merge.sbatch")
MERGE_ID=${MERGE_ID%%;*}
echo "submitted array job $ARRAY_ID ($N shards) and merge job $MERGE_ID; result: $OUTDIR/merged.h5"
echo "if a shard fails: tools/slurm/submit.sh --resubmit $OUTDIR <its index>"
echo "$ARRAY_ID $MERGE_ID" > "$OUTDIR/job_ids"
