/* A generic driver for any attnc AOT module, compiled once per module:
 *
 *     cc -DHEADER='"cbam.h"' -DPREFIX=cbam -DMACRO=CBAM driver.c npy.c cbam.o -lm
 *     driver run|chunked WEIGHTS|- OUT_DIR INPUT.npy...   inputs in the graph's order; writes OUT_DIR/NAME.npy
 *     driver errors WEIGHTS|-                            checks every documented error code
 *
 * "chunked" installs a parallel-for that splits every range into chunks of 3 and runs them in
 * reverse order, so tasks see ranges other than [0, count). WEIGHTS is the .weights file of a
 * module compiled with --weights-mode file, "-" otherwise. Exits 1 on any failure. */
#include HEADER
#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(PREFIX, name)
#define M(name) CAT(MACRO, name)

static char error[512];

static void chunked(void *ctx, FN(_task_fn) task, void *task_ctx, int64_t count) {
    int64_t *calls = ctx;
    for (int64_t end = count; end > 0; end -= 3) {
        task(task_ctx, end > 3 ? end - 3 : 0, end);
        ++*calls;
    }
}

static void *aligned(size_t size) { return aligned_alloc(64, (size + 63) / 64 * 64 + 64); }

#if !M(_WEIGHTS_EMBEDDED)
/* The weights file in 64-byte aligned memory (and its size), or NULL. */
static void *read_weights(const char *path, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    *size = (size_t)ftell(file);
    fseek(file, 0, SEEK_SET);
    void *data = aligned(*size);
    if (fread(data, 1, *size, file) != *size) data = NULL;
    fclose(file);
    return data;
}
#endif

static int failures = 0;

static void expect(const char *what, int got, int want) {
    if (got != want) failures++;
    printf("%s %s: returned %d, expected %d\n", got == want ? "ok" : "FAIL", what, got, want);
}

static int check_errors(const char *weights) {
    static const char *const input_names[] = M(_INPUT_NAMES);
    static const int64_t input_counts[] = M(_INPUT_COUNTS), output_counts[] = M(_OUTPUT_COUNTS);
    (void)input_names;
    const float *inputs[M(_NUM_INPUTS) + 1];
    float *outputs[M(_NUM_OUTPUTS) + 1];
    for (int i = 0; i < M(_NUM_INPUTS); i++) inputs[i] = calloc((size_t)input_counts[i] + 16, sizeof(float));
    for (int i = 0; i < M(_NUM_OUTPUTS); i++) outputs[i] = calloc((size_t)output_counts[i] + 16, sizeof(float));
    size_t scratch_size = FN(_scratch_size)();
    char *scratch = aligned(scratch_size + 64);
    if (scratch_size != M(_SCRATCH_SIZE) || scratch_size % 64 != 0) failures++;
#if !M(_WEIGHTS_EMBEDDED)
    expect("run before set_weights", FN(_run)(inputs, outputs, scratch), M(_ERROR_NO_WEIGHTS));
    size_t size = 0;
    char *data = read_weights(weights, &size);
    if (!data) {
        printf("FAIL cannot read %s\n", weights);
        return 1;
    }
    char *shifted = aligned(size + 64);
    memcpy(shifted + 8, data, size);
    expect("set_weights(NULL)", FN(_set_weights)(NULL, size), M(_ERROR_NULL_WEIGHTS));
    expect("set_weights(misaligned)", FN(_set_weights)(shifted + 8, size), M(_ERROR_MISALIGNED_WEIGHTS));
    expect("set_weights(size - 1)", FN(_set_weights)(data, size - 1), M(_ERROR_WEIGHTS_SIZE));
    data[0] ^= 1;
    expect("set_weights(bad magic)", FN(_set_weights)(data, size), M(_ERROR_WEIGHTS_FORMAT));
    data[0] ^= 1;
    uint64_t header_bytes;
    memcpy(&header_bytes, data + 16, sizeof header_bytes);
    if (size > header_bytes) { /* a module without weights has no payload to corrupt */
        data[size - 1] ^= 0x40;
        expect("set_weights(corrupt payload)", FN(_set_weights)(data, size), M(_ERROR_WEIGHTS_CHECKSUM));
        data[size - 1] ^= 0x40;
    }
    expect("run after failed set_weights", FN(_run)(inputs, outputs, scratch), M(_ERROR_NO_WEIGHTS));
    expect("set_weights", FN(_set_weights)(data, size), M(_OK));
#else
    (void)weights;
#endif
    expect("run(NULL inputs)", FN(_run)(NULL, outputs, scratch), M(_ERROR_NULL_INPUTS));
    expect("run(NULL outputs)", FN(_run)(inputs, NULL, scratch), M(_ERROR_NULL_OUTPUTS));
    for (int i = 0; i < M(_NUM_INPUTS); i++) {
        const float *kept = inputs[i];
        inputs[i] = NULL;
        expect("run(a NULL input)", FN(_run)(inputs, outputs, scratch), M(_ERROR_NULL_INPUTS));
        inputs[i] = kept;
    }
    for (int i = 0; i < M(_NUM_OUTPUTS); i++) {
        float *kept = outputs[i];
        outputs[i] = NULL;
        expect("run(a NULL output)", FN(_run)(inputs, outputs, scratch), M(_ERROR_NULL_OUTPUTS));
        outputs[i] = kept;
    }
    if (scratch_size > 0) {
        expect("run(NULL scratch)", FN(_run)(inputs, outputs, NULL), M(_ERROR_NULL_SCRATCH));
        expect("run(misaligned scratch)", FN(_run)(inputs, outputs, scratch + 32), M(_ERROR_MISALIGNED_SCRATCH));
    }
    expect("run", FN(_run)(inputs, outputs, scratch), M(_OK));
    printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "errors") == 0) return check_errors(argv[2]);
    if (argc != 4 + M(_NUM_INPUTS) || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "chunked") != 0)) {
        fprintf(stderr, "usage: %s run|chunked WEIGHTS|- OUT_DIR INPUT.npy... (%d inputs)\n       %s errors WEIGHTS|-\n",
                argv[0], M(_NUM_INPUTS), argv[0]);
        return 2;
    }
