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
