/*
 * json.h - JSON string literals for the library's and the tools' output.
 */
#ifndef LIBMAP_JSON_H
#define LIBMAP_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Write LEN bytes at S as a JSON string literal: valid UTF-8 kept, other
 * bytes outside printable ASCII as \u00XX. */
void lm_json_string(FILE *f, const void *s, size_t len);

/* The same for a C string; NULL is written as null. */
void lm_json_cstr(FILE *f, const char *s);

#endif
