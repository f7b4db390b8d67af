/*
 * stubsrv.h: a loopback HTTP/1.1 stub server for the C unit tests.
 *
 * For what a real server cannot do on demand (STYLE.md section 8): canned
 * statuses, dropped connections, truncated bodies, delays. It listens on
 * 127.0.0.1 on an ephemeral port, runs in a fork()ed child, answers the
 * requests it receives with a script of responses in order, and records
 * every request (connection number, method, target, headers, body) so the
 * test can read them back.
 *
 *	static const struct stubsrv_response script[] = {
 *		{ .status = 500, .body = "oops" },
 *		{ .status = 200, .headers = "Content-Type: text/plain",
 *		    .body = "hi" },
 *	};
 *	struct stubsrv s;
 *	struct stubsrv_log log;
 *
 *	stubsrv_start(&s, script, 2);	// s.port is the port
 *	... requests to http://127.0.0.1:<s.port>/ ...
 *	stubsrv_read(&s, &log);		// log.req[0..log.n)
 *	stubsrv_log_free(&log);
 *	stubsrv_stop(&s);		// kill + waitpid
 *
 * A request is recorded before it is answered, so once the client has seen
 * the outcome of a request, stubsrv_read() finds it. Requests beyond the
 * script get a 500 with body "stubsrv: script exhausted" and a closed
 * connection. Request bodies must come with Content-Length (what libcurl
 * sends for a buffer); chunked request bodies are not decoded.
 * Connections are served from one poll() loop, so parallel clients work;
 * a delay holds every connection.
 */
#ifndef COINPIPE_STUBSRV_H
#define COINPIPE_STUBSRV_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Every function is static; unused ones must not warn in a test. */
#define STUBSRV_FN static __attribute__((unused))

#define STUBSRV_MAX_CONNS 32	/* parallel client connections served */
#define STUBSRV_MAX_HEADERS 64	/* request headers recorded per request */

enum stubsrv_flags {
	/* read the request, then close the connection without answering */
	STUBSRV_DROP = 1 << 0,
	/* answer with "Connection: close" and close after the response */
	STUBSRV_CLOSE = 1 << 1,
	/* announce the whole body in Content-Length, send half, close */
	STUBSRV_TRUNCATE = 1 << 2,
	/* the body is the request target, to pair answers with requests */
	STUBSRV_ECHO = 1 << 3
};

struct stubsrv_response {
	int status;		/* e.g. 200; ignored with STUBSRV_DROP or raw */
	const char *headers;	/* extra header lines separated by '\n', or
				 * NULL; Content-Length is always added */
	const char *body;	/* NULL: empty (see STUBSRV_ECHO) */
	unsigned flags;		/* enum stubsrv_flags */
	int delay_ms;		/* wait this long before answering */
	const char *raw;	/* when set, sent as is instead of the above */
};

struct stubsrv {
	pid_t pid;
	int port;
	int logfd;		/* unlinked temp file shared with the child */
};

/* One recorded request; every pointer points into raw. */
struct stubsrv_req {
	int conn;		/* connection number, from 0 in accept order */
	const char *method;
	const char *target;
	const char *hname[STUBSRV_MAX_HEADERS];
	const char *hval[STUBSRV_MAX_HEADERS];
	size_t nheaders;
	const char *body;	/* NUL-terminated for convenience */
	size_t body_len;
	char *raw;		/* owned */
};

struct stubsrv_log {
	struct stubsrv_req *req;
	size_t n;
};

/* Per-connection state inside the child. */
struct stubsrv_conn_ {
	int fd;
	int id;
	char *buf;
	size_t len, cap;
};

