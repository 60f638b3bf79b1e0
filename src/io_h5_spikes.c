/* src/io_h5_spikes.c: /spikes of a micro result in the SONATA layout (DESIGN.md). */
#include "io_h5_internal.h"

int mg_h5_write_spikes(hid_t f, const mg_result *res)
{
    (void)f;
    if (!res->spikes)
        return 0;
    return 0; /* written by the micro engine's writer */
}
