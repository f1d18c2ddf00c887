/* The JSON scanner of lib/json_scan.c, for lib/report_parse.c: the
 * tokens of one JSON text held in [start, end), nothing read past end. */
#ifndef HSW_JSON_SCAN_H
#define HSW_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hsw_scan {
    const char *start, *at, *end;
    char *why; /* the reason of the first error, or NULL */
    size_t why_size;
};

/* Writes "offset N: message" to why; returns -1. */
int hsw_scan_fail(struct hsw_scan *p, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Skips JSON whitespace. */
void hsw_scan_space(struct hsw_scan *p);
/* Consumes `word` if the text continues with it. */
bool hsw_scan_literal(struct hsw_scan *p, const char *word);
/* pre: *p->at == '"'. A string, decoded into out (size bytes, cut and
 * kept terminated) unless out is NULL. 0 or -1. */
int hsw_scan_string(struct hsw_scan *p, char *out, size_t size);
/* A number by the JSON grammar; *is_integer when it is a whole number
 * without sign, fraction or exponent that fits 64 bits (then *integer). */
int hsw_scan_number(struct hsw_scan *p, double *value, uint64_t *integer, bool *is_integer);

#endif
