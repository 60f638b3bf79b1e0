/* src/util/shard.h: shards of a run (src/util/shard.c). Internal. */
#ifndef MESOGIF_SHARD_H
#define MESOGIF_SHARD_H

#include <stdint.h>
#include "mesogif/error.h"

/* "I/N", or "slurm" (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT, or of
 * MAX - MIN + 1). MG_EINVAL with a message naming --shard otherwise. */
int mg_shard_parse(const char *text, int64_t *index, int64_t *count, mg_err *err);

/* Shard `index` of `count` of the realizations [first, first + total). May be empty. Pure. */
void mg_shard_range(int64_t first, int64_t total, int64_t index, int64_t count,
                    int64_t *shard_first, int64_t *shard_count);

#endif /* MESOGIF_SHARD_H */