#if !M(_WEIGHTS_EMBEDDED)
    size_t size = 0;
    void *data = read_weights(argv[2], &size);
    int loaded = data ? FN(_set_weights)(data, size) : -1;
    if (loaded != 0) {
        fprintf(stderr, "%s: set_weights returned %d\n", argv[2], loaded);
        return 1;
    }
#endif
    int64_t calls = 0;
    if (strcmp(argv[1], "chunked") == 0) FN(_set_parallel_for)(chunked, &calls);

    static const char *const output_names[] = M(_OUTPUT_NAMES);
    static const int input_ranks[] = M(_INPUT_RANKS), output_ranks[] = M(_OUTPUT_RANKS);
    static const int64_t input_dims[][M(_MAX_RANK)] = M(_INPUT_DIMS), output_dims[][M(_MAX_RANK)] = M(_OUTPUT_DIMS);
    static const int64_t output_counts[] = M(_OUTPUT_COUNTS);
    npy_array arrays[M(_NUM_INPUTS) + 1];
    const float *inputs[M(_NUM_INPUTS) + 1];
    float *outputs[M(_NUM_OUTPUTS) + 1];
    for (int i = 0; i < M(_NUM_INPUTS); i++) {
        if (npy_read(argv[4 + i], &arrays[i], error, sizeof error) != 0) {
            fprintf(stderr, "%s\n", error);
            return 1;
        }
        int same = arrays[i].rank == input_ranks[i];
        for (int d = 0; same && d < input_ranks[i]; d++) same = arrays[i].dims[d] == input_dims[i][d];
        if (!same) {
            fprintf(stderr, "%s: shape differs from the module's input %d\n", argv[4 + i], i);
            return 1;
        }
        inputs[i] = arrays[i].data;
    }
    for (int i = 0; i < M(_NUM_OUTPUTS); i++) outputs[i] = aligned((size_t)output_counts[i] * sizeof(float));
    void *scratch = FN(_scratch_size)() ? aligned(FN(_scratch_size)()) : NULL;
    int status = FN(_run)(inputs, outputs, scratch);
    if (status != M(_OK)) {
        fprintf(stderr, "run returned %d\n", status);
        return 1;
    }
    for (int i = 0; i < M(_NUM_OUTPUTS); i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.npy", argv[3], output_names[i]);
        if (npy_write(path, output_ranks[i], output_dims[i], outputs[i], error, sizeof error) != 0) {
            fprintf(stderr, "%s\n", error);
            return 1;
        }
    }
    printf("ok: %d outputs written, %lld parallel-for chunks\n", M(_NUM_OUTPUTS), (long long)calls);
    return 0;
}
