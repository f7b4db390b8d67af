#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "urlhost.h"

static int
scheme(const char *url, int *https, const char **rest)
{
	if (strncasecmp(url, "http://", 7) == 0) {
		*https = 0;
		*rest = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		*https = 1;
		*rest = url + 8;
	} else
		return -1;
	return 0;
}

int
urlhost_parse(const char *url, struct urlhost *u)
{
	const char *a, *end, *at, *p;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (url == NULL || scheme(url, &u->https, &a) == -1)
		return -1;
	end = a + strcspn(a, "/?#");
	/* RFC 3986 3.2: the userinfo ends at the authority's last '@' */
	for (at = NULL, p = a; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL) {
		u->userinfo = 1;
		a = at + 1;
	}
	if (*a == '[') {
		u->bracketed = 1;
		a++;
		p = memchr(a, ']', (size_t)(end - a));
		if (p == NULL || (p + 1 < end && p[1] != ':'))
			return -1;
	} else
		for (p = a; p < end && *p != ':'; p++)
			;
	n = (size_t)(p - a);
	if (n == 0 || n >= sizeof(u->host))
		return -1;
	memcpy(u->host, a, n);
	u->host[n] = '\0';
	return 0;
}

int
urlhost_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}
