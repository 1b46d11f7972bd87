/*
 * cli_out.h - how ztctl talks to the person at the terminal: one
 * "ztctl: ..." line on stderr per failure, and text from the network made
 * safe to print.
 */
#ifndef ZT_CLI_OUT_H
#define ZT_CLI_OUT_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Flushes stdout, then prints "ztctl: <message>\n" on stderr. */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A copy of s in out that is safe to print: control bytes (but '\n' when
 * keep_nl) and non-ASCII become '?'; cut to outsz - 1 bytes. Returns out. */
const char *cli_clean(const char *s, int keep_nl, char *out, size_t outsz);
/* The "labels" object of an answer's entry as "k=v,k2=v2" in out
 * (TUN_LABELS_TEXT_MAX bytes hold any): "" when there are none, "?" when
 * they are not labels. Checked as the wire checks labels, so nothing in it
 * needs cleaning. Returns out. */
const char *cli_labels(const cJSON *entry, char *out, size_t outsz);

#endif
