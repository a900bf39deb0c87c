/* See npy.h. The format: "\x93NUMPY", version (1.0, 2.0 or 3.0), a little-endian header length
 * (2 bytes in 1.0, 4 after), a Python dict literal {'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), } padded with spaces to a multiple of 64, then the data. */
#include "npy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *error, size_t size, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(error, size, format, args);
    va_end(args);
    return -1;
}

/* The text after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *header, const char *key) {
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *at = strstr(header, quoted);
    if (!at) return NULL;
    at += strlen(quoted);
    while (*at == ' ') at++;
    if (*at != ':') return NULL;
    at++;
    while (*at == ' ') at++;
    return at;
}

static int parse_header(const char *path, const char *header, npy_array *array, char *error, size_t size) {
    const char *descr = dict_value(header, "descr");
    if (!descr) return fail(error, size, "%s: no 'descr' in the .npy header", path);
    if (strncmp(descr, "'<f4'", 5) != 0) {
        int length = (int)strcspn(descr, ",}");
        return fail(error, size, "%s: dtype %.*s is not supported; only float32 little-endian ('<f4') is", path, length, descr);
    }
    const char *order = dict_value(header, "fortran_order");
    if (!order) return fail(error, size, "%s: no 'fortran_order' in the .npy header", path);
    if (strncmp(order, "False", 5) != 0) return fail(error, size, "%s: Fortran-order arrays are not supported; save a C-order array", path);
    const char *shape = dict_value(header, "shape");
    if (!shape || *shape != '(') return fail(error, size, "%s: no 'shape' tuple in the .npy header", path);
    shape++;
    array->rank = 0;
    array->count = 1;
    for (;;) {
        while (*shape == ' ' || *shape == ',') shape++;
        if (*shape == ')') break;
        char *end;
        long long dim = strtoll(shape, &end, 10);
        if (end == shape || dim < 0) return fail(error, size, "%s: malformed shape in the .npy header", path);
        if (array->rank == NPY_MAX_RANK) return fail(error, size, "%s: rank above %d is not supported", path, NPY_MAX_RANK);
        array->dims[array->rank++] = dim;
        array->count *= dim;
        shape = end;
    }
    return 0;
}

int npy_read(const char *path, npy_array *array, char *error, size_t size) {
    memset(array, 0, sizeof *array);
    FILE *file = fopen(path, "rb");
    if (!file) return fail(error, size, "%s: cannot open", path);
    unsigned char preamble[12];
    int status = -1;
    char *header = NULL;
    if (fread(preamble, 1, 8, file) != 8 || memcmp(preamble, "\x93NUMPY", 6) != 0) {
        fail(error, size, "%s: not a .npy file (no \\x93NUMPY magic)", path);
        goto done;
    }
    unsigned major = preamble[6];
    size_t header_length;
    if (major == 1) {
        if (fread(preamble + 8, 1, 2, file) != 2) goto truncated;
        header_length = preamble[8] | (size_t)preamble[9] << 8;
    } else if (major == 2 || major == 3) {
        if (fread(preamble + 8, 1, 4, file) != 4) goto truncated;
        header_length = preamble[8] | (size_t)preamble[9] << 8 | (size_t)preamble[10] << 16 | (size_t)preamble[11] << 24;
    } else {
        fail(error, size, "%s: .npy format version %u is not supported (1, 2 and 3 are)", path, major);
        goto done;
    }
    header = malloc(header_length + 1);
    if (!header || fread(header, 1, header_length, file) != header_length) goto truncated;
    header[header_length] = 0;
    if (parse_header(path, header, array, error, size) != 0) goto done;
    size_t bytes = (size_t)array->count * sizeof(float);
    array->data = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!array->data) {
        fail(error, size, "%s: out of memory for %lld floats", path, (long long)array->count);
        goto done;
    }
    if (fread(array->data, 1, bytes, file) != bytes) goto truncated;
    status = 0;
    goto done;
truncated:
    fail(error, size, "%s: the file is truncated", path);
done:
    free(header);
    fclose(file);
    if (status != 0) npy_free(array);
    return status;
}

int npy_write(const char *path, int rank, const int64_t *dims, const float *data, char *error, size_t size) {
    char shape[NPY_MAX_RANK * 24 + 8] = "(";
    int64_t count = 1;
    for (int i = 0; i < rank; i++) {
        char dim[32];
        snprintf(dim, sizeof dim, rank == 1 ? "%lld," : (i + 1 < rank ? "%lld, " : "%lld"), (long long)dims[i]);
        strcat(shape, dim);
        count *= dims[i];
    }
    strcat(shape, ")");
    char header[sizeof shape + 128];
    int length = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape);
    /* Pad with spaces and a newline so that magic + length + header is a multiple of 64. */
    int total = (10 + length + 1 + 63) / 64 * 64;
    memset(header + length, ' ', (size_t)(total - 10 - length - 1));
    header[total - 10 - 1] = '\n';
    FILE *file = fopen(path, "wb");
    if (!file) return fail(error, size, "%s: cannot create", path);
    unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)((total - 10) & 0xff), (unsigned char)((total - 10) >> 8)};
    int ok = fwrite(preamble, 1, 10, file) == 10 && fwrite(header, 1, (size_t)(total - 10), file) == (size_t)(total - 10)
             && fwrite(data, sizeof(float), (size_t)count, file) == (size_t)count;
    if (fclose(file) != 0) ok = 0;
    return ok ? 0 : fail(error, size, "%s: write failed", path);
}

void npy_free(npy_array *array) {
    free(array->data);
    array->data = NULL;
}

double npy_relative_l2(const float *got, const float *expected, int64_t count) {
    double difference = 0, norm = 0;
    for (int64_t i = 0; i < count; i++) {
        double d = (double)got[i] - (double)expected[i];
        difference += d * d;
        norm += (double)expected[i] * expected[i];
    }
    if (norm == 0) return difference == 0 ? 0 : INFINITY;
    return sqrt(difference) / sqrt(norm);
}
