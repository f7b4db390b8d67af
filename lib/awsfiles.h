/*
 * awsfiles: the shared AWS files ~/.aws/credentials and ~/.aws/config.
 *
 * The format is the INI dialect the AWS SDKs share. Where SDKs disagree we
 * follow the cross-SDK rules (the AWS Java v2, Go v2 and Rust parsers) rather
 * than botocore, and say so:
 *  - Lines whose first non-blank character is '#' or ';' are comments; so is
 *    anything after the ']' of a section line.
 *  - In a value, '#' or ';' preceded by a blank starts a comment
 *    ("a = b # c" gives "b", "a = b#c" gives "b#c"). botocore (Python
 *    configparser without inline_comment_prefixes) would keep "b # c".
 *    Access keys, secrets and URLs never contain a blank, so this only
 *    matters for free text such as credential_process.
 *  - Names and values are trimmed; key names are lower-cased (configparser
 *    does the same); section names keep their case, and the blanks inside
 *    them collapse to one ("[ profile   x ]" is "profile x").
 *  - Only '=' separates a key from its value (configparser also takes ':').
 *  - A key with an empty value followed by more-indented "k = v" lines is a
 *    sub-section ("s3 =\n  addressing_style = path"); a more-indented line
 *    after a non-empty value continues that value (joined with '\n').
 *  - A section or key that appears twice is merged, the last value winning.
 *    botocore refuses such a file (configparser strict mode); the other SDKs
 *    merge, which loses nothing.
 *  - CR before LF and a UTF-8 byte order mark are ignored. A missing file is
 *    an empty file; a malformed line is an ERR_CONFIG error "PATH:LINE: ...".
 */
#ifndef COINPIPE_AWSFILES_H
#define COINPIPE_AWSFILES_H

#include <stddef.h>

#include "errbuf.h"

#define AWSFILES_MAX_SIZE (1L << 20)	/* larger than any sane profile file */

struct awsfiles_entry {
	char *section;	/* normalised: "default", "profile x", "services y" */
	char *key;	/* lower-case */
	char *sub;	/* sub-section key ("s3"), or NULL */
	char *value;	/* trimmed, maybe "" */
	unsigned line;
};

/* One parsed file. Values may be secrets: awsfiles_ini_free wipes them. */
struct awsfiles_ini {
	char *path;		/* as opened, for messages; NULL for a buffer */
	int missing;		/* 1: the file did not exist */
	struct awsfiles_entry *v;
	size_t n, cap;
};

/* Parses text (need not be NUL-terminated); name is used in messages. */
int awsfiles_parse(struct awsfiles_ini *f, const char *name, const char *text,
    size_t len, struct errbuf *err);
/* Reads and parses path; a missing file gives an empty f->missing == 1. */
int awsfiles_load(struct awsfiles_ini *f, const char *path,
    struct errbuf *err);
/* The last value of key in section (sub: inside that sub-section), or NULL.
 * The pointer is borrowed from f. */
const char *awsfiles_get(const struct awsfiles_ini *f, const char *section,
    const char *key, const char *sub);
int awsfiles_has_section(const struct awsfiles_ini *f, const char *section);
void awsfiles_ini_free(struct awsfiles_ini *f);

/*
 * Both files and the profile in use, the way the SDKs find them:
 * profile from the caller (--profile), else AWS_PROFILE, else "default";
 * AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials; AWS_CONFIG_FILE,
 * else ~/.aws/config ("~/" in either variable is $HOME).
 * In the credentials file a profile is [NAME]; in the config file it is
 * [profile NAME], and the default one is [default] (or [profile default],
 * which wins when both exist, as in the Java SDK). A bare [NAME] in the
 * config file is not a profile.
 */
struct awsfiles {
	char *profile;
	int explicit_profile;	/* 1: named by the caller or AWS_PROFILE */
	char *config_section;	/* "profile NAME" or "default" */
	struct awsfiles_ini creds;
	struct awsfiles_ini config;
};

/* Loads both files. err: ERR_CONFIG for a malformed file, ERR_SYSTEM for
 * memory or a read error. */
int awsfiles_open(struct awsfiles *a, const char *profile,
    struct errbuf *err);
void awsfiles_close(struct awsfiles *a);

/*
 * A profile setting; the credentials file wins over the config file, key by
 * key, as botocore merges them. An empty value counts as unset, like an
 * empty environment variable. *from (may be NULL) gets the file's path.
 */
const char *awsfiles_profile_get(const struct awsfiles *a, const char *key,
    const char *sub, const char **from);
/*
 * Points a at another profile of the files already loaded (the links of a
 * source_profile chain), as if opened with that name: explicit_profile
 * becomes 1. Pointers returned by awsfiles_profile_get stay valid; a's old
 * profile and config_section strings are freed. Returns 0, or -1 (memory).
 */
int awsfiles_set_profile(struct awsfiles *a, const char *profile,
    struct errbuf *err);
/* 1 when the profile has a section in either file. */
int awsfiles_profile_exists(const struct awsfiles *a);
/*
 * A setting of a [services NAME] section of the config file, where NAME is
 * the profile's `services` value: e.g. ("kinesis", "endpoint_url") for
 *   [services mine]
 *   kinesis =
 *     endpoint_url = http://127.0.0.1:4567
 */
const char *awsfiles_service_get(const struct awsfiles *a,
    const char *service_key, const char *key);

/* A path from the environment variable env, else $HOME/leaf; NULL when
 * neither is set or on allocation failure. The caller frees it. */
char *awsfiles_path(const char *env, const char *leaf);

/* 1 for "true" in any case: how the SDKs read boolean variables. */
int awsfiles_is_true(const char *v);

#endif
