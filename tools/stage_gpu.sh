#!/usr/bin/env bash
# tools/stage_gpu.sh [STAGE]: build portable copies of mesogif (x86-64-v3: AVX2, runs on any
# recent x86 host of a GPU; and x86-64-v4: AVX-512, which run.sh picks where the host has it,
# so that the CPU baseline of the GPU benchmark is fair) and stage them with every shared
# library they need into STAGE
# (default build/stage), for a GPU machine that has the CUDA driver but none of our Debian
# packages. On that machine: `bash STAGE/gpu_check.sh` (see tools/gpu_check.sh).
# The C library family is staged separately (lib/glibc) and used only when the host's is older
# than the one we built against. The CUDA driver (libcuda) always comes from the host.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=${1:-build/stage}
PROGS="tests/test_gpu tests/test_gpu_micro tests/test_ffs_cuda tests/test_rng tests/test_binom tests/test_fmath"
rm -rf "$STAGE"
mkdir -p "$STAGE/bin" "$STAGE/bin-avx512" "$STAGE/lib/glibc" "$STAGE/data"
for v in 3 4; do
    P=build/portable-v$v
    make --no-print-directory BUILD=$P BINDIR=$P/bin MARCH=x86-64-v$v $P/bin/mesogif \
        $(for t in $PROGS; do printf '%s ' "$P/$t"; done) >/dev/null
    dst="$STAGE/bin"
    [ $v = 4 ] && dst="$STAGE/bin-avx512"
    cp $P/bin/mesogif $(for t in $PROGS; do printf '%s ' "$P/$t"; done) "$dst/"
done
# without debug symbols: the folder travels to the device machine with a size limit (64 MiB)
strip "$STAGE"/bin/* "$STAGE"/bin-avx512/*
cp -r data/models "$STAGE/data/"
cp tools/gpu_check.sh tools/gpu_sanitize.sh bench/bench_gpu.sh "$STAGE/"
for lib in $(ldd "$STAGE"/bin/* | awk '/=> \// {print $3}' | sort -u); do
    case $(basename "$lib") in
    libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | libmvec.so*)
        cp -L "$lib" "$STAGE/lib/glibc/" ;;
    libcuda.so*) ;;
    *) cp -L "$lib" "$STAGE/lib/" ;;
    esac
done
cp -L /lib64/ld-linux-x86-64.so.2 "$STAGE/lib/glibc/"
cat > "$STAGE/run.sh" <<'RUN'
#!/usr/bin/env bash
# run.sh PROGRAM ARGS...: run a staged program with the staged libraries (and the staged C
# library if the host's is too old for it).
here=$(cd "$(dirname "$0")" && pwd)
prog=$1; shift
# the AVX-512 build where the host has it (bin-avx512/ mirrors bin/)
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    case $prog in bin/*) prog="bin-avx512/${prog#bin/}" ;; */bin/*) prog="${prog%/bin/*}/bin-avx512/${prog##*/bin/}" ;; esac
fi
[ -x "$prog" ] || prog="$here/bin/$prog"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if "$prog" --version >/dev/null 2>&1 || [ "$(basename "$prog")" != mesogif ] && \
   LD_LIBRARY_PATH="$here/lib" "$here/bin/mesogif" --version >/dev/null 2>&1; then
    exec "$prog" "$@"
fi
drv=$(ldconfig -p 2>/dev/null | awk '/libcuda.so.1 / {print $NF; exit}')
exec "$here/lib/glibc/ld-linux-x86-64.so.2" \
    --library-path "$here/lib:$here/lib/glibc${drv:+:$(dirname "$drv")}:/usr/local/nvidia/lib64:/usr/lib/x86_64-linux-gnu" \
    "$prog" "$@"
RUN
chmod +x "$STAGE/run.sh"
du -sh "$STAGE" | awk '{print "staged in '"$STAGE"': " $1}'
