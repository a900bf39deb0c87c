/* The AOT half of the attention memory benchmark (scripts/memory-bench.sh): runs the module
 * compiled from bench/sdpa_long.gir once, serially, on pseudo-random inputs, and prints the
 * process's peak resident set: the inputs, the output and the scratch, with no compiler in the
 * process. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "sdpa_long.h"

static float *random_tensor(size_t count, unsigned *state) {
    float *data = malloc(count * sizeof(float));
    if (!data) return NULL;
    for (size_t i = 0; i < count; i++) {
        *state = *state * 1664525u + 1013904223u;
        data[i] = (float)(*state >> 8) / 16777216.0f - 0.5f;
    }
    return data;
}

int main(void) {
    static const size_t counts[] = SDPA_LONG_INPUT_COUNTS;
    unsigned state = 1;
    const float *inputs[SDPA_LONG_NUM_INPUTS];
    for (int i = 0; i < SDPA_LONG_NUM_INPUTS; i++) {
        if (!(inputs[i] = random_tensor(counts[i], &state))) { fprintf(stderr, "out of memory\n"); return 1; }
    }
    float *output = malloc(SDPA_LONG_OUTPUT_OUT_COUNT * sizeof(float));
    void *scratch = aligned_alloc(64, sdpa_long_scratch_size());
    if (!output || !scratch) { fprintf(stderr, "out of memory\n"); return 1; }
    float *const outputs[] = {output};
    struct timespec start, stop;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = sdpa_long_run(inputs, outputs, scratch);
    clock_gettime(CLOCK_MONOTONIC, &stop);
    if (status != SDPA_LONG_OK) { fprintf(stderr, "sdpa_long_run returned %d\n", status); return 1; }
    double checksum = 0;
    for (size_t i = 0; i < SDPA_LONG_OUTPUT_OUT_COUNT; i++) checksum += output[i];
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("AOT, 1 thread: %.1f ms, checksum %.6g, scratch %.1f MiB, peak resident set %.1f MiB\n",
           (stop.tv_sec - start.tv_sec) * 1e3 + (stop.tv_nsec - start.tv_nsec) / 1e6, checksum,
           sdpa_long_scratch_size() / 1048576.0, usage.ru_maxrss / 1024.0);
    return 0;
}
