/*
 * sigv4-bench: SigV4 signatures per second with lib/sigv4.
 *
 *	sigv4-bench N BODYFILE
 *
 * Signs N Kinesis PutRecord requests with the body read from BODYFILE (the
 * same request botocore signs in scripts/bench-src/contenders.py sigv4),
 * hashing the body every time, at
 * a fixed signing time, and prints one JSON line: the count, the CPU and
 * wall seconds of the signing loop alone, and the first signature, which
 * scripts/bench compares with botocore's for the same request and time.
 * Built by scripts/bench with the Makefile's flags against libcoinpipe.a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"

/* 2026-11-28T12:00:00Z, the time scripts/bench gives botocore too. */
#define BENCH_WHEN 1795867200

/* The whole body, for the payload hash; a PutRecord body is a few hundred
 * bytes, so a small cap keeps this simple. */
#define BODY_MAX 65536

static char body[BODY_MAX];

static double
seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	const struct sigv4_header hdrs[] = {
		{ "Host", "127.0.0.1:4567" },
		{ "Content-Type", "application/x-amz-json-1.1" },
		{ "X-Amz-Target", "Kinesis_20131202.PutRecord" },
	};
	const struct sigv4_credentials cred = {
		"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL
	};
	const struct sigv4_params par = {
		"us-east-1", "kinesis", BENCH_WHEN, SIGV4_DEFAULT, 0
	};
	char first[SIGV4_HEX_SHA256_LEN + 1] = "";
	struct errbuf err;
	size_t body_len;
	FILE *f;
	double c0, w0;
	char *end;
	long i, n;

	if (argc != 3 || (n = strtol(argv[1], &end, 10)) <= 0 || *end != '\0') {
		fprintf(stderr, "usage: sigv4-bench N BODYFILE\n");
		return 2;
	}
	if ((f = fopen(argv[2], "rb")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	body_len = fread(body, 1, sizeof(body), f);
	fclose(f);
	c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	w0 = seconds(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		struct sigv4_request req = {
			"POST", "/", hdrs, sizeof(hdrs) / sizeof(hdrs[0]),
			NULL, body, body_len
		};
		struct sigv4_result res;

		memset(&res, 0, sizeof(res));
		errbuf_clear(&err);
		if (sigv4_sign(&req, &par, &cred, &res, &err) != 0) {
			fprintf(stderr, "sigv4-bench: sigv4_sign failed\n");
			sigv4_result_free(&res);
			return 1;
		}
		if (i == 0)
			memcpy(first, res.signature, sizeof(first));
		sigv4_result_free(&res);
	}
	printf("{\"n\":%ld,\"cpu_s\":%.6f,\"wall_s\":%.6f,\"signature\":\"%s\"}\n",
	    n, seconds(CLOCK_PROCESS_CPUTIME_ID) - c0,
	    seconds(CLOCK_MONOTONIC) - w0, first);
	return 0;
}
