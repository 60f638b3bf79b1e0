#!/bin/bash
# tests/validate/run_validate.sh: `make validate`: the long statistical validations, every
# tests/validate/*.sh but this one, in name order, from the repository root. Each prints
# PASS/FAIL lines and exits non-zero on failure; this script exits 1 if any did.
# Uses $MESOGIF when set, else bin/mesogif (exported to the scripts).
set -u
cd "$(dirname "$0")/../.." || exit 1
export MESOGIF=${MESOGIF:-bin/mesogif}
fail=0
for t in tests/validate/*.sh; do
    [ "$(basename "$t")" = run_validate.sh ] && continue
    echo "== $t"
    start=$(date +%s)
    bash "$t" || fail=1
    echo "   ($(( $(date +%s) - start )) s)"
done
if [ $fail -ne 0 ]; then
    echo "SOME VALIDATIONS FAILED"
    exit 1
fi
echo "all validations passed"
