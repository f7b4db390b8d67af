#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"

int
fdio_write_all(int fd, const void *p, size_t n, const char *what,
    struct errbuf *err)
{
	const char *c = p;
	ssize_t w;
	int saved;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			errbuf_set(err, ERR_SYSTEM, "%s: %s", what,
			    strerror(saved));
			errno = saved;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fdio_open_append(const char *path, struct errbuf *err)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1)
		errbuf_set(err, ERR_CONFIG, "%s: %s", path, strerror(errno));
	return fd;
}

int
fdio_sync_dir_of(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd, rc = -1;

	if (dir == NULL)
		return -1;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	if ((fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY)) != -1) {
		rc = fsync(fd);
		close(fd);
	}
	free(dir);
	return rc;
}

int
fdio_try_lock(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

int
fdio_replace(const char *path, const void *data, size_t n,
    struct errbuf *err)
{
	size_t len = strlen(path) + 16;
	char *tmp = malloc(len);
	int fd = -1, rc = -1;

	if (tmp == NULL)
		return errbuf_set(err, ERR_SYSTEM, "%s: out of memory", path);
	snprintf(tmp, len, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {	/* mkstemp creates it 0600 */
		errbuf_set(err, ERR_SYSTEM, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fdio_write_all(fd, data, n, tmp, err) == -1)
		goto out;
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		errbuf_set(err, ERR_SYSTEM, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1 || fdio_sync_dir_of(path) == -1) {
		errbuf_set(err, ERR_SYSTEM, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (rc == -1)
		unlink(tmp);	/* harmless when mkstemp made nothing */
	free(tmp);
	return rc;
}
