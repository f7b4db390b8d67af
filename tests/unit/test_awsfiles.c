#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awsfiles.h"
#include "errbuf.h"
#include "tap.h"

static char dir[] = "/tmp/test_awsfiles.XXXXXX";

static int
parse(struct awsfiles_ini *f, const char *text, struct errbuf *err)
{
	memset(f, 0, sizeof(*f));
	errbuf_clear(err);
	return awsfiles_parse(f, "t.ini", text, strlen(text), err);
}

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF) {
		perror(path);
		exit(2);
	}
}

static void
test_comments_and_blanks(void)
{
	struct awsfiles_ini f;
	struct errbuf err;
	static const char text[] =
	    "# leading comment\n"
	    "; another\n"
	    "[default] # trailing comment on a section\n"
	    "  aws_access_key_id   =   AKIDEXAMPLE  \n"
	    "\tAWS_Secret_Access_Key=sec#ret ; a comment\n"
	    "region = us-west-2\t# comment\n"
	    "   # indented comment\n"
	    "empty =\n"
	    "hash = #not #a comment\n"
	    "url = http://h/x#frag\n";

	ok(parse(&f, text, &err) == 0, "comments and blanks parse");
	is_str(awsfiles_get(&f, "default", "aws_access_key_id", NULL),
	    "AKIDEXAMPLE", "blanks around '=' and the name are trimmed");
	is_str(awsfiles_get(&f, "default", "aws_secret_access_key", NULL),
	    "sec#ret", "key names are lower-cased; '#' without blank kept, "
	    "' ;' starts a comment");
	is_str(awsfiles_get(&f, "default", "region", NULL), "us-west-2",
	    "tab then '#' starts a comment");
	is_str(awsfiles_get(&f, "default", "empty", NULL), "",
	    "an empty value is \"\"");
	is_str(awsfiles_get(&f, "default", "hash", NULL), "",
	    "'= #' is blank + '#': a comment, the value is empty");
	is_str(awsfiles_get(&f, "default", "url", NULL), "http://h/x#frag",
	    "a URL fragment survives");
	ok(awsfiles_get(&f, "default", "nope", NULL) == NULL,
	    "an absent key gives NULL");
	awsfiles_ini_free(&f);
}

static void
test_sections(void)
{
	struct awsfiles_ini f;
	struct errbuf err;
	static const char text[] =
	    "\xef\xbb\xbf[ profile   dev ]\r\n"
	    "region = eu-west-1\r\n"
	    "[default]\r\n"
	    "region = us-east-1\r\n"
	    "[profile dev]\r\n"
	    "region = eu-central-1\r\n"
	    "output = json\r\n"
	    "region = ap-south-1\r\n";

	ok(parse(&f, text, &err) == 0, "CRLF file with a BOM parses");
	is_str(awsfiles_get(&f, "profile dev", "region", NULL), "ap-south-1",
	    "duplicate section and key: the last value wins");
	is_str(awsfiles_get(&f, "profile dev", "output", NULL), "json",
	    "a repeated section merges with the first");
	is_str(awsfiles_get(&f, "default", "region", NULL), "us-east-1",
	    "CR is not part of the value");
	ok(awsfiles_has_section(&f, "profile dev"),
	    "blanks inside the section name collapse");
	ok(!awsfiles_has_section(&f, "dev"), "[profile dev] is not [dev]");
	awsfiles_ini_free(&f);
}

static void
test_subsections(void)
{
	struct awsfiles_ini f;
	struct errbuf err;
	static const char text[] =
	    "[profile x]\n"
	    "s3 =\n"
	    "  addressing_style = path  # comment\n"
	    "\n"
	    "  # comment inside\n"
	    "  signature_version = s3v4\n"
	    "region = us-east-2\n"
	    "note = first\n"
	    "   second line\n"
	    "[services mine]\n"
	    "kinesis =\n"
	    "\tendpoint_url = http://127.0.0.1:4567\n"
	    "s3=\n"
	    "  endpoint_url=http://127.0.0.1:9000\n";

	ok(parse(&f, text, &err) == 0, "sub-sections parse");
	is_str(awsfiles_get(&f, "profile x", "addressing_style", "s3"), "path",
	    "sub-section value, comment cut");
	is_str(awsfiles_get(&f, "profile x", "signature_version", "s3"),
	    "s3v4", "blank and comment lines inside a sub-section are skipped");
	ok(awsfiles_get(&f, "profile x", "addressing_style", NULL) == NULL,
	    "a sub-section key is not a top-level key");
	is_str(awsfiles_get(&f, "profile x", "region", NULL), "us-east-2",
	    "the sub-section ends at the next unindented key");
	is_str(awsfiles_get(&f, "profile x", "note", NULL),
	    "first\nsecond line", "an indented line continues a value");
	is_str(awsfiles_get(&f, "services mine", "endpoint_url", "kinesis"),
	    "http://127.0.0.1:4567", "services section, tab indent");
	is_str(awsfiles_get(&f, "services mine", "endpoint_url", "s3"),
	    "http://127.0.0.1:9000", "no blanks around '='");
	awsfiles_ini_free(&f);
}

static void
test_errors(void)
{
	static const struct {
		const char *text, *msg, *name;
	} cases[] = {
		{ "[default\nx = 1\n", "t.ini:1: section line without ']'",
		    "unclosed section" },
		{ "x = 1\n", "t.ini:1: setting outside any [section]",
		    "key before any section" },
		{ "[a]\n\njust words\n", "t.ini:3: expected 'name = value'",
		    "line without '='" },
		{ "[a]\n = v\n", "t.ini:2: empty name before '='",
		    "empty key" },
		{ "[a]\ns3 =\n  nothing here\n",
		    "t.ini:3: expected 'name = value' in a sub-section",
		    "sub-section line without '='" },
		{ "[]\n", "t.ini:1: empty section name", "empty section" },
		{ "[a] b\n", "t.ini:1: text after ']'", "junk after ']'" },
	};
	struct awsfiles_ini f;
	struct errbuf err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok(parse(&f, cases[i].text, &err) == -1, "%s fails",
		    cases[i].name);
		is_str(err.msg, cases[i].msg, cases[i].name);
		is_int(err.kind, ERR_CONFIG, "it is a configuration error");
		awsfiles_ini_free(&f);
	}
}

