#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "fdio.h"
#include "tap.h"

#define BIG (4 << 20)

static void
on_alarm(int sig)
{
	(void)sig;
}

/* The child reads slowly and checks every byte: exit 0 when all came. */
static void
slow_reader(int fd)
{
	struct timespec pause = { 0, 50000 };
	char b[4096];
	size_t got = 0, i;
	ssize_t r;

	while ((r = read(fd, b, sizeof(b))) > 0) {
		for (i = 0; i < (size_t)r; i++)
			if (b[i] != (char)((got + i) % 251))
				_exit(2);
		got += (size_t)r;
		nanosleep(&pause, NULL);
	}
	_exit(got == BIG ? 0 : 1);
}

/* A timer without SA_RESTART interrupts the writes: EINTR and short
 * writes both happen, and every byte must still arrive once. */
static void
test_interrupted_writes(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } }, off = { 0 };
	struct errbuf e;
	char *p = malloc(BIG);
	int fds[2], status = -1, rc;
	size_t i;
	pid_t pid;

	for (i = 0; i < BIG; i++)
		p[i] = (char)(i % 251);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	if (pipe(fds) == -1 || (pid = fork()) == -1) {
		ok(0, "pipe and fork");
		free(p);
		return;
	}
	if (pid == 0) {
		close(fds[1]);
		slow_reader(fds[0]);
	}
	close(fds[0]);
	setitimer(ITIMER_REAL, &it, NULL);
	rc = fdio_write_all(fds[1], p, BIG, "pipe", &e);
	setitimer(ITIMER_REAL, &off, NULL);
	close(fds[1]);
	waitpid(pid, &status, 0);
	ok(rc == 0, "4 MiB written through interruptions");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the reader got every byte once, in order");
	free(p);
}

static void
test_errors(void)
{
	struct errbuf e;
	int fds[2], fd;

	fd = open("/dev/full", O_WRONLY);
	ok(fd != -1 && fdio_write_all(fd, "x", 1, "out.csv", &e) == -1 &&
	    errno == ENOSPC && e.kind == ERR_SYSTEM &&
	    strcmp(e.msg, "out.csv: No space left on device") == 0,
	    "a full disk: ENOSPC, named in err");
	if (fd != -1)
		close(fd);
	signal(SIGPIPE, SIG_IGN);
	if (pipe(fds) == 0) {
		close(fds[0]);
		ok(fdio_write_all(fds[1], "x", 1, "stdout", &e) == -1 &&
		    errno == EPIPE && strncmp(e.msg, "stdout: ", 8) == 0,
		    "a closed reader: EPIPE stays in errno");
		close(fds[1]);
	}
	ok(fdio_write_all(-1, "x", 1, "bad", &e) == -1 && errno == EBADF,
	    "a bad descriptor fails");
	ok(fdio_write_all(-1, "", 0, "bad", &e) == 0, "nothing to write");
}

/* Appends keep what was there, the file is private, and a path that cannot
 * be opened is named with its reason. */
static void
test_open_append(void)
{
	char dir[] = "/tmp/fdio.XXXXXX", path[64], got[16] = { 0 };
	struct errbuf e;
	struct stat st;
	int fd, i, in;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/dead.ndjson", dir);
	for (i = 0; i < 2; i++) {
		umask(0);
		fd = fdio_open_append(path, &e);
		umask(022);
		ok(fd != -1 && fdio_write_all(fd, i ? "b\n" : "a\n", 2, path,
		    &e) == 0, "open %d appends", i + 1);
		ok(fd == -1 || (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
		    "close-on-exec");
		if (fd != -1)
			close(fd);
	}
	in = open(path, O_RDONLY);
	ok(in != -1 && read(in, got, sizeof(got) - 1) == 4 &&
	    strcmp(got, "a\nb\n") == 0, "the second open kept the first line");
	if (in != -1)
		close(in);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "created 0600 even under umask 0");
	unlink(path);
	snprintf(path, sizeof(path), "%s/no/such", dir);
	ok(fdio_open_append(path, &e) == -1 && e.kind == ERR_CONFIG &&
	    strstr(e.msg, "/no/such: No such file or directory") != NULL,
	    "a missing directory: ERR_CONFIG, the path and the reason");
	rmdir(dir);
}

/* A replacement is whole, private, leaves no temporary file, and a path
 * in a missing directory is named. */
static void
test_replace(void)
{
	char dir[] = "/tmp/fdio.XXXXXX", path[64], got[16] = { 0 };
	struct errbuf e;
	struct stat st;
	int in, i;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/cache.json", dir);
	for (i = 0; i < 2; i++) {
		umask(0);
		ok(fdio_replace(path, i ? "new" : "old-longer", i ? 3 : 10,
		    &e) == 0, "replace %d", i + 1);
		umask(022);
	}
	in = open(path, O_RDONLY);
	ok(in != -1 && read(in, got, sizeof(got) - 1) == 3 &&
	    strcmp(got, "new") == 0, "the new content alone");
	if (in != -1)
		close(in);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "0600 even under umask 0");
	unlink(path);
	ok(rmdir(dir) == 0, "no temporary file left beside it");
	ok(fdio_replace(path, "x", 1, &e) == -1 && e.kind == ERR_SYSTEM &&
	    strstr(e.msg, "No such file or directory") != NULL,
	    "a missing directory: the reason");
}

int
main(void)
{
	test_interrupted_writes();
	test_errors();
	test_open_append();
	test_replace();
	return tap_done();
}
