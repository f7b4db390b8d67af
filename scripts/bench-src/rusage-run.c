/*
 * rusage-run: runs a command and reports what it cost.
 *
 *	rusage-run OUTFILE COMMAND [ARG...]
 *
 * Writes one line to OUTFILE once COMMAND has exited:
 *	"wall_s user_s sys_s maxrss_kib exit_code"
 * where the times and the peak RSS are getrusage(RUSAGE_CHILDREN) after
 * COMMAND, our only child, was waited for: its own and those of every
 * child it waited for in turn (so a shell script reports its whole
 * pipeline; the peak is that of the largest process). exit_code is 128+n when COMMAND was killed by signal n.
 *
 * Why not measure from scripts/bench (Python) directly: Linux carries a
 * process's peak RSS across fork and exec, so a command started by a
 * 60 MiB interpreter reports at least 60 MiB. This launcher is small, and
 * so is the peak it hands down (the same reason GNU time works), and it
 * gives microseconds where GNU time prints hundredths.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
tv_seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int status, code;

	if (argc < 3) {
		fprintf(stderr, "usage: rusage-run OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "rusage-run: fork: %s\n", strerror(errno));
		return 125;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rusage-run: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "rusage-run: waitpid: %s\n",
			    strerror(errno));
			return 125;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_CHILDREN, &ru);
	code = WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
	if ((out = fopen(argv[1], "w")) == NULL) {
		fprintf(stderr, "rusage-run: %s: %s\n", argv[1], strerror(errno));
		return 125;
	}
	fprintf(out, "%.6f %.6f %.6f %ld %d\n",
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	    tv_seconds(ru.ru_utime), tv_seconds(ru.ru_stime), ru.ru_maxrss,
	    code);
	if (fclose(out) != 0) {
		fprintf(stderr, "rusage-run: %s: %s\n", argv[1], strerror(errno));
		return 125;
	}
	return code;
}
