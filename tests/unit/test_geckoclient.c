/* test_geckoclient: plans and keys, and the client against a stub: the
 * limiter and retry waits on a clock the test runs, the log lines, the
 * selection calls, a poll's calls, the credit warning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geckoclient.h"
#include "stubsrv.h"
#include "tap.h"

static enum gecko_plan plan;
static char *key;
static struct errbuf e;

static int
resolve(int plan_set, enum gecko_plan p, const char *file)
{
	gecko_key_free(key);
	key = NULL;
	errbuf_clear(&e);
	return gecko_key_resolve(plan_set, p, file, &plan, &key, &e);
}

static void
test_keys(void)
{
	char path[] = "/tmp/test_geckoclient.XXXXXX";
	FILE *f;
	int fd;

	unsetenv("COINGECKO_PRO_API_KEY");
	unsetenv("COINGECKO_DEMO_API_KEY");
	ok(resolve(0, GECKO_PUBLIC, NULL) == 0 && plan == GECKO_PUBLIC &&
	    key == NULL, "no key: the public API");
	setenv("COINGECKO_DEMO_API_KEY", "CG-demo", 1);
	ok(resolve(0, GECKO_PUBLIC, NULL) == 0 && plan == GECKO_DEMO &&
	    strcmp(key, "CG-demo") == 0, "a Demo key: demo");
	setenv("COINGECKO_PRO_API_KEY", "CG-pro", 1);
	ok(resolve(0, GECKO_PUBLIC, NULL) == 0 && plan == GECKO_PRO &&
	    strcmp(key, "CG-pro") == 0, "a Pro key wins");
	ok(resolve(1, GECKO_DEMO, NULL) == 0 && plan == GECKO_DEMO &&
	    strcmp(key, "CG-demo") == 0, "--plan demo takes the Demo key");
	unsetenv("COINGECKO_DEMO_API_KEY");
	ok(resolve(1, GECKO_DEMO, NULL) == -1 && e.kind == ERR_CONFIG,
	    "--plan demo without its key refused");
	is_str(e.msg, "--plan demo needs a key: set COINGECKO_DEMO_API_KEY or "
	    "use --api-key-file", "message names the variable");
	setenv("COINGECKO_PRO_API_KEY", "", 1);
	ok(resolve(0, GECKO_PUBLIC, NULL) == 0 && plan == GECKO_PUBLIC,
	    "an empty variable is no key");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		ok(0, "temp file");
		return;
	}
	fputs("  \n", f);
	fflush(f);
	ok(resolve(0, GECKO_PUBLIC, path) == -1 && strstr(e.msg,
	    "no key on the first line") != NULL, "file: empty line refused");
	rewind(f);
	fputs("CG-file \t\nsecond\n", f);
	fclose(f);
	ok(resolve(0, GECKO_PUBLIC, path) == 0 && plan == GECKO_DEMO &&
	    strcmp(key, "CG-file") == 0, "file: first word, demo by default");
	ok(resolve(1, GECKO_PRO, path) == 0 && plan == GECKO_PRO,
	    "file: with --plan pro");
	unlink(path);
	ok(resolve(0, GECKO_PUBLIC, path) == -1 && e.kind == ERR_CONFIG,
	    "file: missing refused");
	gecko_key_free(key);
	key = NULL;
}

/* ---- the client, on a clock the test runs ---- */

static long long fake_mono, fake_wall = 1764331200000LL;  /* 12:00:00Z */
static long long slept;
static volatile sig_atomic_t stop_flag;
static char logged[16384];		/* "N: line\n" or "V: line\n" */

static long long mono(void) { return fake_mono; }
static long long wall(void) { return fake_wall; }

static void
nap(int ms)
{
	fake_mono += ms;
	fake_wall += ms;
	slept += ms;
}

static void
log_line(void *arg, enum gecko_log level, const char *line)
{
	size_t n = strlen(logged);

	(void)arg;
	snprintf(logged + n, sizeof(logged) - n, "%c: %s\n",
	    level == GECKO_LOG_NOTICE ? 'N' : 'V', line);
}

struct fixture {
	struct stubsrv srv;
	struct stubsrv_log log;
	struct gecko_client_config cfg;
	struct gecko_client *c;
	char url[64];
	struct errbuf err;
};

/* The stub with script, and a config pointing at it (base_url with a
 * trailing slash, which the client drops). */
static int
fixture_start(struct fixture *f, const struct stubsrv_response *script,
    size_t n)
{
	memset(f, 0, sizeof(*f));
	logged[0] = '\0';
	slept = 0;
	stop_flag = 0;
	if (stubsrv_start(&f->srv, script, n) != 0)
		return -1;
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/", f->srv.port);
	f->cfg.base_url = f->url;
	f->cfg.retries = 3;
	f->cfg.max_backoff_ms = 1500;
	f->cfg.timeout_ms = 5000;
	f->cfg.user_agent = "test_geckoclient";
	f->cfg.log_fn = log_line;
	f->cfg.stop = &stop_flag;
	f->cfg.mono_ms = mono;
	f->cfg.wall_ms = wall;
	f->cfg.nap_ms = nap;
	return 0;
}

