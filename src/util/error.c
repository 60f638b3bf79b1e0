/* src/util/error.c: the mg_err message carrier (include/mesogif/error.h). */
#include "mesogif/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mg_err_set(mg_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int mg_err_prefix(mg_err *err, int code, const char *prefix)
{
    if (err) {
        char tmp[MG_ERR_LEN];
        size_t np = strlen(prefix), nm = strlen(err->msg);
        if (np > MG_ERR_LEN - 3)
            np = MG_ERR_LEN - 3;
        if (np + 2 + nm > MG_ERR_LEN - 1)
            nm = MG_ERR_LEN - 1 - np - 2;
        memcpy(tmp, prefix, np);
        memcpy(tmp + np, ": ", 2);
        memcpy(tmp + np + 2, err->msg, nm);
        tmp[np + 2 + nm] = '\0';
        memcpy(err->msg, tmp, sizeof tmp);
    }
    return code;
}

int mg_err_exit_code(int code)
{
    if (code == MG_OK)
        return 0;
    return code == MG_EINVAL ? 2 : 1;
}
