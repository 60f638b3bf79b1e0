/* src/cli_common.c: what every verb of the command line shares (the "mesogif: " error line and
 * the command line recorded in result files), and `mesogif info`. Kept out of src/main.c so that
 * tests can link the verbs without main(), and out of the library (src/io_h5_info.c keeps only
 * mg_h5_info), which reports errors as mg_err values and never prints. */
#include "cli.h"
#include "mesogif/io.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char command_line[8192];

void mg_cli_set_command_line(int argc, char **argv)
{
    size_t at = 0;
    for (int i = 0; i < argc && at < sizeof command_line - 1; ++i) {
        int n = snprintf(command_line + at, sizeof command_line - at, "%s%s", i ? " " : "",
                         argv[i]);
        if (n < 0)
            break;
        at += (size_t)n;
    }
}

const char *mg_cli_command_line(void)
{
    return command_line;
}

void mg_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mesogif: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int mg_cli_info(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fputs("usage: mesogif info FILE.h5\n", argc == 2 ? stdout : stderr);
        return argc == 2 ? 0 : 2;
    }
    mg_err err = {{0}};
    int rc = mg_h5_info(argv[1], stdout, &err);
    if (rc != MG_OK) {
        mg_cli_error("%s", err.msg);
        return 2;
    }
    return 0;
}
