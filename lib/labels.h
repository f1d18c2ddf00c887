/* HEAPSWITCH_LABELS: "key=value,..." labels a process publishes beside
 * its backend and tag (a pod's name, namespace and container). One check
 * for the writer, which refuses a bad value at start-up, and the reader,
 * which trusts nothing in a segment. No stdio, no allocation: the writer
 * calls it from inside malloc. */
#ifndef HSW_LABELS_H
#define HSW_LABELS_H

#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Bounds: the segment's labels field holds HSW_LABELS_SIZE bytes with
 * its NUL. */
#define HSW_LABELS_SIZE 512
#define HSW_LABELS_MAX 8
#define HSW_LABEL_NAME_MAX 63
#define HSW_LABEL_VALUE_MAX 127

/* Checks labels written as key=value pairs separated by commas: a key
 * follows Prometheus' label-name rule ([a-zA-Z_][a-zA-Z0-9_]*), does not
 * start with "__" and is none of the labels heapswitch sets itself
 * (hsw_label_reserved); a value is 1..HSW_LABEL_VALUE_MAX printable
 * ASCII characters other than space, ',', '=', '"' and '\'; keys are
 * distinct; at most HSW_LABELS_MAX pairs and HSW_LABELS_SIZE - 1 bytes.
 * The empty text is valid (no labels). Returns NULL, or a static
 * sentence saying what is wrong, and *culprit_at, *culprit_length the
 * offending part of text. */
const char *hsw_labels_check(const char *text, size_t *culprit_at, size_t *culprit_length);

/* Whether name is a label heapswitch's own outputs already use. */
int hsw_label_reserved(const char *name, size_t length);

#pragma GCC visibility pop

#endif
