/* src/core/hd.h: qualifiers that let one function body compile for the host (cc) and the
 * device (nvcc), and the few primitives whose spelling differs between the two.
 * Internal header, not public API. See STYLE.md item 12 for the common subset of C11 and
 * CUDA C++ that MG_HD functions are written in. */
#ifndef MESOGIF_CORE_HD_H
#define MESOGIF_CORE_HD_H

#include <stdint.h>
#include <string.h> /* memcpy (host bit casts) */

#if defined(__CUDACC__)
#  define MG_HD       __host__ __device__
#  define MG_RESTRICT __restrict__
#  if defined(__CUDACC_VER_MAJOR__) && __CUDACC_VER_MAJOR__ < 11
#    error "mesogif needs CUDA 11 or newer (FP64 reproducibility relies on -fmad=false semantics of recent nvcc)"
#  endif
#else
#  define MG_HD
#  define MG_RESTRICT restrict
#endif

/* Lanes per call of the lane-block functions in src/core: how many realizations one call
 * advances side by side. On the host the lanes are SIMD lanes (contiguous doubles, one
 * vector register of AVX-512); on the device each thread is one realization. The same
 * source is compiled with both values. */
#if defined(__CUDA_ARCH__)
#  define MG_VL 1
#else
#  define MG_VL 8
#endif

/* Inlining that the host's vectorizer relies on (a constant stride must reach the loop). */
#if defined(__CUDACC__)
#  define MG_FORCE_INLINE __forceinline__ MG_HD
#else
#  define MG_FORCE_INLINE inline __attribute__((always_inline)) MG_HD
#endif

/* Hint that the loop over lanes carries no dependence (vectorize it on the host). */
#if defined(__CUDA_ARCH__) || !defined(_OPENMP)
#  define MG_SIMD
#  define MG_SIMD_MAX(var)
#  define MG_SIMD_OR(var)
#  define MG_SIMD_MAXU(var)
#else
#  define MG_SIMD _Pragma("omp simd")
#  define MG_SIMD_PRAGMA_(x) _Pragma(#x)
/* a lane loop that also takes the maximum of a double over the lanes */
#  define MG_SIMD_MAX(var) MG_SIMD_PRAGMA_(omp simd reduction(max:var))
/* a lane loop that also ORs an int over the lanes */
#  define MG_SIMD_OR(var) MG_SIMD_PRAGMA_(omp simd reduction(|:var))
/* a lane loop that also takes the maximum of an unsigned integer over the lanes */
#  define MG_SIMD_MAXU(var) MG_SIMD_PRAGMA_(omp simd reduction(max:var))
#endif

/* Bit casts between double and its IEEE-754 bit pattern. */
static inline MG_HD uint64_t mg_bits_of(double x)
{
#if defined(__CUDA_ARCH__)
    return (uint64_t)__double_as_longlong(x);
#else
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
#endif
}

static inline MG_HD double mg_double_of(uint64_t b)
{
#if defined(__CUDA_ARCH__)
    return __longlong_as_double((long long)b);
#else
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
#endif
}

/* c ? a : b, as a select of bit patterns on the host. A plain ?: whose one side is used only
 * there lets gcc move that side's computation into a branch, which it cannot vectorize
 * without AVX-512's masks; both sides of this select are always computed. Exact: the result
 * is one of the two values, bit for bit. */
static inline MG_HD double mg_select(int c, double a, double b)
{
#if defined(__CUDA_ARCH__)
    return c ? a : b;
#else
    uint64_t m = (uint64_t)0 - (uint64_t)(c != 0);
    return mg_double_of((mg_bits_of(a) & m) | (mg_bits_of(b) & ~m));
#endif
}

#endif /* MESOGIF_CORE_HD_H */
