/* src/engine/run_key.c: the identity of a run's statistics (issue 6): a canonical text of everything
 * that changes what a realization computes or how it is measured (the model as canonical JSON,
 * level, noise, time step and bins, seed, statistics configuration, connectivity, program
 * version), and its 64-bit FNV-1a hash (G. Fowler, L. C. Noll, K.-P. Vo, D. Eastlake,
 * "The FNV Non-Cryptographic Hash Algorithm", IETF draft-eastlake-fnv). Files, shards and
 * checkpoints of one run carry the same key; merge and resume refuse anything else. Not a
 * security hash: it guards against mistakes, not against forgery. */
#include "engine/run_key.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t mg_fnv1a64(const void *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    uint64_t h = 14695981039346656037ULL; /* FNV offset basis */
    for (size_t k = 0; k < n; ++k) {
        h ^= p[k];
        h *= 1099511628211ULL; /* FNV prime */
    }
    return h;
}

/* Append printf-style text to a growing buffer. */
static int app(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static int app(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -1;
        if (*len + (size_t)n < *cap) {
            *len += (size_t)n;
            return 0;
        }
        size_t nc = (*cap + (size_t)n + 1) * 2;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = nc;
    }
}

char *mg_run_key(const mg_model *m, const mg_run_opts *o, const mg_stats_cfg *c)
{
    size_t len = 0, cap = 1024;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[0] = '\0';
    /* the model as parsed JSON re-serialized with sorted keys: whitespace and key order in the
     * file do not change the key, every value does */
    json_error_t jerr;
    json_t *j = json_loads(m->json ? m->json : "{}", 0, &jerr);
    char *canon = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    int rc = 0;
    rc |= app(&buf, &len, &cap, "mesogif %s\nmodel %s\n", MG_VERSION, canon ? canon : "?");
    free(canon);
    json_decref(j);
    rc |= app(&buf, &len, &cap,
              "level %s\nnoise %s\ndt_ms %.17g\nt_sim_ms %.17g\nt_warmup_ms %.17g\n"
              "record_bin_ms %.17g\nseed %u\nconnectivity %d\n",
              mg_level_name(o->level), mg_noise_name(o->noise), o->dt_ms, o->t_sim_ms,
              o->t_warmup_ms, o->record_bin_ms, (unsigned)o->seed, (int)o->connectivity);
    rc |= app(&buf, &len, &cap,
              "stats bin_ms %.17g psd_n %lld psd_bin_ms %.17g onesided %d hist %d %.17g "
              "obs %d %.17g observable %s window %d thresholds %.17g %.17g dwell %d %.17g "
              "%.17g isi %d %.17g basic %d\n",
              c->bin_ms, (long long)c->psd_n, c->psd_bin_ms, c->onesided, c->hist_bins,
              c->hist_max_hz, c->obs_bins, c->obs_max_hz, c->observable, c->sw_window, c->sw_lo,
              c->sw_hi, c->dwell_bins, c->dwell_min_s, c->dwell_max_s, c->isi_bins,
              c->isi_max_s, c->basic);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

void mg_run_hash_hex(const char *key, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)mg_fnv1a64(key, strlen(key)));
}
