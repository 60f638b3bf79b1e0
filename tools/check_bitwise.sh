#!/usr/bin/env bash
# tools/check_bitwise.sh BASE_BIN NEW_BIN [WORKDIR]: are two builds of mesogif interchangeable for
# users? Runs the same commands with both binaries (2 threads, CPU) and requires
#  - result files bitwise identical (h5diff -r, after deleting only the attributes that record
#    the build and the time: git_commit, created, wall_s), for B1 (data/models/bistable_b1.json)
#    and NEST E/I (data/models/nest_brunel_ei.json) at the meso and the micro level, with and
#    without --theory, and for two shards merged by `mesogif merge`;
#  - the same printed summary (stdout; the line with the wall time left out).
# Both binaries are run through the same path (a symlink), from folders of the same name, so
# that the recorded command line is the same. Exit 0 when all agree, 1 otherwise.
# Used for issue 16 (a refactoring that must change nothing a user sees); keep it for the next.
set -uo pipefail
BASE=$(readlink -f "$1"); NEW=$(readlink -f "$2")
WORK=${3:-$(mktemp -d /tmp/check_bitwise.XXXXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B1=$ROOT/data/models/bistable_b1.json
EI=$ROOT/data/models/nest_brunel_ei.json
export OMP_NUM_THREADS=2

# name | arguments of mesogif (the output file is always out.h5 in the case's folder)
CASES=(
  "b1_meso|run $B1 --t-sim 3s --realizations 6 --record-realizations 2 --threads 2 --seed 7"
  "b1_meso_theory|run $B1 --t-sim 2s --realizations 4 --threads 2 --theory"
  "b1_micro|run $B1 --level micro --t-sim 1s --realizations 2 --threads 2 --seed 3"
  "ei_meso|run $EI --t-sim 2s --realizations 4 --record-realizations 2 --threads 2 --theory"
  "ei_micro|run $EI --level micro --t-sim 1s --realizations 2 --record-realizations 2 --threads 2 --theory"
  "ei_micro_shared|run $EI --level micro --t-sim 500ms --realizations 3 --threads 2 --connectivity shared"
)

strip_attrs() { # file: delete the build/time attributes in place
    /usr/bin/python3 - "$1" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    def visit(name, obj):
        for a in ("git_commit", "created", "wall_s"):
            if a in obj.attrs:
                del obj.attrs[a]
    visit("/", f)
    f.visititems(visit)
PY
}

run_case() { # side name args...
    local side=$1 name=$2; shift 2
    mkdir -p "$WORK/$side/bin" "$WORK/$side/$name"
    cd "$WORK/$side/$name" || return 1
    "$WORK/$side/bin/mesogif" "$@" --out out.h5 --force --quiet > stdout.txt 2> stderr.txt
    echo $? > rc.txt
}

fail=0
for side in base new; do
    mkdir -p "$WORK/$side/bin"
    bin=$BASE; [ $side = new ] && bin=$NEW
    ln -sf "$bin" "$WORK/$side/bin/mesogif"
done
# the same absolute path for both sides: each side's folder is moved to $WORK/run while it runs
for side in base new; do
    for c in "${CASES[@]}"; do
        name=${c%%|*}; args=${c#*|}
        rm -rf "$WORK/run"; mkdir -p "$WORK/run/bin"
        ln -sf "$(readlink "$WORK/$side/bin/mesogif")" "$WORK/run/bin/mesogif"
        (run_case run "$name" $args)
        rm -rf "$WORK/$side/$name"; mv "$WORK/run/$name" "$WORK/$side/$name"
    done
    # shards and merge
    rm -rf "$WORK/run"; mkdir -p "$WORK/run/bin" "$WORK/run/merge"
    ln -sf "$(readlink "$WORK/$side/bin/mesogif")" "$WORK/run/bin/mesogif"
    ( cd "$WORK/run/merge" &&
      for s in 0 1; do
          ../bin/mesogif run "$B1" --t-sim 2s --realizations 5 --shard $s/2 --threads 2 \
              --record-realizations 3 --out s$s.h5 --force --quiet > /dev/null 2>&1 || exit 1
      done
      ../bin/mesogif merge out.h5 s0.h5 s1.h5 --force > stdout.txt 2> stderr.txt
      echo $? > rc.txt
      for s in 0 1; do
          ../bin/mesogif run "$EI" --level micro --t-sim 500ms --realizations 3 --shard $s/2 \
              --threads 2 --record-realizations 3 --out m$s.h5 --force --quiet > /dev/null 2>&1 || exit 1
      done
      ../bin/mesogif merge micro.h5 m0.h5 m1.h5 --force >> stdout.txt 2>> stderr.txt
      echo $? >> rc.txt )
    rm -rf "$WORK/$side/merge"; mv "$WORK/run/merge" "$WORK/$side/merge"
done

names=$(for c in "${CASES[@]}"; do printf '%s ' "${c%%|*}"; done)
for name in $names merge; do
    b=$WORK/base/$name; n=$WORK/new/$name
    ok=1
    if ! cmp -s "$b/rc.txt" "$n/rc.txt"; then
        echo "DIFF $name: exit status $(tr '\n' ' ' < "$b/rc.txt")/ $(tr '\n' ' ' < "$n/rc.txt")"; ok=0
    fi
    if ! diff <(grep -v '^wall ' "$b/stdout.txt") <(grep -v '^wall ' "$n/stdout.txt") > "$WORK/$name.stdout.diff"; then
        echo "DIFF $name: printed summary differs ($WORK/$name.stdout.diff)"; ok=0
    fi
    if grep -qv '^0$' "$b/rc.txt"; then echo "FAIL $name: exit status $(tr '\n' ' ' < "$b/rc.txt")($b)"; ok=0; fi
    for f in "$b"/*.h5; do
        h=$(basename "$f")
        [ -f "$n/$h" ] || { echo "DIFF $name: $h missing in new"; ok=0; continue; }
        strip_attrs "$f"; strip_attrs "$n/$h"
        if ! h5diff -r "$f" "$n/$h" > "$WORK/$name.$h.h5diff" 2>&1; then
            echo "DIFF $name: $h differs ($WORK/$name.$h.h5diff)"; ok=0
        fi
    done
    [ "$(ls "$b"/*.h5 2>/dev/null | wc -l)" -gt 0 ] || { echo "DIFF $name: no output file"; ok=0; }
    if [ $ok = 1 ]; then echo "same $name ($(ls "$b"/*.h5 | xargs -n1 basename | tr '\n' ' '))"; else fail=1; fi
done
[ $fail = 0 ] && echo "check_bitwise: all outputs identical ($WORK)" || echo "check_bitwise: DIFFERENCES ($WORK)"
exit $fail
