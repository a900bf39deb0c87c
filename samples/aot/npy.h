/* A tiny .npy reader and writer for float32, little-endian, C-order arrays: all an attnc
 * ahead-of-time module reads and writes. Anything else is refused with a message saying why. */
#ifndef ATTNC_SAMPLE_NPY_H
#define ATTNC_SAMPLE_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_RANK 16

typedef struct {
    int rank;
    int64_t dims[NPY_MAX_RANK];
    int64_t count; /* product of dims (1 for rank 0) */
    float *data;   /* 64-byte aligned, count floats; free with npy_free */
} npy_array;

/* Reads path into *array. Returns 0, or -1 with a message in error (which names the file). */
int npy_read(const char *path, npy_array *array, char *error, size_t error_size);

/* Writes a float32 C-order array. Returns 0, or -1 with a message in error. */
int npy_write(const char *path, int rank, const int64_t *dims, const float *data, char *error, size_t error_size);

void npy_free(npy_array *array);

/* ||got - expected|| / ||expected|| over count values, accumulated in double (0 when both are 0). */
double npy_relative_l2(const float *got, const float *expected, int64_t count);

#endif
