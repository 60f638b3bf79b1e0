/* src/cli/cli_device.c: `mesogif device`: which CUDA device the run would use, and its measured
 * device-to-device copy bandwidth (the memory roofline the GPU benchmark divides by). */
#include "cli/cli.h"
#include "mesogif/run.h"

#include <stdio.h>
#include <string.h>

#ifdef MG_HAVE_CUDA
#include "engine/cuda_selftest.h"
#endif

int mg_cli_device(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: mesogif device    (the CUDA device and its copy bandwidth; exit 1 if none)");
        return 0;
    }
    if (argc > 1) {
        mg_cli_error("device: takes no arguments, got '%s' (allowed: --help)", argv[1]);
        return 2;
    }
    char name[160];
    if (!mg_cuda_available(name, sizeof name)) {
        printf("device: none (%s)\n", name);
        return 1;
    }
    printf("device: %s\n", name);
#ifdef MG_HAVE_CUDA
    double gbps = 0;
    mg_err err = {{0}};
    if (mg_cuda_bandwidth(2e9, &gbps, &err) != MG_OK) {
        mg_cli_error("%s", err.msg);
        return 1;
    }
    printf("copy bandwidth: %.0f GB/s (device-to-device, 1 GB buffers, bytes read + written, "
           "median of 10)\n", gbps);
#endif
    return 0;
}
