# tests/lib.sh: what the command-line tests (tests/test_*.sh) share. Source it from the
# repository root after `set -u`:
#     . tests/lib.sh
#     mg_begin test_x data/models/uncoupled.json     # the files the test reads
#     run "$M" run ...; if [ $rc -eq 0 ]; then pass "case"; else fail "case" "exit $rc"; fi
#     mg_end
# It sets M (the binary: $MESOGIF, else bin/mesogif), PY (/usr/bin/python3 where present, else
# python3) and, in mg_begin, T (a fresh temporary folder, removed on exit).

M=${MESOGIF:-bin/mesogif}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
n_pass=0
n_fail=0
rc=0
mg_show_stdout=0 # lines of $T/stdout a failure shows (0: none)

# mg_begin NAME FILE...: stop with one FAIL line when $M is not an executable or a FILE is
# missing (the test runs from the repository root); then make $T.
mg_begin() {
    mg_name=$1
    shift
    if [ ! -x "$M" ]; then
        echo "FAIL setup: $M is not an executable (build it with make, or set MESOGIF)"
        exit 1
    fi
    local f
    for f in "$@"; do
        if [ ! -f "$f" ]; then
            echo "FAIL setup: $f not found (run from the repository root)"
            exit 1
        fi
    done
    T=$(mktemp -d "/tmp/mg_$mg_name.XXXXXX") || exit 1
    trap 'rm -rf "$T"' EXIT
}

# pass NAME: a PASS line (MG_TEST_VERBOSE=1 shows the stderr of the last `run` too, to review
# the messages).
pass() {
    echo "PASS $1"
    n_pass=$((n_pass + 1))
    if [ -n "${MG_TEST_VERBOSE:-}" ] && [ -s "$T/stderr" ]; then
        sed 's/^/      stderr: /' "$T/stderr" | head -5
    fi
}

# fail NAME [WHY]: a FAIL line, then what the last `run` printed.
fail() {
    echo "FAIL $1${2:+: $2}"
    n_fail=$((n_fail + 1))
    if [ "$mg_show_stdout" -gt 0 ] && [ -s "$T/stdout" ]; then
        tail -n "$mg_show_stdout" "$T/stdout" | sed 's/^/      stdout: /'
    fi
    if [ -s "$T/stderr" ]; then sed 's/^/      stderr: /' "$T/stderr" | head -5; fi
}

# run CMD...: run it with stdout and stderr to $T/stdout, $T/stderr; exit status in $rc.
run() {
    "$@" >"$T/stdout" 2>"$T/stderr"
    rc=$?
}

# mg_term_after SECONDS CMD...: start CMD (its output discarded), send it SIGTERM after
# SECONDS; its exit status in $code (a run: 75 with a checkpoint written when it was still
# going, 0 when it ended before the signal).
mg_term_after() {
    local delay=$1 pid
    shift
    "$@" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -TERM $pid 2>/dev/null
    wait $pid
    code=$?
}

# mg_end: the count line; the exit status is 1 on any failure.
mg_end() {
    echo "$mg_name: $n_pass passed, $n_fail failed"
    [ $n_fail -eq 0 ]
    exit
}
