#include <stdlib.h>
#include <string.h>

#include "geckopoll.h"
#include "tap.h"

static void
ids(struct gecko_coins *c, const char *list)
{
	memset(c, 0, sizeof(*c));
	gecko_list_split(&c->id, list);
	gecko_coins_finish(c);
}

static void
test_selection(void)
{
	struct gecko_coins c;
	struct gecko_span s = { "eth", 3 };
	struct errbuf e;
	const char *list = "[{\"id\":\"b\"},{\"id\":\"a\"},{\"x\":1},"
	    "{\"id\":\"c\"}]";

	ids(&c, " btc,eth btc\n,,doge # comment");
	is_int(c.id.n, 3, "split: commas and spaces, repeats dropped");
	is_str(c.id.v[0], "btc", "first kept in order");
	is_str(c.id.v[2], "doge", "comment ends the text");
	is_int(gecko_coins_find(&c, s), 1, "find by span");
	s.n = 2;
	is_int(gecko_coins_find(&c, s), -1, "a prefix is not a match");
	gecko_coins_free(&c);

	memset(&c, 0, sizeof(c));
	is_int(gecko_coins_add_json(&c, list, strlen(list), 2, "/coins/list",
	    &e), 4, "add_json: returns the array's size");
	is_int(c.id.n, 2, "add_json: up to max ids");
	is_str(c.id.v[1], "a", "add_json: in the array's order");
	is_int(gecko_coins_add_json(&c, "{}", 2, 0, "/coins/list", &e), -1,
	    "add_json: an object refused");
	is_str(e.msg, "/coins/list: not a JSON array", "add_json: message");
	is_int(e.kind, ERR_TEMP, "add_json: a temporary failure");
	gecko_coins_free(&c);
}

static void
test_plan(void)
{
	struct gecko_list vs = { NULL, 0, 0 };
	struct gecko_format f = { &vs, 1, GECKO_STALE_KEEP, 0 };
	struct gecko_coins c;
	struct buf tail = BUF_INIT, path = BUF_INIT;
	struct errbuf e;
	size_t starts[8];

	gecko_list_split(&vs, "usd,eur");
	ok(gecko_query_tail(&f, &tail) == 0, "tail built");
	is_str(tail.data, "&vs_currencies=usd,eur&include_market_cap=true"
	    "&include_24hr_vol=true&include_24hr_change=true"
	    "&include_last_updated_at=true", "tail: currencies and market");
	ids(&c, "bitcoin,\xc3\xa9");
	is_int(gecko_plan_calls("http://x", &c, &f, starts, &e), 1,
	    "plan: one call");
	ok(gecko_price_path(&c, 0, 2, "&t", &path) == 0, "path built");
	is_str(path.data, "/simple/price?ids=bitcoin,%C3%A9&t",
	    "path: ids encoded, joined with commas");
	gecko_coins_free(&c);
	buf_free(&tail);
	buf_free(&path);
	gecko_list_free(&vs);
}

static void
test_records(void)
{
	struct gecko_list vs = { NULL, 0, 0 };
	struct gecko_format f = { &vs, 0, GECKO_STALE_MARK, 0 };
	struct gecko_coins c;
	struct gecko_poll p;
	struct errbuf e;
	const char *body = "{\"b\":{\"usd\":2.492e-05,\"last_updated_at\":"
	    "1718265600},\"a\":{\"usd\":null}}";

	gecko_list_split(&vs, "usd");
	ids(&c, "a,b,zz");
	gecko_poll_begin(&p, &f, &c, "2026-01-01T00:00:00Z");
	ok(gecko_poll_add(&p, 0, 3, body, strlen(body), &e) == 0, "added");
	gecko_poll_end(&p);
	is_str(p.out.data, "{\"ts\":\"2026-01-01T00:00:00Z\",\"crypto\":\"b\","
	    "\"vs\":\"usd\",\"price\":2.492e-05,\"updated\":"
	    "\"2024-06-13T08:00:00Z\",\"stale\":false}\n",
	    "record: exact number text, null and unknown left out");
	is_int(p.st.records, 1, "one record");
	is_int(p.st.nulls, 1, "one null");
	is_str(p.nulls.data, "a/usd", "null named");
	is_int(p.st.unknown, 1, "one unknown");
	is_str(p.unknown.data, "zz", "unknown named");
	gecko_poll_free(&p);
	/* the same answer again: b did not move, zz is not named again */
	gecko_poll_begin(&p, &f, &c, "2026-01-01T00:01:00Z");
	ok(gecko_poll_add(&p, 0, 3, body, strlen(body), &e) == 0, "again");
	ok(strstr(p.out.data, "\"stale\":true") != NULL, "stale marked");
	is_int(p.unknown.len, 0, "an unknown id is named once");
	is_int(gecko_poll_add(&p, 0, 3, "[]", 2, &e), -1, "not an answer");
	gecko_poll_free(&p);
	gecko_coins_free(&c);
	gecko_list_free(&vs);
}

static void
test_table(void)
{
	struct gecko_list vs = { NULL, 0, 0 };
	struct gecko_format f = { &vs, 0, GECKO_STALE_KEEP, 1 };
	struct gecko_coins c;
	struct gecko_poll p;
	struct errbuf e;
	const char *body = "{\"bitcoin\":{\"usd\":67187},\"b\":{\"usd\":1.5}}";

	gecko_list_split(&vs, "usd");
	ids(&c, "bitcoin,b");
	gecko_poll_begin(&p, &f, &c, "TS");
	gecko_poll_add(&p, 0, 2, body, strlen(body), &e);
	gecko_poll_end(&p);
	is_str(p.out.data, "TS\n"
	    "CRYPTO   VS   PRICE  UPDATED\n"
	    "bitcoin  usd  67187  -\n"
	    "b        usd    1.5  -\n", "table: numbers right-aligned");
	gecko_poll_free(&p);
	gecko_coins_free(&c);
	gecko_list_free(&vs);
}

int
main(void)
{
	test_selection();
	test_plan();
	test_records();
	test_table();
	return tap_done();
}
