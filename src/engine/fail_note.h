/* src/engine/fail_note.h: the first failure among workers running in parallel, for the ensemble
 * driver (mg_job, src/engine/job.h) and the FFS engines (src/ffs/ffs_internal.h). Internal. */
#ifndef MESOGIF_ENGINE_FAIL_NOTE_H
#define MESOGIF_ENGINE_FAIL_NOTE_H

#ifdef __cplusplus
extern "C" {
#endif

/* The first failure of workers running in parallel (a NaN, a cancel, an error): the first one
 * set wins, the later ones are dropped (mg_fail_note_set); the FFS jobs keep theirs the same
 * way (src/ffs). */
typedef struct {
    int failed;
    int code;
    char msg[512];
} mg_fail_note;
/* Thread-safe (an OpenMP critical section); msg is cut to 500 characters. */
void mg_fail_note_set(mg_fail_note *f, int code, const char *msg);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_ENGINE_FAIL_NOTE_H */
