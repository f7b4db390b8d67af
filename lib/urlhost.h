/*
 * urlhost: the host of an http:// or https:// URL, and whether it is
 * loopback. Pure: no I/O, no resolving. Used by aws (the plain-HTTP
 * warning) and creds (which container credential URLs it trusts); each
 * caller decides what a user@ part or a trailing dot means to it.
 */
#ifndef COINPIPE_URLHOST_H
#define COINPIPE_URLHOST_H

#define URLHOST_MAX 256	/* host bytes with the NUL; a DNS name is <= 253 */

struct urlhost {
	int https;		/* scheme https, else http (either in any case) */
	int userinfo;		/* "user[:password]@" came before the host */
	int bracketed;		/* an IPv6 literal in [] */
	char host[URLHOST_MAX];	/* without user, brackets and port */
};

/*
 * 0 and *u filled when url is http:// or https:// (any case) with a
 * non-empty host; -1 for another scheme, an empty or too long host, an
 * unclosed '[' or anything but ":port" after ']'. The host is what
 * follows the last '@' of the authority, up to ':' (a port, not checked)
 * or, bracketed, up to ']'.
 */
int urlhost_parse(const char *url, struct urlhost *u);

/*
 * 1 when host is loopback: "localhost" (any case, no trailing dot),
 * 127.0.0.0/8 as a four-part dotted quad (127.1 is a name), ::1 in any
 * spelling, or IPv4-mapped ::ffff:127.0.0.0/104; else 0.
 */
int urlhost_is_loopback(const char *host);

#endif
