/* src/util/free_all.h: free() a list of pointers in one line, for the release functions of
 * structures that own several arrays. Internal; C only (a compound literal). */
#ifndef MESOGIF_UTIL_FREE_ALL_H
#define MESOGIF_UTIL_FREE_ALL_H

#include <stdlib.h>

static inline void mg_free_each(void *const *p, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        free(p[i]);
}

/* MG_FREE_ALL(a, b, c): free(a), free(b), free(c). */
#define MG_FREE_ALL(...)                                                                     \
    mg_free_each((void *const[]){__VA_ARGS__},                                               \
                 sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *))

#endif /* MESOGIF_UTIL_FREE_ALL_H */
