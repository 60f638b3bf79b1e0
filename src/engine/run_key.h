/* src/engine/run_key.h: the identity of a run (src/engine/run_key.c). Internal. */
#ifndef MESOGIF_RUN_KEY_H
#define MESOGIF_RUN_KEY_H

#include <stddef.h>
#include <stdint.h>
#include "mesogif/model.h"
#include "mesogif/run.h"
#include "mesogif/stats.h"

/* 64-bit FNV-1a of n bytes. Pure. */
uint64_t mg_fnv1a64(const void *data, size_t n);

/* The canonical text of what makes two runs' statistics mergeable (one item per line);
 * malloc'ed, NULL when out of memory. */
char *mg_run_key(const mg_model *m, const mg_run_opts *o, const mg_stats_cfg *c);

/* 16 hex digits of mg_fnv1a64(key) and a NUL. */
void mg_run_hash_hex(const char *key, char out[17]);

#endif /* MESOGIF_RUN_KEY_H */
