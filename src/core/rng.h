/* src/core/rng.h: counter-based random numbers for host and device.
 *
 * Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3",
 * SC'11), taken from the Random123 header <Random123/philox.h> on both sides: cc compiles it for
 * the host and nvcc for the device, so the raw 32-bit streams are the same function on both
 * (we do not use cuRAND's Philox because its state layout and its counter increment are not
 * documented as equal to Random123's; one header means one definition).
 *
 * Key = (seed, stream kind); counter = (realization, unit, step, draw). "unit" is the population
 * (meso) or the neuron (micro); "draw" numbers the 4-word blocks used by one (unit, step), so a
 * rejection sampler may use as many as it needs. A number therefore depends only on
 * (seed, stream, realization, unit, step, draw): never on batch, thread, backend or shard. */
#ifndef MESOGIF_CORE_RNG_H
#define MESOGIF_CORE_RNG_H

#include "core/hd.h"
/* Random123 marks its functions __device__ under nvcc; ours are __host__ __device__, and its
 * portable multiply-high compiles for both passes, so widen the qualifier before including. */
#if defined(__CUDACC__) && !defined(R123_CUDA_DEVICE)
#  define R123_CUDA_DEVICE __host__ __device__
#endif
#include <Random123/philox.h>

/* Stream kinds (second key word). Add new kinds at the end; never renumber. */
enum {
    MG_STREAM_MESO_COUNT = 1,   /* meso: spike-count draw per population and step */
    MG_STREAM_MICRO_SPIKE = 2,  /* micro: escape-noise uniforms per neuron and step */
    MG_STREAM_CONNECT = 3,      /* micro: quenched connectivity */
    MG_STREAM_STIM_OU = 4,      /* frozen OU stimulus currents (src/model/stimulus.c), per population */
    MG_STREAM_STIM_OU_IND = 5,  /* OU currents independent per realization (core/stim_ou.h) */
    MG_STREAM_FFS_BOOT = 0x46465342, /* "FFSB": the FFS tree bootstrap (src/ffs/ffs_stats.c) */
    MG_STREAM_TEST = 99         /* tests only */
};

/* A short-lived generator for one (realization, unit, step): lives in registers for the
 * duration of one draw and is never stored in the ensemble state. */
typedef struct {
    philox4x32_ctr_t ctr;  /* (realization, unit, step, draw) */
    philox4x32_key_t key;  /* (seed, stream) */
    philox4x32_ctr_t out;  /* the current block of 4 words */
    int used;              /* words of out already consumed, 0..4 */
} mg_rng;

static inline MG_HD void mg_rng_init(mg_rng *g, uint32_t seed, uint32_t stream,
                                     uint32_t realization, uint32_t unit, uint32_t step)
{
    g->key.v[0] = seed;
    g->key.v[1] = stream;
    g->ctr.v[0] = realization;
    g->ctr.v[1] = unit;
    g->ctr.v[2] = step;
    g->ctr.v[3] = 0;
    g->out.v[0] = g->out.v[1] = g->out.v[2] = g->out.v[3] = 0;
    g->used = 4;
}

/* The raw Philox4x32-10 block for an explicit counter (for known-answer tests and for callers
 * that use all four words at once). Pure. */
static inline MG_HD philox4x32_ctr_t mg_philox_block(uint32_t seed, uint32_t stream, uint32_t c0,
                                                     uint32_t c1, uint32_t c2, uint32_t c3)
{
    philox4x32_ctr_t c;
    philox4x32_key_t k;
    c.v[0] = c0;
    c.v[1] = c1;
    c.v[2] = c2;
    c.v[3] = c3;
    k.v[0] = seed;
    k.v[1] = stream;
    return philox4x32(c, k);
}

/* Next raw 32-bit word: words 0..3 of block draw = 0, then of block 1, ... */
static inline MG_HD uint32_t mg_rng_u32(mg_rng *g)
{
    if (g->used == 4) {
        g->out = philox4x32(g->ctr, g->key);
        g->ctr.v[3] += 1;
        g->used = 0;
    }
    return g->out.v[g->used++];
}

/* Uniform double on the open interval (0, 1) from two words: 52 random bits plus one half,
 * i.e. (k + 0.5) * 2^-52, k in [0, 2^52): exact in double, never 0 and never 1 (so log(u) and
 * log(1 - u) are finite). */
static inline MG_HD double mg_u01_from(uint32_t hi, uint32_t lo)
{
    uint64_t k = ((uint64_t)hi << 20) | (uint64_t)(lo >> 12);
    return ((double)k + 0.5) * (1.0 / 4503599627370496.0); /* 2^-52 */
}

static inline MG_HD double mg_rng_u01(mg_rng *g)
{
    uint32_t hi = mg_rng_u32(g);
    uint32_t lo = mg_rng_u32(g);
    return mg_u01_from(hi, lo);
}

#endif /* MESOGIF_CORE_RNG_H */
