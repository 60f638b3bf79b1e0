#!/bin/bash
# tests/test_api.sh: the C library as a user outside this tree sees it (issue 16 point 1): `make
# install` into a temporary PREFIX, then tests/api/api_example.c compiled with only the installed
# headers and `pkg-config --cflags --libs mesogif` (PKG_CONFIG_PATH at that PREFIX), run against
# the installed libmesogif.so, and checked to link it (not the static archive).
# Run by `make test-cli` (MG_BUILD = the build folder, MESOGIF = its binary; the make variables of
# that call, e.g. NVCC= or CFLAGS, reach the `make install` here through MAKEFLAGS). By hand:
#   NVCC= MG_BUILD=build/x MESOGIF=build/x/bin/mesogif bash tests/test_api.sh
# Deterministic (fixed seed; the checks are exact): no false failures.
set -u
cd "$(dirname "$0")/.."
M=${MESOGIF:-bin/mesogif}
BUILD=${MG_BUILD:-build}
BINDIR=$(dirname "$M")
T=$(mktemp -d /tmp/mg_test_api.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
pass() { echo "PASS $1"; }
failed() { echo "FAIL $1"; fail=1; }

if make -s install PREFIX="$T/prefix" BUILD="$BUILD" BINDIR="$BINDIR" >"$T/install.log" 2>&1; then
    pass "make install PREFIX=<tmp>"
else
    failed "make install PREFIX=<tmp> (see below)"
    tail -20 "$T/install.log"
    exit 1
fi
L=$T/prefix/lib
if [ -f "$L/libmesogif.so.0.1.0" ] && [ "$(readlink "$L/libmesogif.so.0")" = libmesogif.so.0.1.0 ] &&
   [ "$(readlink "$L/libmesogif.so")" = libmesogif.so.0 ] && [ -f "$L/libmesogif.a" ] &&
   [ -f "$L/pkgconfig/mesogif.pc" ] && [ -f "$T/prefix/include/mesogif/run.h" ] &&
   [ -f "$L/python3/dist-packages/mesogif/__init__.py" ]; then
    pass "installed: libmesogif.so.0.1.0 with its two links, .a, mesogif.pc, headers, Python package"
else
    failed "installed files"
    find "$T/prefix" | sort
fi
if readelf -d "$L/libmesogif.so.0.1.0" | grep -q 'SONAME.*\[libmesogif.so.0\]'; then
    pass "soname libmesogif.so.0"
else
    failed "soname libmesogif.so.0"
fi
# no command-line symbol in the library, nothing of mesogif left undefined
if nm -D "$L/libmesogif.so.0.1.0" | grep -q 'mg_cli_'; then
    failed "the shared library holds command-line code (mg_cli_*)"
elif nm -D --undefined-only "$L/libmesogif.so.0.1.0" | grep -q ' mg_'; then
    failed "the shared library has undefined mg_ symbols"
else
    pass "the shared library holds no mg_cli_* and leaves no mg_* undefined"
fi

export PKG_CONFIG_PATH=$L/pkgconfig
if ! FLAGS=$(pkg-config --cflags --libs mesogif); then
    failed "pkg-config --cflags --libs mesogif"
    exit 1
fi
# a sanitizer build of the library needs its runtime in the program too (check-asan)
SAN=
readelf -d "$L/libmesogif.so.0.1.0" | grep -q 'libasan' && SAN="-fsanitize=address,undefined"
# shellcheck disable=SC2086
if cc -std=c11 -Wall -Wextra -Werror $SAN tests/api/api_example.c $FLAGS -lm -o "$T/api_example" \
    2>"$T/cc.log"; then
    pass "api_example.c builds with the installed headers and pkg-config alone"
else
    failed "api_example.c build"
    cat "$T/cc.log"
    exit 1
fi
if ldd "$T/api_example" | grep -q "$L/libmesogif.so.0"; then
    pass "api_example links the installed libmesogif.so.0"
else
    failed "api_example does not link the installed shared library"
    ldd "$T/api_example"
fi
if (cd "$T" && ./api_example "$T/api.h5"); then
    pass "api_example: parse, estimate, run with progress and cancel, read, write, read back"
else
    failed "api_example"
fi
if [ -f "$T/api.h5" ] && "$M" info "$T/api.h5" >/dev/null; then
    pass "the file it wrote is a result (mesogif info)"
else
    failed "the file api_example wrote"
fi
# the installed Python package finds the installed library by itself (no MESOGIF_LIBRARY)
if [ -z "$SAN" ]; then
    if (cd "$T" && env -u MESOGIF_LIBRARY PYTHONPATH="$L/python3/dist-packages" /usr/bin/python3 -c "
import mesogif
assert mesogif.LIBRARY_PATH == '$L/libmesogif.so.0', mesogif.LIBRARY_PATH
from mesogif import _ffi
assert _ffi.INCLUDE_DIR == '$T/prefix/include', _ffi.INCLUDE_DIR
r = mesogif.run(realizations=2, t_sim='1s', threads=2, progress=False)
print(mesogif.LIBRARY_PATH, r.mean_A)"); then
        pass "the installed Python package runs on the installed library"
    else
        failed "the installed Python package"
    fi
fi
line=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory python BUILD="$BUILD" BINDIR="$BINDIR")
if [ "$line" = "export PYTHONPATH=$PWD/python MESOGIF_LIBRARY=$PWD/$BUILD/libmesogif.so.0" ]; then
    pass "make python: $line"
else
    failed "make python printed '$line'"
fi
exit $fail
