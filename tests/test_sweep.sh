#!/bin/bash
# tests/test_sweep.sh: `mesogif sweep` (src/cli/cli_sweep.c) end to end (`make test-cli`, run from
# the repository root). Uses $MESOGIF when set, else bin/mesogif. Runs of 0.5 s, 3 realizations.
#
#   grid:        --set-grid P1.I_e=200:250:25 --set-grid P1.Delta_V=2,3 on the uncoupled model
#                gives 6 files and an index of 6 rows in row-major order (Delta_V fastest);
#                point 3 (I_e 225, Delta_V 3) has the /stats bits of `run --set P1.I_e=225
#                --set P1.Delta_V=3`; the rate in the index grows with I_e.
#   one point:   --point 4 runs only point 4 and writes no index; --index-only then names the
#                missing point 0 (exit 1); after the other points, --index-only writes the index.
#   bad input:   an unknown key in a grid, a bad range, --point beyond the grid, a bad run
#                option, --out: exit 2, one line on stderr, no point file.
# One line per case (PASS/FAIL name); exit status 1 on any failure.
set -u

UNC=data/models/uncoupled.json
. "$(dirname "$0")/lib.sh"
mg_begin test_sweep "$UNC"
RO=(--t-sim 500ms --t-warmup 100ms --realizations 3 --seed 9 --quiet --backend cpu)
GRID=(--set-grid P1.I_e=200:250:25 --set-grid P1.Delta_V=2,3)

"$M" sweep "$UNC" "${GRID[@]}" --out-dir "$T/a" "${RO[@]}" >"$T/out" 2>"$T/err"
rc=$?
n_files=$(ls "$T/a"/point_*.h5 2>/dev/null | wc -l)
order=$(cut -d, -f1-3 "$T/a/index.csv" 2>/dev/null | tr '\n' ' ')
want="point,P1.I_e,P1.Delta_V 0,200,2 1,200,3 2,225,2 3,225,3 4,250,2 5,250,3 "
if [ $rc -eq 0 ] && [ "$n_files" -eq 6 ] && [ "$order" = "$want" ]; then
    pass "grid: 6 points, index in row-major order"
else
    fail "grid: 6 points, index in row-major order (rc $rc, $n_files files, '$order'," \
        "$(head -c 300 "$T/err"))"
fi
"$M" run "$UNC" "${RO[@]}" --set P1.I_e=225 --set P1.Delta_V=3 --out "$T/p3.h5" >/dev/null 2>&1
if h5diff "$T/a/point_3.h5" "$T/p3.h5" /stats >/dev/null 2>&1; then
    pass "grid: a point is the run with its --set (/stats bitwise)"
else
    fail "grid: a point is the run with its --set (/stats bitwise)"
fi
# columns: point, I_e, Delta_V, file, mean_A, sem, var; at Delta_V = 2: rows 0, 2, 4
if awk -F, 'NR > 1 && $3 == 2 { if (n && $5 <= last) bad = 1; last = $5; n++ }
            END { exit !(n == 3 && !bad) }' "$T/a/index.csv"; then
    pass "grid: the rate grows with I_e"
else
    fail "grid: the rate grows with I_e ($(cat "$T/a/index.csv"))"
fi

"$M" sweep "$UNC" "${GRID[@]}" --out-dir "$T/b" --point 4 "${RO[@]}" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && [ -f "$T/b/point_4.h5" ] && [ "$(ls "$T/b" | wc -l)" -eq 1 ]; then
    pass "one point: --point 4 writes point_4.h5 only"
else
    fail "one point: --point 4 writes point_4.h5 only (rc $rc: $(ls "$T/b" 2>&1 | tr '\n' ' '))"
fi
"$M" sweep "$UNC" "${GRID[@]}" --out-dir "$T/b" --index-only >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "point 0" "$T/err" && [ ! -e "$T/b/index.csv" ]; then
    pass "one point: --index-only names a missing point"
else
    fail "one point: --index-only names a missing point (rc $rc: $(head -c 300 "$T/err"))"
fi
for k in 0 1 2 3 5; do
    "$M" sweep "$UNC" "${GRID[@]}" --out-dir "$T/b" --point $k "${RO[@]}" >/dev/null 2>&1
done
"$M" sweep "$UNC" "${GRID[@]}" --out-dir "$T/b" --index-only >/dev/null 2>"$T/err"
if [ $? -eq 0 ] && cmp -s "$T/a/index.csv" "$T/b/index.csv"; then
    pass "one point: the points run one by one give the same index"
else
    fail "one point: the points run one by one give the same index ($(head -c 300 "$T/err"))"
fi

check_bad() { # name, expected text, sweep arguments...
    local name=$1 want=$2
    shift 2
    rm -rf "$T/x"
    "$M" sweep "$UNC" "$@" --out-dir "$T/x" >"$T/out" 2>"$T/err"
    local rc=$? n
    n=$(wc -l <"$T/err")
    if [ $rc -eq 2 ] && [ "$n" -eq 1 ] && grep -qF -- "$want" "$T/err" &&
       [ -z "$(ls "$T/x" 2>/dev/null)" ]; then
        pass "bad input: $name"
    else
        fail "bad input: $name (rc $rc, $n lines: $(head -c 300 "$T/err"))"
    fi
}
check_bad "unknown key" 'point 0: --set P1.I_ee=1: /populations/0/I_ee: unknown key' \
    --set-grid P1.I_ee=1,2 "${RO[@]}"
check_bad "bad range" "--set-grid 'P1.I_e=300:200:25': bad range" \
    --set-grid P1.I_e=300:200:25 "${RO[@]}"
check_bad "point beyond the grid" "--point 7, but the grid has 2 points" \
    --set-grid P1.I_e=200,210 --point 7 "${RO[@]}"
check_bad "bad run option" "--t-sim" --set-grid P1.I_e=200,210 --t-sim abc
check_bad "--out" "--out is not allowed" --set-grid P1.I_e=200,210 --out x.h5

mg_end
