/*
 * replay: runs a fuzz harness without a fuzzer, as the test suite does.
 *
 *	test_fuzz_<name> [FILE|DIR ...]
 *
 * With no operand it replays tests/fuzz/corpus/<name>/ and, when present,
 * tests/fuzz/regress/<name>/ (paths relative to the repository root, where
 * tests/run runs). Every input runs in a child process, so a crash, a
 * sanitizer report, a leak or a failed property is "not ok" for that input
 * alone and the others still run. Prints TAP and "# N passed, N failed";
 * exits 1 when anything failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

static int run, failed;

static void
report(int ok, const char *path, const char *why)
{
	run++;
	if (!ok)
		failed++;
	printf("%sok %d - %s%s%s\n", ok ? "" : "not ", run, path,
	    why[0] ? " # " : "", why);
	fflush(stdout);
}

/* Reads path into an allocation of exactly its size, for ASan's sake. */
static int
read_file(const char *path, uint8_t **data, size_t *size)
{
	struct stat st;
	ssize_t r = 0;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || (*data = malloc(st.st_size > 0 ?
	    (size_t)st.st_size : 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size && (r = read(fd, *data + got,
	    (size_t)st.st_size - got)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (r == -1) {
		free(*data);
		return -1;
	}
	*size = got;
	return 0;
}

/* The child: exit() (not _exit) so LeakSanitizer checks for leaks. */
static void
child(const char *path)
{
	uint8_t *data;
	size_t size;

	if (read_file(path, &data, &size) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(2);
	}
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	exit(0);
}

static void
replay_file(const char *path)
{
	char why[64] = "";
	pid_t pid;
	int status;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		report(0, path, "fork failed");
		return;
	}
	if (pid == 0)
		child(path);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			report(0, path, "waitpid failed");
			return;
		}
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d",
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		snprintf(why, sizeof(why), "exit status %d",
		    WEXITSTATUS(status));
	report(why[0] == '\0', path, why);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order (dot files are skipped). */
static void
replay_dir(const char *dir)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		report(0, dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **grown;
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				break;
			names = grown;
		}
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			replay_file(path);
		free(names[i]);
	}
	free(names);
}

static void
replay_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		report(0, path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		replay_dir(path);
	else
		replay_file(path);
}

int
main(int argc, char *argv[])
{
	char dir[512];
	struct stat st;
	int i;

	/* a harness that writes to a closed pipe must not end the run */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			replay_path(argv[i]);
	} else {
		snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", fuzz_name);
		replay_dir(dir);
		snprintf(dir, sizeof(dir), "tests/fuzz/regress/%s", fuzz_name);
		if (stat(dir, &st) == 0)
			replay_dir(dir);
	}
	printf("# %d passed, %d failed\n", run - failed, failed);
	return failed > 0 || run == 0;
}