static void
test_load_missing(void)
{
	struct awsfiles_ini f;
	struct errbuf err;
	char path[256];

	snprintf(path, sizeof(path), "%s/nope", dir);
	ok(awsfiles_load(&f, path, &err) == 0, "a missing file loads");
	ok(f.missing && f.n == 0, "as empty and marked missing");
	awsfiles_ini_free(&f);
	ok(awsfiles_load(&f, dir, &err) == -1, "a directory is refused");
	awsfiles_ini_free(&f);
}

static void
mkdir_aws(void)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/.aws", dir);
	if (mkdir(p, 0700) == -1) {
		perror(p);
		exit(2);
	}
}

static void
set_home(void)
{
	setenv("HOME", dir, 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
}

static void
test_open_profiles(void)
{
	struct awsfiles a;
	struct errbuf err;
	const char *from = NULL;
	char want[256];

	set_home();
	mkdir_aws();
	write_file(".aws/credentials",
	    "[default]\naws_access_key_id = FROMCREDS\nregion = \n"
	    "[dev]\naws_access_key_id = DEVKEY\n"
	    "[profile dev]\nbogus = 1\n");
	write_file(".aws/config",
	    "[default]\naws_access_key_id = FROMCONFIG\nregion = us-east-1\n"
	    "output = text\n"
	    "[dev]\nregion = wrong\n"
	    "[profile dev]\nregion = eu-west-3\nservices = svc\n"
	    "[services svc]\nkinesis =\n  endpoint_url = http://k\n");
	ok(awsfiles_open(&a, NULL, &err) == 0, "open with ~/.aws files");
	is_str(a.profile, "default", "no profile: default");
	ok(!a.explicit_profile, "default is not explicit");
	is_str(awsfiles_profile_get(&a, "aws_access_key_id", NULL, &from),
	    "FROMCREDS", "the credentials file wins over config");
	snprintf(want, sizeof(want), "%s/.aws/credentials", dir);
	is_str(from, want, "from names the credentials file");
	ok(awsfiles_profile_get(&a, "region", NULL, NULL) == NULL,
	    "an empty value in the credentials file hides config's, as unset");
	is_str(awsfiles_profile_get(&a, "output", NULL, NULL), "text",
	    "config supplies keys the credentials file lacks");
	awsfiles_close(&a);

	setenv("AWS_PROFILE", "dev", 1);
	ok(awsfiles_open(&a, NULL, &err) == 0, "open with AWS_PROFILE");
	ok(a.explicit_profile, "AWS_PROFILE is explicit");
	is_str(awsfiles_profile_get(&a, "region", NULL, NULL), "eu-west-3",
	    "config uses [profile dev], not [dev]");
	ok(awsfiles_profile_get(&a, "bogus", NULL, NULL) == NULL,
	    "credentials uses [dev], not [profile dev]");
	is_str(awsfiles_service_get(&a, "kinesis", "endpoint_url"),
	    "http://k", "services = NAME finds [services NAME]");
	ok(awsfiles_service_get(&a, "s3", "endpoint_url") == NULL,
	    "a service without a block has none");
	awsfiles_close(&a);

	ok(awsfiles_open(&a, "other", &err) == 0, "open with --profile");
	is_str(a.profile, "other", "--profile wins over AWS_PROFILE");
	ok(!awsfiles_profile_exists(&a), "an unknown profile does not exist");
	awsfiles_close(&a);
	unsetenv("AWS_PROFILE");
}

static void
test_open_env_paths(void)
{
	struct awsfiles a;
	struct errbuf err;
	char want[256];

	set_home();
	write_file("c2", "[default]\nregion = x\n");
	write_file("k2", "[profile default]\nregion = pd\n[default]\n"
	    "region = d\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "~/c2", 1);
	snprintf(want, sizeof(want), "%s/k2", dir);
	setenv("AWS_CONFIG_FILE", want, 1);
	ok(awsfiles_open(&a, NULL, &err) == 0, "open with env paths");
	snprintf(want, sizeof(want), "%s/c2", dir);
	is_str(a.creds.path, want, "~/ in AWS_SHARED_CREDENTIALS_FILE is HOME");
	is_str(a.config_section, "profile default",
	    "[profile default] wins over [default] in config");
	awsfiles_close(&a);
	write_file("k2", "[default\n");
	errbuf_clear(&err);
	ok(awsfiles_open(&a, NULL, &err) == -1, "a malformed config fails");
	snprintf(want, sizeof(want), "%s/k2:1: section line without ']'",
	    dir);
	is_str(err.msg, want, "and says where");
	set_home();
	unsetenv("HOME");
	ok(awsfiles_open(&a, NULL, &err) == 0, "no HOME: open works");
	ok(a.creds.path == NULL && a.config.missing, "with no files");
	awsfiles_close(&a);
	set_home();
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_comments_and_blanks();
	test_sections();
	test_subsections();
	test_errors();
	test_load_missing();
	test_open_profiles();
	test_open_env_paths();
	ok(awsfiles_is_true("TRUE") && !awsfiles_is_true("1") &&
	    !awsfiles_is_true(NULL), "is_true takes only true, any case");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
