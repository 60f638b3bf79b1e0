# tests/ffs_lib.sh: what the tests and validations of `mesogif switch` share (tests/test_ffs.sh,
# tests/test_ffs_micro.sh, tests/validate/ffs*); source it after tests/lib.sh (needs $PY).
# Not a test itself (the Makefile runs tests/test_*.sh).

# rates OUT: "k lo hi k lo hi" (from low, from high) from the last two lines of a switch run
rates() {
    tail -2 "$1" | sed -E 's/^rate from (low|high): ([^ ]+) Hz \[([^,]+), ([^]]+)\] \(95 %\)$/\2 \3 \4/' |
        tr '\n' ' '
}

# overlap "k lo hi" "k lo hi": exit 0 when [lo1, hi1] and [lo2, hi2] overlap
overlap() {
    $PY -c 'import sys; a=[float(x) for x in sys.argv[1].split()]; b=[float(x) for x in sys.argv[2].split()]; sys.exit(0 if a[1] <= b[2] and b[1] <= a[2] else 1)' "$1" "$2"
}

# model N FILE: B1 (data/models/bistable_b1.json) scaled to N neurons per population with J N
# fixed (J = -0.043 * 500 / N mV)
model() {
    $PY - "$1" "$2" <<'PYEOF'
import json, sys
n = int(sys.argv[1])
m = json.load(open("data/models/bistable_b1.json"))
m["name"] = "b1_N%d" % n
for p in m["populations"]:
    p["N"] = n
for q in m["projections"]:
    q["J"] = -0.043 * 500 / n
json.dump(m, open(sys.argv[2], "w"))
PYEOF
}

# stop_at PATTERN CMD...: run CMD in the background (stdout and stderr to $T/stdout and
# $T/stderr), send it SIGTERM once its stderr shows PATTERN (or after 60 s), wait for it; its
# exit status in $rc. The signal follows a progress line, so it lands in the same phase on a
# fast machine as on a slow one.
stop_at() {
    local pattern=$1
    shift
    "$@" >"$T/stdout" 2>"$T/stderr" &
    local pid=$!
    for _ in $(seq 3000); do
        grep -q -- "$pattern" "$T/stderr" && break
        sleep 0.02
    done
    kill -TERM $pid
    wait $pid
    rc=$?
}

# same_rates A.h5 B.h5: exit 0 when the rates, their intervals, the stage tallies and the
# simulated time of two switch files are the same bits
same_rates() {
    local ds
    for ds in rate_hz rate_ci_low rate_ci_high from_low/successes from_high/trials \
        trial_realization_s basin_realization_s; do
        [ "$(h5dump -d "/switching/ffs/$ds" "$1" | grep -A3 DATA)" = \
          "$(h5dump -d "/switching/ffs/$ds" "$2" 2>/dev/null | grep -A3 DATA)" ] || return 1
    done
}
