/* src/util/shard.c: which realizations a shard of a run simulates (issue 6). Shard I of N of the
 * realizations [first, first + R) is the contiguous range [first + I q + min(I, r), ...) of
 * q + (I < r) realizations, q = R / N, r = R % N: the shards tile the range without gaps. */
#include "util/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int env_int(const char *name, int64_t *v)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

int mg_shard_parse(const char *text, int64_t *index, int64_t *count, mg_err *err)
{
    if (strcmp(text, "slurm") == 0) {
        int64_t id, lo, hi, n;
        if (env_int("SLURM_ARRAY_TASK_ID", &id) != 0)
            return mg_err_set(err, MG_EINVAL, "--shard slurm: SLURM_ARRAY_TASK_ID is not set "
                              "(allowed: inside a SLURM job array, or --shard I/N)");
        if (env_int("SLURM_ARRAY_TASK_MIN", &lo) != 0)
            lo = 0;
        if (env_int("SLURM_ARRAY_TASK_COUNT", &n) != 0) {
            if (env_int("SLURM_ARRAY_TASK_MAX", &hi) != 0)
                return mg_err_set(err, MG_EINVAL, "--shard slurm: neither SLURM_ARRAY_TASK_COUNT "
                                  "nor SLURM_ARRAY_TASK_MAX is set");
            n = hi - lo + 1;
        }
        /* a contiguous --array=MIN-MAX is assumed (arrays with steps would leave gaps, which
         * merge reports) */
        *index = id - lo;
        *count = n;
    } else {
        char *end;
        errno = 0;
        long long i = strtoll(text, &end, 10);
        if (errno || end == text || *end != '/')
            return mg_err_set(err, MG_EINVAL, "--shard: '%s' (allowed: I/N with 0 <= I < N, or "
                              "slurm)", text);
        const char *t = end + 1;
        long long n = strtoll(t, &end, 10);
        if (errno || end == t || *end)
            return mg_err_set(err, MG_EINVAL, "--shard: '%s' (allowed: I/N with 0 <= I < N, or "
                              "slurm)", text);
        *index = i;
        *count = n;
    }
    if (*count < 1 || *index < 0 || *index >= *count)
        return mg_err_set(err, MG_EINVAL, "--shard: shard %lld of %lld (allowed: 0 <= I < N)",
                          (long long)*index, (long long)*count);
    return MG_OK;
}

void mg_shard_range(int64_t first, int64_t total, int64_t index, int64_t count,
                    int64_t *shard_first, int64_t *shard_count)
{
    int64_t q = total / count, r = total % count;
    *shard_first = first + index * q + (index < r ? index : r);
    *shard_count = q + (index < r ? 1 : 0);
}
