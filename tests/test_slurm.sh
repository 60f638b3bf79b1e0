#!/usr/bin/env bash
# tests/test_slurm.sh: the cluster path on a real SLURM (issue 6): start munged, slurmctld and
# slurmd on this machine with a minimal configuration, submit a 4-task array of a small B1 run
# plus the merge job (tools/slurm/submit.sh), wait, and check that the merged statistics equal
# those of the same realizations run as one job (integer counts bitwise, floats to 1e-12
# relative), and the traces bitwise. One shard is made to fail first: the merge job must wait,
# and `submit.sh --resubmit` must run the shard again and replace the stranded merge job.
# Bounded (4 minutes); stops the daemons it started.
# Needs root and Debian's slurm-wlm and munge (make deps installs them); prints
# "skipped: ..." and passes otherwise (a developer's machine without them).
set -uo pipefail
cd "$(dirname "$0")/.."
MG=$(readlink -f "${MESOGIF:-bin/mesogif}")
if [ "$(id -u)" != 0 ] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "test_slurm: skipped: needs root, slurmctld and munged (make deps installs them)"
    exit 0
fi
W=$(mktemp -d /tmp/mesogif_slurm.XXXXXX)
chmod 755 "$W"
HOST=$(hostname -s)
PIDS=()
cleanup() {
    scancel --quiet -u root 2>/dev/null || true
    for f in "$W"/slurmctld.pid "$W"/slurmd.pid "$W"/munged.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 1
    for f in "$W"/slurmctld.pid "$W"/slurmd.pid "$W"/munged.pid; do
        [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "test_slurm: FAIL: $*"; for l in "$W"/*.log "$W"/out/*.log; do [ -f "$l" ] && { echo "--- $l"; tail -20 "$l"; }; done; exit 1; }

# munge: a fresh key and socket of our own
mkdir -p "$W/munge"
dd if=/dev/urandom bs=1 count=1024 of="$W/munge/munge.key" 2>/dev/null
chmod 400 "$W/munge/munge.key"
munged --force --key-file="$W/munge/munge.key" --socket="$W/munge/socket" \
    --pid-file="$W/munged.pid" --log-file="$W/munged.log" --seed-file="$W/munge/seed" \
    || fail "munged did not start"
export MUNGE_SOCKET="$W/munge/socket"

CPUS=$(nproc)
MEM=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
cat > "$W/slurm.conf" <<CONF
ClusterName=mesogiftest
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$W/munge/socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmdSpoolDir=$W/slurmd
StateSaveLocation=$W/state
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$W/slurmd" "$W/state"
export SLURM_CONF="$W/slurm.conf"
slurmctld -i -f "$W/slurm.conf" || fail "slurmctld did not start"
slurmd -f "$W/slurm.conf" || fail "slurmd did not start"
for i in $(seq 1 30); do
    sinfo -h -o %T 2>/dev/null | grep -qE "idle|mixed" && break
    sleep 1
done
sinfo -h -o %T | grep -qE "idle|mixed" || fail "the node did not come up: $(sinfo 2>&1)"

ARGS=(--realizations 40 --t-sim 2s --t-warmup 500ms --record-realizations 40 --seed 11)
# shard 2 fails (a damaged checkpoint in its place, which its task resumes and refuses): the
# merge job then waits for ever (afterok), until the shard is resubmitted (issue 14)
mkdir -p "$W/out"
echo "not a checkpoint" > "$W/out/shard_2.h5.ckpt"
bash tools/slurm/submit.sh --shards 4 --parallel 2 --outdir "$W/out" --mesogif "$MG" --time 00:05:00 \
    -- "${ARGS[@]}" || fail "submission failed"
read -r ARRAY_ID MERGE_ID < "$W/out/job_ids"
deadline=$((SECONDS + 240))
while [ $SECONDS -lt $deadline ]; do
    [ -z "$(squeue -h -j "$ARRAY_ID" 2>/dev/null)" ] && break
    sleep 2
done
[ -n "$(squeue -h -j "$MERGE_ID" 2>/dev/null)" ] && [ ! -f "$W/out/merged.h5" ] ||
    fail "with shard 2 failed, the merge job should still wait and nothing be merged"
rm -f "$W/out/shard_2.h5.ckpt"
bash tools/slurm/submit.sh --resubmit "$W/out" 2 || fail "resubmission failed"
[ -z "$(squeue -h -j "$MERGE_ID" 2>/dev/null)" ] || fail "the stranded merge job $MERGE_ID was not cancelled"
read -r ARRAY_ID MERGE_ID < "$W/out/job_ids"
while [ $SECONDS -lt $deadline ]; do
    [ -z "$(squeue -h -j "$ARRAY_ID,$MERGE_ID" 2>/dev/null)" ] && break
    sleep 2
done
[ -f "$W/out/merged.h5" ] || fail "no merged file after the jobs (squeue: $(squeue 2>&1 | tail -3))"
echo "test_slurm: a failed shard left the merge waiting; --resubmit ran it and merged"
"$MG" run "${ARGS[@]}" --quiet --out "$W/single.h5" > /dev/null || fail "the single run failed"
/usr/bin/python3 - "$W/out/merged.h5" "$W/single.h5" <<'PY' || fail "merged statistics differ"
import sys, h5py, numpy as np
m, s = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
assert np.array_equal(m["stats/sums/i"][()], s["stats/sums/i"][()]), "integer sums differ"
a, b = m["stats/sums/d"][()], s["stats/sums/d"][()]
# relative to the magnitude of each field (a cross-spectral sum that cancels to ~0 is only as
# exact as its terms); for the fields that do not cancel this is the elementwise relative error
worst = 0.0
fields = s["stats/sums"].attrs["d_fields"]
fields = fields.decode() if isinstance(fields, bytes) else fields
for line in fields.strip().splitlines():
    name, off, n = line.split(); off, n = int(off), int(n)
    if n == 0:
        continue
    scale = max(np.abs(b[off:off + n]).max(), 1e-300)
    err = np.abs(a[off:off + n] - b[off:off + n]).max() / scale
    assert err <= 1e-12, "field %s differs: %g relative to its scale" % (name, err)
    worst = max(worst, err)
rel = worst
assert np.array_equal(m["traces/A_N"][()], s["traces/A_N"][()]), "traces differ"
assert m.attrs["realization_count"] == 40 and m.attrs["merged_shards"] == 4
print("test_slurm: merged == single: integers bitwise, floats max relative %.2g, traces bitwise"
      % rel.max())
PY
echo "test_slurm: passed"
