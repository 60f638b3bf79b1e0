/* include/mesogif/error.h: status codes and the error message carrier of the mesogif library.
 * The library never prints and never exits: it returns a status and fills an mg_err; only the
 * command line (src/cli_*.c) turns that into a message on stderr and an exit code. */
#ifndef MESOGIF_ERROR_H
#define MESOGIF_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
    MG_OK = 0,
    MG_EINVAL = 1,  /* bad input: model file, option, value out of range */
    MG_ENOMEM = 2,  /* allocation failed or memory estimate above what the machine has */
    MG_EIO = 3,     /* file could not be read or written */
    MG_ECUDA = 4,   /* a CUDA call failed */
    MG_ENODEV = 5,  /* a backend was asked for that this build or machine does not have */
    MG_EINTR = 6,   /* stopped by a signal (SIGINT, SIGTERM) */
    MG_ENUM = 7,    /* numerical fault: NaN or Inf in the state */
    MG_ESTOPPED = 8 /* stopped by a signal after writing a checkpoint (resume from it) */
};

#define MG_ERR_LEN 1024

/* Message of the last failure: "<json path or option>: <what is wrong> (allowed: ...)". */
typedef struct {
    char msg[MG_ERR_LEN];
} mg_err;

/* printf-like: overwrite err->msg (err may be NULL). Returns code, so that callers can write
 * `return mg_err_set(err, MG_EINVAL, "...")`. */
int mg_err_set(mg_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix err->msg with "<prefix>: " (err may be NULL). Returns code. */
int mg_err_prefix(mg_err *err, int code, const char *prefix);

/* Exit code of the command line for a status: 0 for MG_OK, 2 for MG_EINVAL (usage, input),
 * 1 for everything else (runtime failure). */
int mg_err_exit_code(int code);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_ERROR_H */
