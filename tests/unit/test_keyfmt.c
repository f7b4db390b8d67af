#include <stdlib.h>
#include <string.h>

#include "keyfmt.h"
#include "tap.h"

static char *
expand(const char *fmt, const struct keyfmt_vars *v)
{
	struct keyfmt k;
	struct buf out = BUF_INIT;
	struct errbuf e;

	if (keyfmt_parse(&k, fmt, &e) == -1)
		return strdup(e.msg);
	keyfmt_expand(&k, v, &out, &e);
	keyfmt_free(&k);
	return out.data ? buf_steal(&out) : strdup("");
}

static void
check(const char *fmt, const struct keyfmt_vars *v, const char *want,
    const char *name)
{
	char *got = expand(fmt, v);

	is_str(got, want, name);
	free(got);
}

static void
test_expand(void)
{
	const char *fields[] = { "us d", NULL };
	struct keyfmt_vars v = {
		.time = 1767225600 + 3600 * 13 + 62,	/* 2026-01-01 13:01:02 */
		.uuid = "U", .n = 7, .host = "h", .shard = "shardId-1",
		.first_seq = "100", .last_seq = "200", .fields = fields,
	};
	struct keyfmt k;
	struct errbuf e;

	check("dt=%Y-%m-%d/hr=%H/%Y%m%dT%H%M%SZ-{n}-{uuid}.csv", &v,
	    "dt=2026-01-01/hr=13/20260101T130102Z-000007-U.csv",
	    "Hive-style default");
	check("{shard}/{first_seq}.csv", &v, "shardId-1/100.csv",
	    "deterministic default");
	check("{host}/{first_seq}-{last_seq}/{field:vs}/{field:x}.csv", &v,
	    "h/100-200/us d/.csv", "fields; a missing one is empty");
	check("100%%/{{x}/%%Y", &v, "100%/{x}/%Y", "escapes");
	ok(keyfmt_parse(&k, "{shard}/{field:a}/{field:a}/%H{last_seq}", &e)
	    == 0, "parse");
	ok(k.uses == (KEYFMT_USES_SHARD | KEYFMT_USES_FIELD |
	    KEYFMT_USES_TIME | KEYFMT_USES_LAST_SEQ), "uses");
	is_int(k.nfields, 1, "each field once");
	keyfmt_free(&k);
	v.shard = "a%Y{n}";
	check("{shard}", &v, "a%Y{n}", "values are not expanded again");
}

static void
test_errors(void)
{
	struct keyfmt_vars v = { 0 };

	check("{nope}", &v, "'{nope}': unknown key field (known: uuid, n, "
	    "host, shard, first_seq, last_seq, field:NAME)", "unknown field");
	check("x{uuid", &v, "'{uuid': '}' expected", "unclosed brace");
	check("%Q", &v, "'%Q': unknown time conversion", "unknown conversion");
	check("a%", &v, "'%': unknown time conversion", "trailing percent");
	check("{field:}", &v, "'{field:}': empty field name", "empty field");
}

static void
test_uuid(void)
{
	unsigned char r[16];
	char u[KEYFMT_UUID_LEN];

	memset(r, 0xff, sizeof(r));
	keyfmt_uuid(r, u);
	is_str(u, "ffffffff-ffff-4fff-bfff-ffffffffffff", "uuid v4 bits");
}

int
main(void)
{
	test_expand();
	test_errors();
	test_uuid();
	return tap_done();
}
