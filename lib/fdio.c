#include <errno.h>
#include <fcntl.h>
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
