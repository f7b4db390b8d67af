#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "awsfiles.h"
#include "buf.h"

struct parser {
	struct awsfiles_ini *f;
	const char *name;
	struct errbuf *err;
	unsigned line;
	char *section;		/* current section, owned */
	int have_prop;		/* a top-level key was seen in this section */
	size_t prop_indent;	/* indentation of that key's line */
	size_t prop_idx;	/* its entry, for continuation lines */
	int prop_empty;		/* its value was empty: indented lines are a
				 * sub-section */
};

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static char *
trim(char *s)
{
	size_t n;

	while (is_blank((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Inline comments need a blank before them (cross-SDK rule, see header). */
static void
cut_comment(char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i > 0 && (s[i] == '#' || s[i] == ';') &&
		    is_blank((unsigned char)s[i - 1])) {
			s[i] = '\0';
			return;
		}
	}
}

static int
perr(struct parser *p, const char *what)
{
	return errbuf_set(p->err, ERR_CONFIG, "%s:%u: %s",
	    p->name ? p->name : "<config>", p->line, what);
}

static int
reserve(struct parser *p)
{
	struct awsfiles_ini *f = p->f;
	struct awsfiles_entry *nv;
	size_t cap;

	if (f->n < f->cap)
		return 0;
	cap = f->cap ? f->cap * 2 : 16;
	if ((nv = realloc(f->v, cap * sizeof(*nv))) == NULL)
		return errbuf_set(p->err, ERR_SYSTEM, "out of memory");
	f->v = nv;
	f->cap = cap;
	return 0;
}

/* Callers that hold a pointer into f->v call reserve() first. */
static int
add_entry(struct parser *p, const char *key, const char *sub,
    const char *value)
{
	struct awsfiles_entry *e;

	if (reserve(p) == -1)
		return -1;
	e = &p->f->v[p->f->n++];
	memset(e, 0, sizeof(*e));
	e->line = p->line;
	e->section = strdup(p->section);
	e->key = strdup(key);
	e->sub = sub ? strdup(sub) : NULL;
	e->value = strdup(value);
	if (e->section == NULL || e->key == NULL || e->value == NULL ||
	    (sub != NULL && e->sub == NULL))
		return errbuf_set(p->err, ERR_SYSTEM, "out of memory");
	return 0;
}

/* "[ profile   x ] ; c" -> "profile x" */
static int
parse_section(struct parser *p, char *s)
{
	char *end, *in, *out, *name;
	int blank = 0;

	if ((end = strchr(s, ']')) == NULL)
		return perr(p, "section line without ']'");
	*end++ = '\0';
	end = trim(end);
	if (*end != '\0' && *end != '#' && *end != ';')
		return perr(p, "text after ']'");
	name = trim(s + 1);
	for (in = out = name; *in != '\0'; in++) {
		if (is_blank((unsigned char)*in)) {
			blank = 1;
			continue;
		}
		if (blank)
			*out++ = ' ';
		blank = 0;
		*out++ = *in;
	}
	*out = '\0';
	if (*name == '\0')
		return perr(p, "empty section name");
	free(p->section);
	if ((p->section = strdup(name)) == NULL)
		return errbuf_set(p->err, ERR_SYSTEM, "out of memory");
	p->have_prop = 0;
	return 0;
}

/* Splits "k = v # c" into lower-case key and value, in place. */
static int
split_kv(struct parser *p, char *s, char **key, char **value)
{
	char *eq, *c;

	/* explicit -1 returns: the analyzer cannot see into errbuf_set */
	*key = *value = NULL;
	if ((eq = strchr(s, '=')) == NULL) {
		perr(p, "expected 'name = value'");
		return -1;
	}
	*eq = '\0';
	*key = trim(s);
	if (**key == '\0') {
		perr(p, "empty name before '='");
		return -1;
	}
	for (c = *key; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	cut_comment(eq + 1);
	*value = trim(eq + 1);
	return 0;
}

static int
parse_property(struct parser *p, char *s, size_t indent)
{
	char *key, *value;

	if (p->section == NULL)
		return perr(p, "setting outside any [section]");
	if (split_kv(p, s, &key, &value) == -1)
		return -1;
	if (add_entry(p, key, NULL, value) == -1)
		return -1;
	p->have_prop = 1;
	p->prop_indent = indent;
	p->prop_idx = p->f->n - 1;
	p->prop_empty = *value == '\0';
	return 0;
}

/* A more-indented line after a key: a sub-section entry or a continuation. */
static int
parse_indented(struct parser *p, char *s)
{
	struct awsfiles_entry *parent;
	char *key, *value, *joined;
	size_t a, b;

	if (reserve(p) == -1)
		return -1;
	parent = &p->f->v[p->prop_idx];
	if (p->prop_empty) {
		if (strchr(s, '=') == NULL)
			return perr(p, "expected 'name = value' in a sub-section");
		if (split_kv(p, s, &key, &value) == -1)
			return -1;
		return add_entry(p, key, parent->key, value);
	}
	cut_comment(s);
	s = trim(s);
	a = strlen(parent->value);
	b = strlen(s);
	if ((joined = malloc(a + b + 2)) == NULL)
		return errbuf_set(p->err, ERR_SYSTEM, "out of memory");
	memcpy(joined, parent->value, a);
	joined[a] = '\n';
	memcpy(joined + a + 1, s, b + 1);
	buf_wipe_str(parent->value);
	parent->value = joined;
	return 0;
}

static int
parse_line(struct parser *p, char *s)
{
	size_t n = strlen(s), indent = 0;

	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	while (indent < n && is_blank((unsigned char)s[indent]))
		indent++;
	s += indent;
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (indent > 0 && p->have_prop && indent > p->prop_indent)
		return parse_indented(p, s);
	if (*s == '[')
		return parse_section(p, s);
	return parse_property(p, s, indent);
}

int
awsfiles_parse(struct awsfiles_ini *f, const char *name, const char *text,
    size_t len, struct errbuf *err)
{
	struct parser p;
	char *copy = NULL, *line, *nl;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.f = f;
	p.name = name;
	p.err = err;
	if ((copy = calloc(1, len + 1)) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	line = copy;
	if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	for (; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		p.line++;
		if (parse_line(&p, line) == -1)
			goto out;
	}
	rc = 0;
out:
	if (copy != NULL)
		OPENSSL_cleanse(copy, len + 1);
	free(copy);
	free(p.section);
	return rc;
}

static int
read_all(int fd, const char *path, char **out, size_t *outlen,
    struct errbuf *err)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	ssize_t r = 0;

	*out = NULL;
	*outlen = 0;
	if (fstat(fd, &st) == -1)
		return errbuf_set(err, ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	/* /dev/null is how people (and tests/servers/up) say "no file";
	 * botocore reads it as an empty file, and so do we */
	if (S_ISCHR(st.st_mode) && strcmp(path, "/dev/null") == 0)
		return 0;
	if (!S_ISREG(st.st_mode))
		return errbuf_set(err, ERR_CONFIG, "%s: not a regular file",
		    path);
	if (st.st_size > AWSFILES_MAX_SIZE)
		return errbuf_set(err, ERR_CONFIG, "%s: larger than %ld bytes",
		    path, AWSFILES_MAX_SIZE);
	/* calloc: a file that shrinks under us leaves no garbage behind */
	if ((data = calloc(1, (size_t)st.st_size + 1)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	while (len < (size_t)st.st_size) {
		r = read(fd, data + len, (size_t)st.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;	/* shrank while reading: parse what there is */
		len += (size_t)r;
	}
	if (r == -1) {
		OPENSSL_cleanse(data, len);
		free(data);
		return errbuf_set(err, ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	}
	*out = data;
	*outlen = len;
	return 0;
}

int
awsfiles_load(struct awsfiles_ini *f, const char *path, struct errbuf *err)
{
	char *data = NULL;
	size_t len = 0;
	int fd = -1, rc = -1;

	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			f->missing = 1;
			rc = 0;
		} else
			errbuf_set(err, ERR_CONFIG, "%s: %s", path,
			    strerror(errno));
		goto out;
	}
	if (read_all(fd, path, &data, &len, err) == -1)
		goto out;
	rc = awsfiles_parse(f, path, data, len, err);
out:
	if (fd != -1)
		close(fd);
	if (data != NULL)
		OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

const char *
awsfiles_get(const struct awsfiles_ini *f, const char *section,
    const char *key, const char *sub)
{
	size_t i;

	for (i = f->n; i-- > 0;) {
		const struct awsfiles_entry *e = &f->v[i];
		if (strcmp(e->section, section) == 0 &&
		    strcmp(e->key, key) == 0 && same(e->sub, sub))
			return e->value;
	}
	return NULL;
}

int
awsfiles_has_section(const struct awsfiles_ini *f, const char *section)
{
	size_t i;

	/* a section with no key is not stored: it has nothing to offer */
	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].section, section) == 0)
			return 1;
	return 0;
}

void
awsfiles_ini_free(struct awsfiles_ini *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->v[i].section);
		free(f->v[i].key);
		free(f->v[i].sub);
		buf_wipe_str(f->v[i].value);
	}
	free(f->v);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

char *
awsfiles_path(const char *env, const char *leaf)
{
	const char *v = env ? getenv(env) : NULL, *home = getenv("HOME");
	size_t n;
	char *s;

	if (v != NULL && *v != '\0') {
		if (strncmp(v, "~/", 2) != 0)
			return strdup(v);
		leaf = v + 2;
	}
	if (leaf == NULL || home == NULL || *home == '\0')
		return NULL;
	n = strlen(home) + strlen(leaf) + 2;
	if ((s = malloc(n)) == NULL)
		return NULL;
	snprintf(s, n, "%s/%s", home, leaf);
	return s;
}

int
awsfiles_is_true(const char *v)
{
	return v != NULL && strcasecmp(v, "true") == 0;
}

/* "default" or "profile NAME" in the config file (see the header). */
static char *
config_section(const struct awsfiles *a)
{
	size_t n;
	char *s;

	n = strlen(a->profile) + sizeof("profile ");
	if ((s = malloc(n)) == NULL)
		return NULL;
	snprintf(s, n, "profile %s", a->profile);
	if (strcmp(a->profile, "default") == 0 &&
	    !awsfiles_has_section(&a->config, s)) {
		free(s);
		return strdup("default");
	}
	return s;
}

static int
load_one(struct awsfiles_ini *f, const char *env, const char *leaf,
    struct errbuf *err)
{
	char *path;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((path = awsfiles_path(env, leaf)) == NULL) {
		/* no HOME: nothing to read, like a missing file */
		f->missing = 1;
		return 0;
	}
	rc = awsfiles_load(f, path, err);
	free(path);
	return rc;
}

int
awsfiles_open(struct awsfiles *a, const char *profile, struct errbuf *err)
{
	const char *env = getenv("AWS_PROFILE");

	memset(a, 0, sizeof(*a));
	a->explicit_profile = 1;
	if (profile == NULL || *profile == '\0') {
		profile = env;
		if (profile == NULL || *profile == '\0') {
			profile = "default";
			a->explicit_profile = 0;
		}
	}
	if ((a->profile = strdup(profile)) == NULL)
		goto nomem;
	if (load_one(&a->creds, "AWS_SHARED_CREDENTIALS_FILE",
	    ".aws/credentials", err) == -1 ||
	    load_one(&a->config, "AWS_CONFIG_FILE", ".aws/config", err) == -1)
		goto fail;
	if ((a->config_section = config_section(a)) == NULL)
		goto nomem;
	return 0;
nomem:
	errbuf_set(err, ERR_SYSTEM, "out of memory");
fail:
	awsfiles_close(a);
	return -1;
}

void
awsfiles_close(struct awsfiles *a)
{
	if (a == NULL)
		return;
	awsfiles_ini_free(&a->creds);
	awsfiles_ini_free(&a->config);
	free(a->profile);
	free(a->config_section);
	memset(a, 0, sizeof(*a));
}

const char *
awsfiles_profile_get(const struct awsfiles *a, const char *key,
    const char *sub, const char **from)
{
	const struct awsfiles_ini *f = &a->creds;
	const char *v;

	/* the first file holding the key decides, even with an empty value */
	if ((v = awsfiles_get(f, a->profile, key, sub)) == NULL) {
		f = &a->config;
		v = awsfiles_get(f, a->config_section, key, sub);
	}
	if (v == NULL || *v == '\0')
		return NULL;
	if (from != NULL)
		*from = f->path;
	return v;
}

int
awsfiles_set_profile(struct awsfiles *a, const char *profile,
    struct errbuf *err)
{
	char *name, *section;

	if ((name = strdup(profile)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	free(a->profile);
	a->profile = name;
	if ((section = config_section(a)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	free(a->config_section);
	a->config_section = section;
	a->explicit_profile = 1;
	return 0;
}

int
awsfiles_profile_exists(const struct awsfiles *a)
{
	return awsfiles_has_section(&a->creds, a->profile) ||
	    awsfiles_has_section(&a->config, a->config_section);
}

const char *
awsfiles_service_get(const struct awsfiles *a, const char *service_key,
    const char *key)
{
	const char *name;
	char *section;
	const char *v = NULL;
	size_t n;

	name = awsfiles_get(&a->config, a->config_section, "services", NULL);
	if (name == NULL || *name == '\0')
		return NULL;
	n = strlen(name) + sizeof("services ");
	if ((section = malloc(n)) == NULL)
		return NULL;
	snprintf(section, n, "services %s", name);
	v = awsfiles_get(&a->config, section, key, service_key);
	free(section);
	return v != NULL && *v != '\0' ? v : NULL;
}