static struct gecko_client *
fixture_client(struct fixture *f)
{
	errbuf_clear(&f->err);
	f->c = gecko_client_new(&f->cfg, &f->err);
	ok(f->c != NULL, "client: %s", f->err.msg);
	return f->c;
}

/* One GET of path; rc and the stub's log for the checks. */
static int
fixture_get(struct fixture *f, const char *path, struct http_response *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	errbuf_clear(&f->err);
	rc = gecko_client_get(f->c, path, r, &f->err);
	stubsrv_log_free(&f->log);
	stubsrv_read(&f->srv, &f->log);
	return rc;
}

static void
fixture_stop(struct fixture *f)
{
	gecko_client_free(f->c);
	stubsrv_log_free(&f->log);
	stubsrv_stop(&f->srv);
}

/* A GET line as long as the longest URL is logged whole. */
static void
long_get_line(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = "{}" },
	};
	static char path[GECKO_URL_MAX];
	struct fixture f;
	struct http_response r;

	memset(path, 'a', sizeof(path) - 100);
	memcpy(path, "/simple/price?ids=", 18);
	path[sizeof(path) - 100] = '\0';
	if (fixture_start(&f, script, 1) != 0 || fixture_client(&f) == NULL)
		return;
	fixture_get(&f, path, &r);
	ok(strstr(logged, path) != NULL && strstr(logged, ": HTTP 200, 2 "
	    "bytes\n") != NULL, "a long GET line is logged whole");
	http_response_free(&r);
	fixture_stop(&f);
}

static void
test_get_retries(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 500, .body = "oops" },
		{ .status = 200, .body = "{}" },
	};
	struct fixture f;
	struct http_response r;
	char want[512];

	unsetenv("COINGECKO_PRO_API_KEY");
	unsetenv("COINGECKO_DEMO_API_KEY");
	if (fixture_start(&f, script, 2) != 0 || fixture_client(&f) == NULL)
		return;
	is_str(gecko_client_base(f.c) + strlen(f.url) - 1, "",
	    "base: the trailing slash dropped");
	is_int(fixture_get(&f, "/simple/price?ids=a", &r), 0, "500, then 200");
	is_int(r.status, 200, "the answer is the 200");
	is_int(f.log.n, 2, "two requests");
	if (f.log.n == 2)
		is_str(f.log.req[0].target, "/simple/price?ids=a",
		    "the path as given");
	ok(f.log.n == 2 && stubsrv_req_header(&f.log.req[0],
	    "x-cg-demo-api-key") == NULL, "public: no key header");
	snprintf(want, sizeof(want), "V: plan public, http://127.0.0.1:%d, "
	    "5 calls/min\nV: GET http://127.0.0.1:%d/simple/price?ids=a: "
	    "HTTP 500, 4 bytes\nN: /simple/price: ", f.srv.port, f.srv.port);
	ok(strncmp(logged, want, strlen(want)) == 0, "log: plan, GET, the "
	    "retry named by its path without the query");
	ok(strstr(logged, "; retrying in ") != NULL &&
	    strstr(logged, "HTTP 200, 2 bytes\n") != NULL,
	    "log: the wait, then the 200");
	ok(slept <= 1000, "a 500 waits at most the 1 s base (%lld)", slept);
	http_response_free(&r);
	fixture_stop(&f);
	long_get_line();
}

static void
test_retry_after(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 429, .headers = "Retry-After: 3600",
		    .body = "{\"status\":{\"error_code\":429,"
		    "\"error_message\":\"slow down\"}}" },
		{ .status = 200, .body = "{}" },
	};
	struct fixture f;
	struct http_response r;

	if (fixture_start(&f, script, 2) != 0 || fixture_client(&f) == NULL)
		return;
	is_int(fixture_get(&f, "/coins/list", &r), 0, "429, then 200");
	ok(strstr(logged, "; retrying in 1500 ms\n") != NULL,
	    "Retry-After: 3600 is cut to max_backoff_ms");
	is_int(slept, 1500, "and that is how long it waited");
	http_response_free(&r);
	fixture_stop(&f);
}

