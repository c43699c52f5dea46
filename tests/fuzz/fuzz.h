/*
 * fuzz.h — shared by the libFuzzer harnesses of tests/fuzz/ (one per parser of untrusted
 * files). Each harness defines LLVMFuzzerTestOneInput; it is linked either with libFuzzer
 * (-fsanitize=fuzzer, ODET_FUZZ=ON) or with replay_main.c, which feeds it the files of a
 * corpus (ctest replays the seeds in every build). Any status is fine; a crash, a leak,
 * undefined behaviour, a hang or an error status without a message is a finding.
 */
#ifndef ODET_FUZZ_H
#define ODET_FUZZ_H

#include "odet.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One context per process (1 thread, errors only); image pixels capped low so that a
 * fuzzer-made header cannot ask for gigabytes. */
odet_ctx *fuzz_ctx(void);
/* A private folder for harnesses that must give the library files (removed at exit). */
const char *fuzz_dir(void);
/* Write size bytes to fuzz_dir()/name; returns the full path (static buffer) or NULL. */
const char *fuzz_write(const char *name, const void *data, size_t size);
/* Split data at the first "\n--8<--\n": part 1 [data, *n1), part 2 the rest (empty when absent). */
void fuzz_split(const uint8_t *data, size_t size, size_t *n1, const uint8_t **p2, size_t *n2);
/* A failing status must come with a message: abort (a finding) otherwise. */
void fuzz_check_status(odet_status rc);

#define FUZZ_SPLIT "\n--8<--\n"

#endif
