/* src/cli.h: the verbs of the mesogif command line; each returns the process exit status
 * (0 ok, 1 runtime failure, 2 bad usage or input). Internal. */
#ifndef MESOGIF_CLI_H
#define MESOGIF_CLI_H

int mg_cli_run(int argc, char **argv);
int mg_cli_info(int argc, char **argv);
int mg_cli_compare(int argc, char **argv);
int mg_cli_theory(int argc, char **argv);
int mg_cli_device(int argc, char **argv);
int mg_cli_merge(int argc, char **argv);
int mg_cli_switch(int argc, char **argv); /* src/cli_switch.c */
int mg_cli_sweep(int argc, char **argv);  /* src/cli_sweep.c */

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

#endif /* MESOGIF_CLI_H */