static void
test_get_fails(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 401, .body = "{\"status\":{\"error_code\":10002,"
		    "\"error_message\":\"no key\"}}" },
		{ .status = 503, .body = "down" },
		{ .status = 503, .body = "down" },
		{ .status = 200, .body = "{}" },
	};
	struct fixture f;
	struct http_response r;

	if (fixture_start(&f, script, 4) != 0)
		return;
	f.cfg.retries = 1;
	if (fixture_client(&f) == NULL)
		return;
	is_int(fixture_get(&f, "/coins/list?x=1", &r), -1, "401 fails");
	is_int(f.err.kind, ERR_CONFIG, "a 4xx is a configuration error");
	ok(strncmp(f.err.msg, "/coins/list: ", 13) == 0, "named by its path: "
	    "%s", f.err.msg);
	is_int(f.log.n, 1, "and not retried");
	http_response_free(&r);
	is_int(fixture_get(&f, "/coins/list", &r), -1, "503 twice, 1 retry");
	is_int(f.err.kind, ERR_TEMP, "temporary");
	is_int(f.log.n, 3, "one retry, no more");
	http_response_free(&r);
	stop_flag = 1;
	is_int(fixture_get(&f, "/coins/list", &r), GECKO_STOPPED,
	    "the stop flag ends a call before it starts");
	is_int(f.log.n, 3, "no request after the stop");
	http_response_free(&r);
	fixture_stop(&f);
}

static void
test_key_and_rate(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = "{}" },
		{ .status = 200, .body = "{}" },
	};
	struct fixture f;
	struct http_response r;
	const char *h;

	setenv("COINGECKO_DEMO_API_KEY", "CG-test", 1);
	if (fixture_start(&f, script, 2) != 0)
		return;
	f.cfg.rate = 1;
	f.cfg.rate_window_ms = 1000;
	if (fixture_client(&f) == NULL)
		return;
	unsetenv("COINGECKO_DEMO_API_KEY");
	ok(strstr(logged, ", 1 calls/s\n") != NULL, "plan line: --rate 1/s");
	fixture_get(&f, "/ping", &r);
	http_response_free(&r);
	is_int(slept, 0, "the first call does not wait");
	is_int(fixture_get(&f, "/ping", &r), 0, "a second call");
	is_int(slept, 1000, "waits out the window of 1 call a second");
	h = f.log.n > 0 ? stubsrv_req_header(&f.log.req[0],
	    "x-cg-demo-api-key") : NULL;
	is_str(h ? h : "(none)", "CG-test", "the key in the Demo header");
	http_response_free(&r);
	fixture_stop(&f);
}

static void
test_select(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = "[{\"id\":\"b\"},{\"id\":\"a\"}]" },
		{ .status = 200, .body = "[{\"id\":\"x\"},{\"id\":\"y\"},"
		    "{\"id\":\"z\"}]" },
	};
	struct gecko_selection sel;
	struct gecko_coins coins;
	struct gecko_list none;
	struct fixture f;

	if (fixture_start(&f, script, 2) != 0 || fixture_client(&f) == NULL)
		return;
	memset(&sel, 0, sizeof(sel));
	memset(&coins, 0, sizeof(coins));
	sel.top = 3;
	sel.vs = "eur";
	is_int(gecko_client_select(f.c, &sel, &coins, &f.err), 0, "--top 3");
	stubsrv_read(&f.srv, &f.log);
	if (f.log.n >= 1)
		is_str(f.log.req[0].target, "/coins/markets?vs_currency=eur"
		    "&order=market_cap_desc&per_page=3&page=1&sparkline=false",
		    "one page of 3 in the first currency");
	ok(coins.id.n == 2 && strcmp(coins.id.v[0], "b") == 0,
	    "a short page: its coins in rank order, no second page");
	gecko_coins_free(&coins);
	memset(&coins, 0, sizeof(coins));
	memset(&sel, 0, sizeof(sel));
	sel.first = 2;
	is_int(gecko_client_select(f.c, &sel, &coins, &f.err), 0, "--first 2");
	ok(coins.id.n == 2 && strcmp(coins.id.v[1], "y") == 0,
	    "the first two of /coins/list");
	gecko_coins_free(&coins);
	memset(&coins, 0, sizeof(coins));
	memset(&sel, 0, sizeof(sel));
	memset(&none, 0, sizeof(none));
	sel.ids = &none;
	is_int(gecko_client_select(f.c, &sel, &coins, &f.err), -1,
	    "no ids at all");
	is_int(f.err.kind, ERR_CONFIG, "is a configuration error");
	gecko_coins_free(&coins);
	fixture_stop(&f);
}

