#!/bin/bash
# tests/test_python.sh: the Python package (python/mesogif, issue 18) with pytest under
# /usr/bin/python3, against the shared library of the build folder (MG_BUILD, default build) and
# its command line (MESOGIF), then python/examples/fig1.py with small sizes. Run by `make
# test-cli`; by hand: MG_BUILD=build/x MESOGIF=build/x/bin/mesogif bash tests/test_python.sh.
# pytest's exit status is this script's; a run that collects no test, or skips one, fails.
# The tests are seeded and compare bitwise or exactly: no false failures (python/tests).
set -u
cd "$(dirname "$0")/.."
BUILD=${MG_BUILD:-build}
export MESOGIF=${MESOGIF:-bin/mesogif}
export MESOGIF_LIBRARY=$PWD/$BUILD/libmesogif.so.0
PY=/usr/bin/python3
if [ ! -e "$MESOGIF_LIBRARY" ]; then
    echo "FAIL python: $MESOGIF_LIBRARY is not built"
    exit 1
fi
# a sanitizer build of the library cannot be loaded into the (uninstrumented) interpreter;
# make check-asan covers the C side, make test the Python side
if readelf -d "$MESOGIF_LIBRARY" | grep -q libasan; then
    echo "SKIP python: $BUILD is a sanitizer build (the Python tests run in make test)"
    exit 0
fi
for mod in numpy h5py cffi pytest tqdm matplotlib; do
    if ! $PY -c "import $mod" 2>/dev/null; then
        echo "FAIL python: /usr/bin/python3 lacks $mod (make deps installs python3-$mod)"
        exit 1
    fi
done
T=$(mktemp -d /tmp/mg_test_python.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
$PY -m pytest python/tests -q -p no:cacheprovider -rs >"$T/pytest.log" 2>&1
rc=$?
tail -n 15 "$T/pytest.log"
if [ $rc -ne 0 ]; then
    echo "FAIL python: pytest exit status $rc"
    fail=1
elif ! grep -Eq '^[0-9]+ passed' "$T/pytest.log" || grep -Eq 'skipped|no tests ran' "$T/pytest.log"; then
    echo "FAIL python: pytest ran no test or skipped some"
    fail=1
else
    echo "PASS python: $(grep -E '^[0-9]+ passed' "$T/pytest.log")"
fi
if $PY python/examples/fig1.py -o "$T/fig1.png" --micro 4 --meso 8 --t-sim 3s --threads 2 \
    --no-progress >"$T/fig1.log" 2>&1 && [ -s "$T/fig1.png" ]; then
    echo "PASS python/examples/fig1.py (small sizes): $(tail -n 1 "$T/fig1.log")"
else
    echo "FAIL python/examples/fig1.py"
    cat "$T/fig1.log"
    fail=1
fi
exit $fail
