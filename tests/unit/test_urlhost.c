#include <stdio.h>
#include <string.h>

#include "urlhost.h"
#include "tap.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static void
test_parse(void)
{
	static const struct {
		const char *url;
		int rc, https, userinfo, bracketed;
		const char *host;
	} t[] = {
		{ "http://example.com", 0, 0, 0, 0, "example.com" },
		{ "HTTP://Example.COM:80/x?y#z", 0, 0, 0, 0, "Example.COM" },
		{ "https://example.com/", 0, 1, 0, 0, "example.com" },
		{ "HtTpS://example.com", 0, 1, 0, 0, "example.com" },
		{ "http://u:p@h.example/x", 0, 0, 1, 0, "h.example" },
		{ "http://a@b@c.example/x", 0, 0, 1, 0, "c.example" },
		{ "http://h?q=a@b", 0, 0, 0, 0, "h" },	/* '@' after the path */
		{ "http://[::1]:4566/", 0, 0, 0, 1, "::1" },
		{ "http://[::1]", 0, 0, 0, 1, "::1" },
		{ "http://u@[::1]/", 0, 0, 1, 1, "::1" },
		/* the port is not checked */
		{ "http://127.0.0.1:x/", 0, 0, 0, 0, "127.0.0.1" },
		{ "http://localhost./", 0, 0, 0, 0, "localhost." },
		{ "http://[::1", -1, 0, 0, 1, "" },
		{ "http://[::1]x/", -1, 0, 0, 1, "" },
		{ "http://[]/", -1, 0, 0, 1, "" },
		{ "http://", -1, 0, 0, 0, "" },
		{ "http://:80/", -1, 0, 0, 0, "" },
		{ "http://u@/", -1, 0, 1, 0, "" },
		{ "ftp://example.com", -1, 0, 0, 0, "" },
		{ "example.com", -1, 0, 0, 0, "" },
	};
	struct urlhost u;
	char name[128];
	size_t i;

	for (i = 0; i < LEN(t); i++) {
		snprintf(name, sizeof(name), "parse %s", t[i].url);
		is_int(urlhost_parse(t[i].url, &u), t[i].rc, name);
		if (t[i].rc == 0) {
			ok(u.https == t[i].https && u.userinfo == t[i].userinfo
			    && u.bracketed == t[i].bracketed, "%s: flags",
			    t[i].url);
			is_str(u.host, t[i].host, "host");
		}
	}
	is_int(urlhost_parse(NULL, &u), -1, "no URL");
}

static void
test_long_host(void)
{
	char url[8 + URLHOST_MAX + 8];
	struct urlhost u;

	memcpy(url, "http://", 7);
	memset(url + 7, 'a', URLHOST_MAX - 1);
	strcpy(url + 7 + URLHOST_MAX - 1, "/x");
	ok(urlhost_parse(url, &u) == 0 && strlen(u.host) == URLHOST_MAX - 1,
	    "the longest host fits");
	memset(url + 7, 'a', URLHOST_MAX);
	strcpy(url + 7 + URLHOST_MAX, "/x");
	is_int(urlhost_parse(url, &u), -1, "a longer host is refused, not cut");
}

static void
test_loopback(void)
{
	static const struct {
		const char *host;
		int loopback;
	} t[] = {
		{ "localhost", 1 },
		{ "LocalHost", 1 },
		{ "127.0.0.1", 1 },
		{ "127.255.255.254", 1 },
		{ "::1", 1 },
		{ "0:0:0:0:0:0:0:1", 1 },
		{ "::ffff:127.0.0.1", 1 },
		{ "::FFFF:127.9.9.9", 1 },
		{ "localhost.", 0 },	/* callers decide */
		{ "localhost.example.com", 0 },
		{ "127.1", 0 },		/* not a dotted quad: a name */
		{ "0x7f.0.0.1", 0 },
		{ "127.0.0.1.example.com", 0 },
		{ "128.0.0.1", 0 },
		{ "126.255.255.255", 0 },
		{ "::2", 0 },
		{ "::ffff:128.0.0.1", 0 },
		{ "::127.0.0.1", 0 },	/* IPv4-compatible, not mapped */
		{ "fe80::1%lo", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < LEN(t); i++)
		is_int(urlhost_is_loopback(t[i].host), t[i].loopback,
		    t[i].host[0] ? t[i].host : "(empty)");
}

int
main(void)
{
	test_parse();
	test_long_host();
	test_loopback();
	return tap_done();
}
