/* Two attnc modules in one C program: CBAM (weights embedded in cbam.o) and multi-head attention
 * (weights in mha.weights, handed over with mha_set_weights). Each reads its inputs from the
 * conformance case's .npy files, runs, writes its outputs as .npy, and compares them with the
 * expected outputs (relative L2 <= 1e-4). Prints PASS or FAIL per output; exits 1 on any failure.
 *
 *     aot_demo CONFORMANCE_DIR OUT_DIR MHA_WEIGHTS_FILE
 *
 * Built by build.sh: attnc compile (twice), cc main.c npy.c cbam.o mha.o -lm, run. */
#include "cbam.h"
#include "mha.h"
#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOLERANCE 1e-4

static char error[512];

/* Reads DIR/CASE/inputs/NAME.npy and checks its shape is the one the module was compiled for. */
static int read_input(const char *cases, const char *name, const char *input, int rank, const int64_t *dims, npy_array *array) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/inputs/%s.npy", cases, name, input);
    if (npy_read(path, array, error, sizeof error) != 0) {
        fprintf(stderr, "%s\n", error);
        return -1;
    }
    int same = array->rank == rank;
    for (int i = 0; same && i < rank; i++) same = array->dims[i] == dims[i];
    if (!same) {
        fprintf(stderr, "%s: shape differs from the one %s was compiled for\n", path, name);
        npy_free(array);
        return -1;
    }
    return 0;
}

/* Writes OUT_DIR/CASE_OUTPUT.npy and compares it with DIR/CASE/expected/OUTPUT.npy. */
static int check_output(const char *cases, const char *out_dir, const char *name, const char *output, int rank,
                        const int64_t *dims, const float *data, int64_t count) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_%s.npy", out_dir, name, output);
    if (npy_write(path, rank, dims, data, error, sizeof error) != 0) {
        fprintf(stderr, "%s\n", error);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s/expected/%s.npy", cases, name, output);
    npy_array expected;
    if (npy_read(path, &expected, error, sizeof error) != 0) {
        fprintf(stderr, "%s\n", error);
        return -1;
    }
    if (expected.count != count) {
        fprintf(stderr, "%s: %lld values, the module wrote %lld\n", path, (long long)expected.count, (long long)count);
        npy_free(&expected);
        return -1;
    }
    double error_l2 = npy_relative_l2(data, expected.data, count);
    npy_free(&expected);
    int pass = error_l2 <= TOLERANCE;
    printf("%s %s.%s relative L2 %.3g\n", pass ? "PASS" : "FAIL", name, output, error_l2);
    return pass ? 0 : -1;
}

/* Scratch for a module: 64-byte aligned, NULL when it needs none. */
static void *allocate_scratch(size_t size) { return size ? aligned_alloc(64, size) : NULL; }

static int run_cbam(const char *cases, const char *out_dir) {
    const int64_t x_dims[] = CBAM_INPUT_X_DIMS, out_dims[] = CBAM_OUTPUT_OUT_DIMS;
    npy_array x;
    if (read_input(cases, "cbam", "x", CBAM_INPUT_X_RANK, x_dims, &x) != 0) return -1;
    float *out = aligned_alloc(64, (CBAM_OUTPUT_OUT_COUNT * sizeof(float) + 63) / 64 * 64);
    void *scratch = allocate_scratch(cbam_scratch_size());
    const float *inputs[CBAM_NUM_INPUTS];
    float *outputs[CBAM_NUM_OUTPUTS];
    inputs[CBAM_INPUT_X_INDEX] = x.data;
    outputs[CBAM_OUTPUT_OUT_INDEX] = out;
    int status = cbam_run(inputs, outputs, scratch);
    int result = status == CBAM_OK ? check_output(cases, out_dir, "cbam", "out", CBAM_OUTPUT_OUT_RANK, out_dims, out, CBAM_OUTPUT_OUT_COUNT) : -1;
    if (status != CBAM_OK) fprintf(stderr, "FAIL cbam: cbam_run returned %d\n", status);
    free(scratch);
    free(out);
    npy_free(&x);
    return result;
}

/* Reads the whole weights file into 64-byte aligned memory and hands it to the module. The
 * module keeps the pointer, so the memory lives until the program ends. */
static int load_mha_weights(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    void *data = aligned_alloc(64, (MHA_WEIGHTS_FILE_SIZE + 63) / 64 * 64);
    size_t size = data ? fread(data, 1, (MHA_WEIGHTS_FILE_SIZE + 63) / 64 * 64, file) : 0;
    fclose(file);
    int status = mha_set_weights(data, size);
    if (status != MHA_OK) {
        fprintf(stderr, "%s: mha_set_weights returned %d (read %zu bytes, expected %d)\n", path, status, size, MHA_WEIGHTS_FILE_SIZE);
        return -1;
    }
    return 0;
}

static int run_mha(const char *cases, const char *out_dir, const char *weights) {
    if (load_mha_weights(weights) != 0) return -1;
    const int64_t x_dims[] = MHA_INPUT_X_DIMS, out_dims[] = MHA_OUTPUT_OUT_DIMS;
    npy_array x;
    if (read_input(cases, "mha", "x", MHA_INPUT_X_RANK, x_dims, &x) != 0) return -1;
    float *out = aligned_alloc(64, (MHA_OUTPUT_OUT_COUNT * sizeof(float) + 63) / 64 * 64);
    void *scratch = allocate_scratch(mha_scratch_size());
    const float *inputs[MHA_NUM_INPUTS] = {[MHA_INPUT_X_INDEX] = x.data};
    float *outputs[MHA_NUM_OUTPUTS] = {[MHA_OUTPUT_OUT_INDEX] = out};
    int status = mha_run(inputs, outputs, scratch);
    int result = status == MHA_OK ? check_output(cases, out_dir, "mha", "out", MHA_OUTPUT_OUT_RANK, out_dims, out, MHA_OUTPUT_OUT_COUNT) : -1;
    if (status != MHA_OK) fprintf(stderr, "FAIL mha: mha_run returned %d\n", status);
    free(scratch);
    free(out);
    npy_free(&x);
    return result;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s CONFORMANCE_DIR OUT_DIR MHA_WEIGHTS_FILE\n", argv[0]);
        return 2;
    }
    int failures = (run_cbam(argv[1], argv[2]) != 0) + (run_mha(argv[1], argv[2], argv[3]) != 0);
    printf("%s: %d of 2 modules failed\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
