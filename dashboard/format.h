/* Text formatting shared by the views: human units, JSON strings. */
#ifndef HSW_FORMAT_H
#define HSW_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "512 B", "12.3 KiB", "4.0 MiB", "1.2 GiB" into out. */
const char *hsw_format_bytes(char *out, size_t size, double bytes);
/* "950", "12.3k", "4.1M", "2.0G" into out. */
const char *hsw_format_count(char *out, size_t size, double count);
/* Writes text as a JSON string, quotes included. */
void hsw_json_string(FILE *out, const char *text);
/* Writes text as a CSV field, quoted when it needs to be. */
void hsw_csv_field(FILE *out, const char *text);
/* Parses a positive decimal number of seconds ("1", "0.5"); 0 or -1. */
int hsw_parse_seconds(const char *text, double *seconds);
/* Parses a positive integer up to max; 0 or -1. */
int hsw_parse_count(const char *text, unsigned long max, unsigned long *count);

#endif
