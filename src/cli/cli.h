/* src/cli/cli.h: the verbs of the mesogif command line; each returns the process exit status
 * (0 ok, 1 runtime failure, 2 bad usage or input). Internal. */
#ifndef MESOGIF_CLI_H
#define MESOGIF_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "mesogif/model.h"
#include "mesogif/run.h"

int mg_cli_run(int argc, char **argv);
int mg_cli_info(int argc, char **argv);
int mg_cli_compare(int argc, char **argv);
int mg_cli_theory(int argc, char **argv);
int mg_cli_device(int argc, char **argv);
int mg_cli_merge(int argc, char **argv);
int mg_cli_switch(int argc, char **argv); /* src/cli/cli_switch.c */
int mg_cli_sweep(int argc, char **argv);  /* src/cli/cli_sweep.c */

/* Print "mesogif: <msg>" to stderr (printf-like). */
void mg_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct option;
/* The message for an option getopt_long did not accept (argv_word: the word as typed): an
 * option without its value ("needs a value"), or an unknown one with the closest valid option
 * ("did you mean --realizations?"). One line on stderr; the caller exits 2. */
void mg_cli_unknown_option(const char *verb, const char *argv_word, const struct option *opts);

/* The command line as one string (for the file's command_line attribute); static storage. */
const char *mg_cli_command_line(void);
void mg_cli_set_command_line(int argc, char **argv);

/* Option values shared by the verbs: each returns 0, or prints one error line naming the option,
 * the value and what is allowed and returns -1. */
int mg_cli_parse_int64(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);
int mg_cli_parse_duration(const char *opt, const char *s, double *ms);
/* A duration > 0 (ms); else the line "<opt>: '<s>' (allowed: <allowed>)" and -1. */
int mg_cli_parse_positive_ms(const char *opt, const char *s, double *ms, const char *allowed);
/* The model of a verb: the file at path, else the JSON text json of a checkpoint (source: its
 * name in messages), else the embedded B1. 0, or the exit code after one error line (a file
 * that cannot be read is bad input, 2, like a malformed one). */
int mg_cli_load_model(const char *path, const char *json, const char *source, mg_model *m);
/* --set POP.PARAM=VALUE / PROJ[SRC->TGT].PARAM=VALUE (run, switch): at most MG_CLI_MAX_SETS
 * overrides, kept in order. mg_cli_add_set: 0, or -1 after an error line. mg_cli_apply_sets:
 * each applied to m in order (mg_model_set: checked like the model file; m->json, the stored
 * model and run key, carries them); 0, or the exit code after an error line (*m freed). */
#define MG_CLI_MAX_SETS 256
int mg_cli_add_set(const char **sets, int *n, const char *arg);
int mg_cli_apply_sets(mg_model *m, const char *const *sets, int n);
/* The checkpoint named by --resume PATH or --resume=PATH anywhere in argv (read before the
 * other options, which it supplies), or NULL. */
const char *mg_cli_find_resume(int argc, char **argv);
/* The switching-analysis options that run and switch share (docs/SWITCHING.md): which is 'o'
 * (--switch-observable, into observable[cap]), 's' (--switch-smooth, ms) or 't'
 * (--switch-thresholds LO,HI, Hz). 0, or one error line and -1. */
int mg_cli_switch_analysis_option(char which, const char *arg, char *observable, size_t cap,
                                  double *smooth_ms, double *lo, double *hi);
/* 0 when the folder of path exists and is writable; else an error line and -1. Checked before
 * a run so that hours of simulation are not lost to a typo in --out. */
int mg_cli_check_out_folder(const char *path);
/* One of the n names of an enumerated option: its index, or -1 after the line
 * "--opt: 'value' (allowed: a, b, c)". */
int mg_cli_parse_choice(const char *opt, const char *value, const char *const *names, int n);

/* The numeric options of a verb as a table: getopt_long's value id, the name for messages, and
 * where the value goes: MG_CLI_I64 / MG_CLI_INT / MG_CLI_U32 an integer in [lo, hi] into an
 * int64_t / int / uint32_t, MG_CLI_MS a duration in ms into a double, MG_CLI_S a duration into
 * a double in seconds. given (may be NULL) is set to 1 once a value was stored.
 * mg_cli_num_option: c is one of the n rows of tab: parse arg into its place, 0, or -1 after
 * the error line; 1 when c is in no row. */
typedef enum { MG_CLI_I64, MG_CLI_INT, MG_CLI_U32, MG_CLI_MS, MG_CLI_S } mg_cli_kind;
typedef struct {
    int id;
    const char *name;
    mg_cli_kind kind;
    void *dst;
    int64_t lo, hi;
    int *given;
} mg_cli_num;
int mg_cli_num_option(const mg_cli_num *tab, int n, int c, const char *arg);
/* The enumerated options of a verb as a table: getopt_long's value id, the name and the n
 * allowed values. mg_cli_enum_option: c is one of the n rows of tab: the index of arg among its
 * values, or -1 after the error line (mg_cli_parse_choice); -2 when c is in no row. */
typedef struct {
    int id;
    const char *name;
    const char *values[4];
    int n;
} mg_cli_enum;
int mg_cli_enum_option(const mg_cli_enum *tab, int n, int c, const char *arg);
/* The optional model file after a verb's options (the words argv[first..argc)): 0 with *path
 * (NULL: none given), or -1 after the line "<verb>: one model file at most, ...". */
int mg_cli_model_arg(const char *verb, int argc, char **argv, int first, const char **path);

/* SIGINT and SIGTERM set the cancel flag (for mg_run_opts.cancel and mg_ffs_opts.cancel, which
 * then stop at a checkpoint) between mg_cli_signals_catch, which clears the flag and keeps the
 * handlers it replaces in *old, and mg_cli_signals_restore. */
typedef struct {
    struct sigaction old_int, old_term;
} mg_cli_signals;
volatile int *mg_cli_cancel_flag(void);
void mg_cli_signals_catch(mg_cli_signals *old);
void mg_cli_signals_restore(const mg_cli_signals *old);
/* What `mesogif run` prints from the result (src/cli/cli_run_print.c): the notes on statistics
 * left out of the file (stderr), the summary table (out_path NULL: no "written:" line), and the
 * theory of a run with --theory (warning[] receives "" or one line for stderr). */
void mg_cli_note_left_out(const mg_result *res);
void mg_cli_print_summary(const mg_result *res, const mg_model *m, const char *out_path,
                          int warm_default);
void mg_cli_print_theory(const mg_result *res, FILE *out, char *warning, size_t warning_len);

/* Messages are one line: a key or string of the model file quoted in a message may hold control
 * characters (JSON "\n"); they become '?'. */
void mg_cli_one_line(char *msg);

#endif /* MESOGIF_CLI_H */