static void
test_poll(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = "{\"a\":{\"usd\":1.50}}" },
		{ .status = 200, .body = "{\"b\":{\"usd\":2e-05}}" },
	};
	struct gecko_format fmt;
	struct gecko_list vs;
	struct gecko_coins coins;
	struct gecko_poll p;
	struct fixture f;
	size_t starts[2] = { 0, 1 };

	if (fixture_start(&f, script, 2) != 0 || fixture_client(&f) == NULL)
		return;
	memset(&vs, 0, sizeof(vs));
	memset(&fmt, 0, sizeof(fmt));
	memset(&coins, 0, sizeof(coins));
	gecko_list_split(&vs, "usd");
	gecko_list_split(&coins.id, "a,b");
	gecko_coins_finish(&coins);
	fmt.vs = &vs;
	gecko_poll_begin(&p, &fmt, &coins, "2026-11-28T12:00:00Z");
	is_int(gecko_client_poll(f.c, &p, starts, 2, "&vs_currencies=usd",
	    &f.err), 0, "two calls of one poll");
	gecko_poll_end(&p);
	is_int(p.st.records, 2, "a record from each");
	ok(p.out.len > 0 && strstr(p.out.data, "2e-05") != NULL,
	    "the number text as sent");
	stubsrv_read(&f.srv, &f.log);
	if (f.log.n == 2)
		is_str(f.log.req[1].target, "/simple/price?ids=b"
		    "&vs_currencies=usd", "the second call: the second id");
	gecko_poll_free(&p);
	gecko_coins_free(&coins);
	gecko_list_free(&vs);
	fixture_stop(&f);
}

static void
test_credits(void)
{
	struct gecko_client_config cfg;
	struct gecko_client *c;
	struct errbuf err;

	memset(&cfg, 0, sizeof(cfg));
	cfg.plan_set = 1;
	cfg.plan = GECKO_DEMO;
	cfg.log_fn = log_line;
	cfg.mono_ms = mono;
	cfg.wall_ms = wall;
	setenv("COINGECKO_DEMO_API_KEY", "CG-test", 1);
	if ((c = gecko_client_new(&cfg, &err)) == NULL) {
		ok(0, "client: %s", err.msg);
		return;
	}
	unsetenv("COINGECKO_DEMO_API_KEY");
	logged[0] = '\0';
	gecko_client_check_credits(c, 1, 600000, 0, -1);
	is_str(logged, "", "every 10 min: within the Demo credits");
	gecko_client_check_credits(c, 1, 60000, 0, -1);
	is_str(logged, "N: warning: 1 call every 60000 ms is 43200 calls in "
	    "30 days, over the 10000 credits of the demo plan: poll every "
	    "260s or more, select fewer coins, or set --credits\n",
	    "every minute: over, and by how much");
	logged[0] = '\0';
	gecko_client_check_credits(c, 1, 60000, 100, -1);
	is_str(logged, "", "--count 100: within");
	gecko_client_check_credits(c, 1, 60000, 0, 0);
	is_str(logged, "", "--credits 0: no cap");
	gecko_client_free(c);
}

static void
test_wait_wall(void)
{
	struct gecko_client_config cfg;
	struct gecko_client *c;
	struct errbuf err;

	memset(&cfg, 0, sizeof(cfg));
	cfg.mono_ms = mono;
	cfg.wall_ms = wall;
	cfg.nap_ms = nap;
	cfg.stop = &stop_flag;
	unsetenv("COINGECKO_PRO_API_KEY");
	unsetenv("COINGECKO_DEMO_API_KEY");
	if ((c = gecko_client_new(&cfg, &err)) == NULL) {
		ok(0, "client: %s", err.msg);
		return;
	}
	slept = 0;
	stop_flag = 0;
	is_int(gecko_client_wait_wall(c, fake_wall + 250), 0, "a slot ahead");
	is_int(slept, 250, "waited in steps until the wall clock reads it");
	is_int(gecko_client_wait_wall(c, fake_wall - 5000), 0, "a slot past");
	is_int(slept, 250, "does not wait");
	stop_flag = 1;
	is_int(gecko_client_wait_wall(c, fake_wall + 60000), GECKO_STOPPED,
	    "the stop flag ends the wait");
	is_int(slept, 250, "at once");
	stop_flag = 0;
	gecko_client_free(c);
}

static void
test_list_read(void)
{
	char path[] = "/tmp/test_geckoclient.XXXXXX";
	struct gecko_list l;
	struct errbuf err;
	int fd;

	memset(&l, 0, sizeof(l));
	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, "a, b\n# c\nd\n", 11) != 11) {
		ok(0, "temp file");
		return;
	}
	close(fd);
	is_int(gecko_list_read(&l, path, &err), 0, "--ids-file");
	ok(l.n == 3 && strcmp(l.v[2], "d") == 0, "commas, lines, comments");
	unlink(path);
	is_int(gecko_list_read(&l, path, &err), -1, "a missing file");
	is_int(err.kind, ERR_USAGE, "is a usage error");
	ok(strncmp(err.msg, path, strlen(path)) == 0, "named: %s", err.msg);
	gecko_list_free(&l);
}

int
main(void)
{
	test_keys();
	test_get_retries();
	test_retry_after();
	test_get_fails();
	test_key_and_rate();
	test_select();
	test_poll();
	test_credits();
	test_wait_wall();
	test_list_read();
	return tap_done();
}
