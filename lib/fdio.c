#include <errno.h>
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