STUBSRV_FN int
stubsrv_write_all_(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

STUBSRV_FN void
stubsrv_sleep_ms_(int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Length of the head including the blank line, or 0 when incomplete. */
STUBSRV_FN size_t
stubsrv_head_len_(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 3 < n; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

/* Content-Length of a request head (not NUL-terminated); 0 when absent. */
STUBSRV_FN size_t
stubsrv_content_length_(const char *head, size_t n)
{
	static const char name[] = "\r\ncontent-length:";
	size_t i, k = sizeof(name) - 1;

	for (i = 0; i + k < n; i++)
		if (strncasecmp(head + i, name, k) == 0)
			return (size_t)strtoul(head + i + k, NULL, 10);
	return 0;
}

/* Appends "CONN LEN\n<LEN raw bytes>\n" to the log in one write. */
STUBSRV_FN void
stubsrv_record_(int logfd, int conn, const char *req, size_t n)
{
	char hdr[64];
	int hn = snprintf(hdr, sizeof(hdr), "%d %zu\n", conn, n);
	char *rec = malloc((size_t)hn + n + 1);

	if (rec == NULL)
		return;
	memcpy(rec, hdr, (size_t)hn);
	memcpy(rec + hn, req, n);
	rec[(size_t)hn + n] = '\n';
	(void)stubsrv_write_all_(logfd, rec, (size_t)hn + n + 1);
	free(rec);
}

/* Sends one scripted answer; returns 1 when the connection must close.
 * req is the request head, for STUBSRV_ECHO. */
STUBSRV_FN int
stubsrv_answer_(int fd, const struct stubsrv_response *r, const char *req)
{
	const char *body = r->body ? r->body : "";
	const char *h = r->headers, *nl;
	size_t blen = strlen(body);
	char line[256];
	int n;

	if (r->flags & STUBSRV_ECHO) {
		body = strchr(req, ' ') + 1;
		blen = strcspn(body, " ");
	}

	if (r->delay_ms > 0)
		stubsrv_sleep_ms_(r->delay_ms);
	if (r->flags & STUBSRV_DROP)
		return 1;
	if (r->raw != NULL) {
		(void)stubsrv_write_all_(fd, r->raw, strlen(r->raw));
		return (r->flags & STUBSRV_CLOSE) != 0;
	}
	n = snprintf(line, sizeof(line), "HTTP/1.1 %d Stub\r\n"
	    "Content-Length: %zu\r\n%s", r->status, blen,
	    (r->flags & STUBSRV_CLOSE) ? "Connection: close\r\n" : "");
	(void)stubsrv_write_all_(fd, line, (size_t)n);
	while (h != NULL && *h != '\0') {
		nl = strchr(h, '\n');
		n = nl ? (int)(nl - h) : (int)strlen(h);
		if (n > 0) {
			(void)stubsrv_write_all_(fd, h, (size_t)n);
			(void)stubsrv_write_all_(fd, "\r\n", 2);
		}
		h = nl ? nl + 1 : NULL;
	}
	(void)stubsrv_write_all_(fd, "\r\n", 2);
	if (r->flags & STUBSRV_TRUNCATE) {
		(void)stubsrv_write_all_(fd, body, blen / 2);
		return 1;
	}
	(void)stubsrv_write_all_(fd, body, blen);
	return (r->flags & STUBSRV_CLOSE) != 0;
}

/*
 * Serves every complete request buffered on c. Returns 1 when the
 * connection must close.
 */
STUBSRV_FN int
stubsrv_serve_(struct stubsrv_conn_ *c, const struct stubsrv_response *script,
    size_t nscript, size_t *next, int logfd)
{
	static const struct stubsrv_response exhausted = {
		.status = 500, .body = "stubsrv: script exhausted",
		.flags = STUBSRV_CLOSE
	};
	size_t hl, total;
	int closing;

	while ((hl = stubsrv_head_len_(c->buf, c->len)) != 0) {
		total = hl + stubsrv_content_length_(c->buf, hl);
		if (c->len < total)
			return 0;
		stubsrv_record_(logfd, c->id, c->buf, total);
		closing = stubsrv_answer_(c->fd,
		    *next < nscript ? &script[*next] : &exhausted, c->buf);
		(*next)++;
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
		if (closing)
			return 1;
	}
	return 0;
}

/* Reads what is available on c; returns 1 on EOF or error. */
STUBSRV_FN int
stubsrv_fill_(struct stubsrv_conn_ *c)
{
	char *nb;
	ssize_t r;

	if (c->cap - c->len < 4096) {
		nb = realloc(c->buf, c->cap * 2 + 4096);
		if (nb == NULL)
			return 1;
		c->buf = nb;
		c->cap = c->cap * 2 + 4096;
	}
	r = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (r < 0 && errno == EINTR)
		return 0;
	if (r <= 0)
		return 1;
	c->len += (size_t)r;
	return 0;
}

STUBSRV_FN void
stubsrv_drop_conn_(struct stubsrv_conn_ *conns, size_t *n, size_t i)
{
	close(conns[i].fd);
	free(conns[i].buf);
	conns[i] = conns[--*n];
}

STUBSRV_FN void __attribute__((noreturn))
stubsrv_child_(int lfd, int logfd, const struct stubsrv_response *script,
    size_t nscript, pid_t parent)
{
	struct stubsrv_conn_ conns[STUBSRV_MAX_CONNS];
	struct pollfd pfd[STUBSRV_MAX_CONNS + 1];
	size_t nconn = 0, next = 0, i;
	int nextid = 0, fd;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		pfd[0].fd = nconn < STUBSRV_MAX_CONNS ? lfd : -1;
		pfd[0].events = POLLIN;
		for (i = 0; i < nconn; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, nconn + 1, 1000) < 0 && errno != EINTR)
			_exit(1);
		/* never outlive the test that started us */
		if (getppid() != parent)
			_exit(0);
		/* from the end, so dropping (swap with last) is safe */
		for (i = nconn; i-- > 0;) {
			if (pfd[i + 1].revents == 0)
				continue;
			if (stubsrv_fill_(&conns[i]) || stubsrv_serve_(&conns[i],
			    script, nscript, &next, logfd))
				stubsrv_drop_conn_(conns, &nconn, i);
		}
		if ((pfd[0].revents & POLLIN) &&
		    (fd = accept(lfd, NULL, NULL)) >= 0) {
			conns[nconn].fd = fd;
			conns[nconn].id = nextid++;
			conns[nconn].buf = NULL;
			conns[nconn].len = conns[nconn].cap = 0;
			nconn++;
		}
	}
}

STUBSRV_FN int
stubsrv_listen_(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, STUBSRV_MAX_CONNS) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/*
 * Starts the server; script must stay valid (the child has its own copy of
 * memory, so a static or stack array in the test is fine). Returns 0, or -1
 * with errno set.
 */
STUBSRV_FN int
stubsrv_start(struct stubsrv *s, const struct stubsrv_response *script,
    size_t nscript)
{
	char path[] = "/tmp/stubsrv.XXXXXX";
	pid_t parent = getpid();
	int lfd;

	s->pid = -1;
	s->logfd = mkstemp(path);
	if (s->logfd < 0)
		return -1;
	unlink(path);
	/* the port is bound before fork, so no ready handshake is needed */
	lfd = stubsrv_listen_(&s->port);
	if (lfd < 0)
		goto fail;
	fflush(NULL);	/* or buffered TAP output would be written twice */
	s->pid = fork();
	if (s->pid == 0)
		stubsrv_child_(lfd, s->logfd, script, nscript, parent);
	close(lfd);
	if (s->pid > 0)
		return 0;
fail:
	close(s->logfd);
	s->logfd = -1;
	return -1;
}

/* Stops the child by PID. Returns 0 when it was running and is gone. */
STUBSRV_FN int
stubsrv_stop(struct stubsrv *s)
{
	int rc = -1, status;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		if (waitpid(s->pid, &status, 0) == s->pid &&
		    WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
			rc = 0;
		s->pid = -1;
	}
	if (s->logfd >= 0)
		close(s->logfd);
	s->logfd = -1;
	return rc;
}

/* Splits one raw request in place: request line, headers, body. */
STUBSRV_FN void
stubsrv_parse_req_(struct stubsrv_req *r, size_t n)
{
	char *p = r->raw, *eol, *colon;
	size_t hl = stubsrv_head_len_(r->raw, n);

	r->body = r->raw + hl;
	r->body_len = n - hl;
	r->raw[hl - 2] = '\0';	/* cut the blank line off the head */
	r->method = p;
	p = strchr(p, ' ');
	*p++ = '\0';
	r->target = p;
	eol = strstr(p, "\r\n");
	*strchr(p, ' ') = '\0';
	for (p = eol + 2; *p != '\0' && r->nheaders < STUBSRV_MAX_HEADERS;
	    p = eol + 2) {
		eol = strstr(p, "\r\n");
		*eol = '\0';
		colon = strchr(p, ':');
		if (colon == NULL)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		r->hname[r->nheaders] = p;
		r->hval[r->nheaders++] = colon;
	}
}

/* Reads back every request recorded so far. Returns 0, or -1. */
STUBSRV_FN int
stubsrv_read(const struct stubsrv *s, struct stubsrv_log *log)
{
	struct stat st;
	char *all = NULL, *p, *end;
	struct stubsrv_req *r;
	int conn, rc = -1;
	size_t n;

	log->req = NULL;
	log->n = 0;
	if (fstat(s->logfd, &st) != 0 || (all = malloc((size_t)st.st_size +
	    1)) == NULL || pread(s->logfd, all, (size_t)st.st_size, 0) !=
	    st.st_size)
		goto out;
	all[st.st_size] = '\0';
	for (p = all, end = all + st.st_size; p < end; p += n + 1) {
		if (sscanf(p, "%d %zu", &conn, &n) != 2)
			goto out;
		p = strchr(p, '\n') + 1;
		r = realloc(log->req, (log->n + 1) * sizeof(*r));
		if (r == NULL)
			goto out;
		log->req = r;
		r = &log->req[log->n++];
		memset(r, 0, sizeof(*r));
		r->conn = conn;
		if ((r->raw = malloc(n + 1)) == NULL)
			goto out;
		memcpy(r->raw, p, n);
		r->raw[n] = '\0';
		stubsrv_parse_req_(r, n);
	}
	rc = 0;
out:
	free(all);
	return rc;
}

STUBSRV_FN void
stubsrv_log_free(struct stubsrv_log *log)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		free(log->req[i].raw);
	free(log->req);
	log->req = NULL;
	log->n = 0;
}

/* Case-insensitive header lookup in a recorded request; NULL if absent. */
STUBSRV_FN const char *
stubsrv_req_header(const struct stubsrv_req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->hname[i], name) == 0)
			return r->hval[i];
	return NULL;
}

/*
 * The environment of a test that signs requests to the stub: the SigV4
 * suite's example keys, no profile, config file, IMDS or container source
 * that could answer instead, no AWS_MAX_ATTEMPTS from the caller's shell.
 */
STUBSRV_FN void
stubsrv_static_creds_env(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY",
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
}

#endif
