/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-config - loading and validating the whole configuration
 * SYNOPSIS
 *	test-config (check suite; CK_FORK=no for gdb and valgrind)
 * DESCRIPTION
 *	The [mailwarden] keys (defaults, good and bad values, bounds), unknown
 *	keys and sections, modules=, overrides, several problems in one error,
 *	the shipped conf/mailwarden.conf, CIDR parsing and matching, and the
 *	local-domain test.
 *
 *	The module tests need known modules: built with -DMW_TEST_OWN_REGISTRY
 *	this file brings its own registry (modules "dummy" and "plain"); in
 *	the CMake build the test registry of tests/lib/ is linked instead and
 *	only the tests that need no particular module run.
 * SEE ALSO
 *	src/mw-config.c, tests/unit/test-option.c
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <check.h>
#include <glib/gstdio.h>

#include "mw-config.h"
#include "mw-error.h"

#define SHIPPED_CONF MW_TEST_DATA "/../../conf/mailwarden.conf"
#define CONFIG_DOC   MW_TEST_DATA "/../../docs/configuration.md"

#ifdef MW_TEST_OWN_REGISTRY

typedef struct {
	char *name;
	char *dir;
	gboolean enabled;
	gint64 level;
	guint64 limit;
	gint64 delay;
	double score;
	char **hosts;
	int action;
	GHashTable *text_map;
} DummyConfig;

static const char *const dummy_actions[] = {"tag", "discard", "reject", NULL};

static const MwOption dummy_options[] = {
	{.key = "name",
	 .type = MW_OPT_STRING,
	 .default_value = "dummy",
	 .offset = offsetof(DummyConfig, name)},
	{.key = "dir",
	 .type = MW_OPT_PATH,
	 .default_value = "/tmp",
	 .offset = offsetof(DummyConfig, dir)},
	{.key = "enabled",
	 .type = MW_OPT_BOOL,
	 .default_value = "true",
	 .offset = offsetof(DummyConfig, enabled)},
	{.key = "level",
	 .type = MW_OPT_INT,
	 .default_value = "3",
	 .offset = offsetof(DummyConfig, level),
	 .min = 0,
	 .max = 10},
	{.key = "limit",
	 .type = MW_OPT_SIZE,
	 .default_value = "1m",
	 .offset = offsetof(DummyConfig, limit)},
	{.key = "delay",
	 .type = MW_OPT_DURATION,
	 .default_value = "1h",
	 .offset = offsetof(DummyConfig, delay)},
	{.key = "score",
	 .type = MW_OPT_DOUBLE,
	 .default_value = "5.0",
	 .offset = offsetof(DummyConfig, score)},
	{.key = "hosts",
	 .type = MW_OPT_LIST,
	 .default_value = NULL,
	 .offset = offsetof(DummyConfig, hosts)},
	{.key = "action",
	 .type = MW_OPT_ENUM,
	 .default_value = "tag",
	 .offset = offsetof(DummyConfig, action),
	 .choices = dummy_actions},
	{.key = "text.",
	 .type = MW_OPT_MAP,
	 .default_value = NULL,
	 .offset = offsetof(DummyConfig, text_map)},
	MW_OPTION_END,
};

/* dummy_configure - a check across keys, and some private state for finalize() to free */
static gboolean
dummy_configure(MwModule *module, GError **error)
{
	const DummyConfig *config = module->config;

	module->priv = g_strdup_printf("configured %s", config->name);
	if (config->level == 7) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "level 7 needs hosts");
		return FALSE;
	}
	return TRUE;
}

static void
dummy_finalize(MwModule *module)
{
	g_clear_pointer(&module->priv, g_free);
}

static const MwModuleClass dummy_class = {
	.name = "dummy",
	.abi = MW_MODULE_ABI,
	.options = dummy_options,
	.config_size = sizeof(DummyConfig),
	.on_error_default = MW_ON_ERROR_PASS,
	.configure = dummy_configure,
	.finalize = dummy_finalize,
};

/* a module without options nor hooks */
static const MwModuleClass plain_class = {
	.name = "plain",
	.abi = MW_MODULE_ABI,
	.on_error_default = MW_ON_ERROR_TEMPFAIL,
};

const MwModuleClass *const *
mw_registry_get(void)
{
	static const MwModuleClass *const registry[] = {&dummy_class, &plain_class, NULL};

	return registry;
}

#endif /* MW_TEST_OWN_REGISTRY */

/* load - mw_config_load_data() that must succeed */
static MwConfig *
load(const char *text, const char *const *overrides)
{
	g_autoptr(GError) error = NULL;
	MwConfig *config = mw_config_load_data(text, overrides, &error);

	ck_assert_msg(config != NULL, "unexpected: %s", error != NULL ? error->message : "?");
	ck_assert_ptr_null(error);
	return config;
}

/* load_fails - mw_config_load_data() that must fail; returns the message */
static char *
load_fails(const char *text, const char *const *overrides)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwConfig) config = mw_config_load_data(text, overrides, &error);

	ck_assert_msg(config == NULL, "accepted:\n%s", text);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_CONFIG));
	return g_strdup(error->message);
}

/* assert_defaults - the [mailwarden] defaults of ARCHITECTURE §3 */
static void
assert_defaults(const MwConfig *config)
{
	ck_assert_uint_eq(g_strv_length(config->listen), 1);
	ck_assert_str_eq(config->listen[0], "127.0.0.1:10026");
	ck_assert_int_eq(config->protocol, MW_PROTOCOL_SMTP);
	ck_assert_str_eq(config->reinject, "127.0.0.1:10027");
	ck_assert_str_eq(config->hostname, g_get_host_name());
	ck_assert_ptr_nonnull(config->modules);
	ck_assert_uint_eq(g_strv_length(config->modules), 0);
	ck_assert_ptr_nonnull(config->local_domains);
	ck_assert_uint_eq(g_strv_length(config->local_domains), 0);
	ck_assert_uint_eq(config->max_message_size, 52428800);
	ck_assert_int_eq(config->workers, 10);
	ck_assert_str_eq(config->state_dir, "/var/lib/mailwarden");
	ck_assert_int_eq(config->timeout, 300);
	ck_assert_uint_eq(g_strv_length(config->allowed_clients), 2);
	ck_assert_str_eq(config->allowed_clients[0], "127.0.0.0/8");
	ck_assert_str_eq(config->allowed_clients[1], "::1");
	ck_assert_uint_eq(config->allowed->len, 2);
	ck_assert_str_eq(config->directory, "/etc/mailwarden/directory.conf");
	ck_assert_str_eq(config->calendars, "dir:/var/lib/mailwarden/calendars");
	ck_assert(!config->syslog);
	ck_assert_str_eq(config->user, "");
	ck_assert_str_eq(config->metrics, "");
	ck_assert_uint_eq(config->pipeline->len, 0);
}

START_TEST(test_defaults)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwConfig) nofile = mw_config_load(NULL, NULL, &error);
	g_autoptr(MwConfig) empty = load("", NULL);
	g_autoptr(MwConfig) section = load("# nothing\n[mailwarden]\n", NULL);

	ck_assert_ptr_nonnull(nofile);
	ck_assert_ptr_null(nofile->path);
	assert_defaults(nofile);
	assert_defaults(empty);
	assert_defaults(section);
}
END_TEST

START_TEST(test_values)
{
	g_autoptr(MwConfig) config =
		load("[mailwarden]\n"
		     "listen = 0.0.0.0:10026, [::1]:10026, unix:/run/mw/smtp.sock\n"
		     "protocol = LMTP\n"
		     "reinject = mx.example.org:10027\n"
		     "hostname = filter.example.org\n"
		     "local_domains = Example.org, example.net\n"
		     "max_message_size = 100m\n"
		     "workers = 32\n"
		     "state_dir = /srv/mw\n"
		     "timeout = 2m\n"
		     "allowed_clients = 192.0.2.0/24, 2001:db8::/32\n"
		     "directory = /srv/dir.conf\n"
		     "calendars = dir:/srv/cal\n"
		     "syslog = yes\n"
		     "user = mailwarden\n"
		     "metrics = 127.0.0.1:9100\n",
		     NULL);

	ck_assert_uint_eq(g_strv_length(config->listen), 3);
	ck_assert_str_eq(config->listen[2], "unix:/run/mw/smtp.sock");
	ck_assert_int_eq(config->protocol, MW_PROTOCOL_LMTP);
	ck_assert_str_eq(config->reinject, "mx.example.org:10027");
	ck_assert_str_eq(config->hostname, "filter.example.org");
	ck_assert_uint_eq(config->max_message_size, 100 * 1024 * 1024);
	ck_assert_int_eq(config->workers, 32);
	ck_assert_str_eq(config->state_dir, "/srv/mw");
	ck_assert_int_eq(config->timeout, 120);
	ck_assert_uint_eq(config->allowed->len, 2);
	ck_assert_str_eq(config->directory, "/srv/dir.conf");
	ck_assert_str_eq(config->calendars, "dir:/srv/cal");
	ck_assert(config->syslog);
	ck_assert_str_eq(config->user, "mailwarden");
	ck_assert_str_eq(config->metrics, "127.0.0.1:9100");
}
END_TEST

/* one [mailwarden] line and the one problem it must cause (NULL: accepted) */
typedef struct {
	const char *line;
	const char *problem;
} CoreCase;

static const CoreCase core_cases[] = {
	{"listen = 127.0.0.1:1", NULL},
	{"listen = localhost:65535", NULL},
	{"listen = [2001:db8::1]:25", NULL},
	{"listen = unix:/var/spool/postfix/private/mw", NULL},
	{"listen =", "[mailwarden] listen: at least one address is required"},
	{"listen = 127.0.0.1",
	 "[mailwarden] listen: '127.0.0.1' is not host:port, [v6address]:port or unix:/path"},
	{"listen = 127.0.0.1:0",
	 "[mailwarden] listen: '127.0.0.1:0': the port must be a number 1..65535"},
	{"listen = 127.0.0.1:65536",
	 "[mailwarden] listen: '127.0.0.1:65536': the port must be a number 1..65535"},
	{"listen = 127.0.0.1:smtp",
	 "[mailwarden] listen: '127.0.0.1:smtp': the port must be a number 1..65535"},
	{"listen = :25", "[mailwarden] listen: ':25': '' is not a host name or address"},
	{"listen = ::1:25",
	 "[mailwarden] listen: '::1:25': write an IPv6 address as [address]:port"},
	{"listen = [::1:25", "[mailwarden] listen: '[::1:25' is not [v6address]:port"},
	{"listen = [nope]:25", "[mailwarden] listen: '[nope]:25': 'nope' is not an IPv6 address"},
	{"listen = bad host:25",
	 "[mailwarden] listen: 'bad host:25': 'bad host' is not a host name or address"},
	{"listen = unix:relative.sock",
	 "[mailwarden] listen: 'unix:relative.sock': the socket path must be absolute"},
	{"listen = 127.0.0.1:10026, 127.0.0.1:x",
	 "[mailwarden] listen: '127.0.0.1:x': the port must be a number 1..65535"},
	{"reinject = [::1]:10027", NULL},
	{"reinject = unix:/run/postfix.sock", NULL},
	{"reinject =", "[mailwarden] reinject: an address is required"},
	{"reinject = 127.0.0.1",
	 "[mailwarden] reinject: '127.0.0.1' is not host:port, [v6address]:port or unix:/path"},
	{"protocol = lmtp", NULL},
	{"protocol = esmtp", "[mailwarden] protocol: 'esmtp' is not one of smtp, lmtp"},
	{"hostname = mx1.example.org", NULL},
	{"hostname = mx one", "[mailwarden] hostname: 'mx one' is not a host name"},
	{"local_domains = example.org,example.com", NULL},
	{"local_domains = @example.org",
	 "[mailwarden] local_domains: '@example.org' is not a domain name"},
	{"max_message_size = 65536", NULL},
	{"max_message_size = 4g", NULL},
	{"max_message_size = 65535",
	 "[mailwarden] max_message_size: '65535' is out of range 65536..4294967296 bytes"},
	{"max_message_size = 5g",
	 "[mailwarden] max_message_size: '5g' is out of range 65536..4294967296 bytes"},
	{"max_message_size = 10 MB", "[mailwarden] max_message_size: '10 MB' is not a size (bytes, "
				     "or a number with k, m or g)"},
	{"workers = 1", NULL},
	{"workers = 1024", NULL},
	{"workers = 0", "[mailwarden] workers: '0' is out of range 1..1024"},
	{"workers = 1025", "[mailwarden] workers: '1025' is out of range 1..1024"},
	{"workers = many", "[mailwarden] workers: 'many' is not an integer"},
	{"timeout = 1", NULL},
	{"timeout = 1d", NULL},
	{"timeout = 0", "[mailwarden] timeout: '0' is out of range 1..86400"},
	{"timeout = 2d", "[mailwarden] timeout: '2d' is out of range 1..86400"},
	{"timeout = 5 minutes", "[mailwarden] timeout: '5 minutes' is not a duration (seconds, or "
				"a number with s, m, h or d)"},
	{"syslog = on", NULL},
	{"syslog = sometimes",
	 "[mailwarden] syslog: 'sometimes' is not a boolean (true/false, yes/no, on/off, 1/0)"},
	{"allowed_clients =", NULL},
	{"allowed_clients = 0.0.0.0/0, ::/0", NULL},
	{"allowed_clients = 10.0.0.0/33",
	 "[mailwarden] allowed_clients: '10.0.0.0/33': the prefix length must be 0..32"},
	{"allowed_clients = localhost",
	 "[mailwarden] allowed_clients: 'localhost' is not an IP address or network"},
	{"user =", NULL},
	{"metrics =", NULL},
	{"modules =", NULL},
	{"modules = no-such-module", "[mailwarden] modules: unknown module 'no-such-module'"},
	{"workrs = 3", "[mailwarden] unknown key 'workrs'"},
};

START_TEST(test_core_values)
{
	const CoreCase *tc = &core_cases[_i];
	g_autofree char *text = g_strdup_printf("[mailwarden]\n%s\n", tc->line);

	if (tc->problem == NULL) {
		g_autoptr(MwConfig) config = load(text, NULL);

		ck_assert_ptr_nonnull(config->pipeline);
	} else {
		g_autofree char *message = load_fails(text, NULL);

		ck_assert_str_eq(message, tc->problem);
	}
}
END_TEST

START_TEST(test_unknown_section)
{
	g_autofree char *message = load_fails("[mailwarden]\n[no-such-section]\nx = 1\n", NULL);

	ck_assert_str_eq(message, "unknown section [no-such-section]");
}
END_TEST

START_TEST(test_many_problems)
{
	g_autofree char *message = load_fails("[mailwarden]\n"
					      "workers = 0\n"
					      "protocol = x\n"
					      "colour = blue\n"
					      "listen = nowhere\n"
					      "modules = nope\n"
					      "[elsewhere]\n",
					      NULL);

	ck_assert_str_eq(
		message,
		"[mailwarden] protocol: 'x' is not one of smtp, lmtp\n"
		"[mailwarden] workers: '0' is out of range 1..1024\n"
		"[mailwarden] unknown key 'colour'\n"
		"[mailwarden] listen: 'nowhere' is not host:port, [v6address]:port or unix:/path\n"
		"unknown section [elsewhere]\n"
		"[mailwarden] modules: unknown module 'nope'");
}
END_TEST

START_TEST(test_overrides)
{
	const char *const overrides[] = {"workers=20", "mailwarden.protocol = lmtp", "syslog=on",
					 NULL};
	const char *const bad[] = {"nonsense", "workers=x", NULL};
	const char *const unknown[] = {"nosuch.key=1", NULL};
	g_autoptr(MwConfig) config = load("[mailwarden]\nworkers = 3\n", overrides);
	g_autofree char *message = load_fails("[mailwarden]\n", bad);
	g_autofree char *message2 = load_fails("", unknown);

	ck_assert_int_eq(config->workers, 20);
	ck_assert_int_eq(config->protocol, MW_PROTOCOL_LMTP);
	ck_assert(config->syslog);
	ck_assert_str_eq(message, "override 'nonsense': expected [section.]key=value\n"
				  "[mailwarden] workers: 'x' is not an integer");
	ck_assert_str_eq(message2, "unknown section [nosuch]");
}
END_TEST

START_TEST(test_file_errors)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwConfig) config = NULL;
	g_autofree char *dir = g_dir_make_tmp("mw-test-config-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "bad.conf", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing.conf", NULL);
	g_autofree char *message = NULL;

	config = mw_config_load(missing, NULL, &error);
	ck_assert_ptr_null(config);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_CONFIG));
	ck_assert(g_str_has_prefix(error->message, missing));
	g_clear_error(&error);

	ck_assert(g_file_set_contents(path, "[mailwarden]\nworkers = 2\nthis is not a key\n", -1,
				      NULL));
	config = mw_config_load(path, NULL, &error);
	ck_assert_ptr_null(config);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_CONFIG));
	ck_assert(g_str_has_prefix(error->message, path));
	ck_assert_ptr_nonnull(strstr(error->message, "this is not a key"));
	g_clear_error(&error);

	message = load_fails("workers = 2\n", NULL);
	ck_assert_ptr_nonnull(strstr(message, "group"));

	ck_assert(g_file_set_contents(path, "[mailwarden]\nworkers = 2\n", -1, NULL));
	config = mw_config_load(path, NULL, &error);
	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(config->path, path);
	ck_assert_int_eq(config->workers, 2);
	ck_assert_ptr_nonnull(config->keyfile);

	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

START_TEST(test_shipped_conf)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwConfig) config = mw_config_load(SHIPPED_CONF, NULL, &error);
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autofree char *doc = NULL;

	ck_assert_msg(config != NULL, "%s", error != NULL ? error->message : "");
	assert_defaults(config);

	/* every key is written out, with a comment above it, and documented */
	ck_assert(g_key_file_load_from_file(keyfile, SHIPPED_CONF, G_KEY_FILE_KEEP_COMMENTS, NULL));
	ck_assert(g_file_get_contents(CONFIG_DOC, &doc, NULL, NULL));
	for (const MwOption *opt = mw_config_options(); opt->key != NULL; opt++) {
		g_autofree char *comment = NULL;
		g_autofree char *heading = g_strdup_printf("`%s`", opt->key);

		ck_assert_msg(g_key_file_has_key(keyfile, "mailwarden", opt->key, NULL),
			      "%s missing from conf/mailwarden.conf", opt->key);
		comment = g_key_file_get_comment(keyfile, "mailwarden", opt->key, NULL);
		ck_assert_msg(comment != NULL && comment[0] != '\0', "%s has no comment", opt->key);
		ck_assert_msg(strstr(doc, heading) != NULL, "%s missing from docs/configuration.md",
			      opt->key);
		ck_assert_ptr_nonnull(opt->help);
	}
}
END_TEST

START_TEST(test_local_address)
{
	g_autoptr(MwConfig) config =
		load("[mailwarden]\nlocal_domains = Example.org, example.NET\n", NULL);
	g_autoptr(MwConfig) none = load("", NULL);

	ck_assert(mw_config_is_local_address(config, "alice@example.org"));
	ck_assert(mw_config_is_local_address(config, "Alice@EXAMPLE.ORG"));
	ck_assert(mw_config_is_local_address(config, "bob@example.net"));
	ck_assert(mw_config_is_local_address(config, "\"a@b\"@example.org"));
	ck_assert(!mw_config_is_local_address(config, "alice@sub.example.org"));
	ck_assert(!mw_config_is_local_address(config, "alice@example.org.evil.com"));
	ck_assert(!mw_config_is_local_address(config, "alice@ample.org"));
	ck_assert(!mw_config_is_local_address(config, "example.org@other.com"));
	ck_assert(!mw_config_is_local_address(config, "example.org"));
	ck_assert(!mw_config_is_local_address(config, "alice@"));
	ck_assert(!mw_config_is_local_address(config, ""));
	ck_assert(!mw_config_is_local_address(config, NULL));
	ck_assert(!mw_config_is_local_address(none, "alice@example.org"));
}
END_TEST

/* sockaddr helpers */
static socklen_t
make_v4(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *) ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(25);
	ck_assert_int_eq(inet_pton(AF_INET, text, &sin->sin_addr), 1);
	return sizeof(*sin);
}

static socklen_t
make_v6(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(25);
	ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	return sizeof(*sin6);
}

/* a network, an address, whether it matches */
typedef struct {
	const char *cidr;
	const char *address;
	gboolean match;
} MatchCase;

static const MatchCase match_cases[] = {
	{"127.0.0.0/8", "127.0.0.1", TRUE},
	{"127.0.0.0/8", "127.255.255.254", TRUE},
	{"127.0.0.0/8", "128.0.0.1", FALSE},
	{"127.0.0.0/8", "::ffff:127.0.0.1", TRUE},
	{"127.0.0.0/8", "::ffff:10.0.0.1", FALSE},
	{"127.0.0.0/8", "::1", FALSE},
	{"192.0.2.7", "192.0.2.7", TRUE},
	{"192.0.2.7/32", "192.0.2.7", TRUE},
	{"192.0.2.7/32", "192.0.2.8", FALSE},
	{"192.0.2.77/24", "192.0.2.1", TRUE},
	{"192.0.2.0/25", "192.0.2.127", TRUE},
	{"192.0.2.0/25", "192.0.2.128", FALSE},
	{"10.0.0.0/12", "10.15.255.255", TRUE},
	{"10.0.0.0/12", "10.16.0.0", FALSE},
	{"0.0.0.0/0", "203.0.113.9", TRUE},
	{"0.0.0.0/0", "::ffff:203.0.113.9", TRUE},
	{"0.0.0.0/0", "2001:db8::1", FALSE},
	{"::1", "::1", TRUE},
	{"::1", "::2", FALSE},
	{"::1", "127.0.0.1", FALSE},
	{"::1/128", "::1", TRUE},
	{"2001:db8::/32", "2001:db8:ffff::1", TRUE},
	{"2001:db8::/32", "2001:db9::1", FALSE},
	{"2001:db8::/33", "2001:db8:7fff::1", TRUE},
	{"2001:db8::/33", "2001:db8:8000::1", FALSE},
	{"::/0", "2001:db8::1", TRUE},
	{"::/0", "192.0.2.1", TRUE},
	{"::ffff:192.0.2.0/120", "192.0.2.9", TRUE},
	{"::ffff:192.0.2.0/120", "192.0.3.9", FALSE},
};

START_TEST(test_cidr_match)
{
	const MatchCase *tc = &match_cases[_i];
	g_autoptr(GError) error = NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	MwCidr cidr;

	ck_assert_msg(mw_cidr_parse(tc->cidr, &cidr, &error), "%s", error ? error->message : "");
	len = strchr(tc->address, ':') != NULL ? make_v6(tc->address, &ss)
					       : make_v4(tc->address, &ss);
	ck_assert_msg(mw_cidr_match(&cidr, (struct sockaddr *) &ss, len) == tc->match,
		      "%s vs %s: expected %s", tc->cidr, tc->address, tc->match ? "match" : "none");
}
END_TEST

START_TEST(test_cidr_parse)
{
	static const char *const bad[] = {
		"",
		"/8",
		"127.0.0.1/",
		"127.0.0.1/33",
		"::1/129",
		"127.0.0.1/-1",
		"127.0.0.1/+8",
		"127.0.0.1/8x",
		"127.0.0.1/ 8",
		"127.0.0",
		"256.0.0.1",
		"localhost",
		"::g",
		"fe80::1%eth0",
		" 127.0.0.1",
		"127.0.0.1/8/8",
		"[::1]",
	};
	MwCidr cidr;

	ck_assert(mw_cidr_parse("127.0.0.1", &cidr, NULL));
	ck_assert_int_eq(cidr.family, AF_INET);
	ck_assert_uint_eq(cidr.prefix, 32);
	ck_assert(mw_cidr_parse("192.0.2.255/0", &cidr, NULL));
	ck_assert_uint_eq(cidr.prefix, 0);
	ck_assert_uint_eq(cidr.addr[0], 0);
	ck_assert(mw_cidr_parse("192.0.2.255/28", &cidr, NULL));
	ck_assert_uint_eq(cidr.addr[3], 0xf0);
	ck_assert(mw_cidr_parse("::1", &cidr, NULL));
	ck_assert_int_eq(cidr.family, AF_INET6);
	ck_assert_uint_eq(cidr.prefix, 128);
	ck_assert(mw_cidr_parse("2001:db8::/32", &cidr, NULL));
	ck_assert_uint_eq(cidr.prefix, 32);

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;

		ck_assert_msg(!mw_cidr_parse(bad[i], &cidr, &error), "accepted '%s'", bad[i]);
		ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_CONFIG));
		ck_assert_ptr_nonnull(strstr(error->message, bad[i]));
	}
}
END_TEST

START_TEST(test_client_allowed)
{
	g_autoptr(MwConfig) config = load("", NULL);
	g_autoptr(MwConfig) nobody = load("[mailwarden]\nallowed_clients =\n", NULL);
	g_autoptr(MwConfig) lan =
		load("[mailwarden]\nallowed_clients = 192.0.2.0/24, 2001:db8::/32\n", NULL);
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	socklen_t len;

	len = make_v4("127.0.0.1", &ss);
	ck_assert(mw_config_client_allowed(config, (struct sockaddr *) &ss, len));
	ck_assert(!mw_config_client_allowed(nobody, (struct sockaddr *) &ss, len));
	ck_assert(!mw_config_client_allowed(lan, (struct sockaddr *) &ss, len));
	len = make_v4("192.0.2.10", &ss);
	ck_assert(!mw_config_client_allowed(config, (struct sockaddr *) &ss, len));
	ck_assert(mw_config_client_allowed(lan, (struct sockaddr *) &ss, len));
	len = make_v6("::1", &ss);
	ck_assert(mw_config_client_allowed(config, (struct sockaddr *) &ss, len));
	ck_assert(!mw_config_client_allowed(lan, (struct sockaddr *) &ss, len));
	len = make_v6("::ffff:127.0.0.1", &ss);
	ck_assert(mw_config_client_allowed(config, (struct sockaddr *) &ss, len));
	len = make_v6("::ffff:192.0.2.10", &ss);
	ck_assert(mw_config_client_allowed(lan, (struct sockaddr *) &ss, len));
	ck_assert(!mw_config_client_allowed(config, (struct sockaddr *) &ss, len));
	len = make_v6("2001:db8::25", &ss);
	ck_assert(mw_config_client_allowed(lan, (struct sockaddr *) &ss, len));
	ck_assert(!mw_config_client_allowed(config, (struct sockaddr *) &ss, len));

	/* a truncated address never matches */
	len = make_v4("127.0.0.1", &ss);
	ck_assert(!mw_config_client_allowed(config, (struct sockaddr *) &ss, 2));

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert(mw_config_client_allowed(nobody, (struct sockaddr *) &sun, sizeof(sun)));
}
END_TEST

#ifdef MW_TEST_OWN_REGISTRY

START_TEST(test_module_pipeline)
{
	g_autoptr(MwConfig) config = load("[mailwarden]\n"
					  "modules = plain, dummy\n"
					  "[dummy]\n"
					  "name = special\n"
					  "dir = /srv/dummy\n"
					  "enabled = off\n"
					  "level = 9\n"
					  "limit = 2k\n"
					  "delay = 90s\n"
					  "score = 6.5\n"
					  "hosts = a.example, b.example\n"
					  "action = Reject\n"
					  "text.Example.org = hi\n"
					  "on_error = reject\n",
					  NULL);
	MwModule *plain = mw_config_get_module(config, "plain");
	MwModule *dummy = mw_config_get_module(config, "dummy");
	const DummyConfig *dc;

	ck_assert_uint_eq(config->pipeline->len, 2);
	ck_assert_ptr_eq(g_ptr_array_index(config->pipeline, 0), plain);
	ck_assert_ptr_eq(g_ptr_array_index(config->pipeline, 1), dummy);
	ck_assert_ptr_null(mw_config_get_module(config, "nope"));
	ck_assert_uint_eq(plain->index, 0);
	ck_assert_uint_eq(dummy->index, 1);
	ck_assert_ptr_eq(plain->klass, &plain_class);
	ck_assert_ptr_eq(dummy->klass, &dummy_class);
	ck_assert_ptr_eq(dummy->core, config);
	ck_assert_int_eq(plain->on_error, MW_ON_ERROR_TEMPFAIL);
	ck_assert_int_eq(dummy->on_error, MW_ON_ERROR_REJECT);
	ck_assert_str_eq(dummy->priv, "configured special");

	dc = dummy->config;
	ck_assert_str_eq(dc->name, "special");
	ck_assert_str_eq(dc->dir, "/srv/dummy");
	ck_assert(!dc->enabled);
	ck_assert_int_eq(dc->level, 9);
	ck_assert_uint_eq(dc->limit, 2048);
	ck_assert_int_eq(dc->delay, 90);
	ck_assert_double_eq(dc->score, 6.5);
	ck_assert_uint_eq(g_strv_length(dc->hosts), 2);
	ck_assert_int_eq(dc->action, 2);
	ck_assert_str_eq(g_hash_table_lookup(dc->text_map, "example.org"), "hi");
}
END_TEST

START_TEST(test_module_defaults)
{
	g_autoptr(MwConfig) config = load("[mailwarden]\nmodules = dummy\n", NULL);
	MwModule *dummy = mw_config_get_module(config, "dummy");
	const DummyConfig *dc = dummy->config;

	ck_assert_int_eq(dummy->on_error, MW_ON_ERROR_PASS);
	ck_assert_str_eq(dc->name, "dummy");
	ck_assert(dc->enabled);
	ck_assert_int_eq(dc->level, 3);
	ck_assert_uint_eq(dc->limit, 1024 * 1024);
	ck_assert_int_eq(dc->delay, 3600);
	ck_assert_double_eq(dc->score, 5.0);
	ck_assert_uint_eq(g_strv_length(dc->hosts), 0);
	ck_assert_int_eq(dc->action, 0);
	ck_assert_uint_eq(g_hash_table_size(dc->text_map), 0);
}
END_TEST

START_TEST(test_module_errors)
{
	g_autofree char *duplicate =
		load_fails("[mailwarden]\nmodules = dummy, plain, dummy\n", NULL);
	g_autofree char *unlisted = load_fails("[mailwarden]\nmodules = plain\n"
					       "[dummy]\nlevle = 3\naction = drop\n",
					       NULL);
	g_autofree char *no_module = load_fails("[dummy]\nlevel = 11\n", NULL);
	g_autofree char *on_error = load_fails("[plain]\non_error = ignore\n", NULL);
	g_autofree char *plain_key =
		load_fails("[mailwarden]\nmodules = plain\n[plain]\nx = 1\n", NULL);
	g_autofree char *configure =
		load_fails("[mailwarden]\nmodules = dummy\n[dummy]\nlevel = 7\n", NULL);
	g_autofree char *both = load_fails("[mailwarden]\nmodules = dummy\n"
					   "[dummy]\nlevel = 7\nscore = x\n",
					   NULL);
	g_autoptr(MwConfig) unlisted_ok =
		load("[dummy]\nlevel = 7\non_error = pass\n[plain]\n", NULL);

	ck_assert_str_eq(duplicate,
			 "[mailwarden] modules: module 'dummy' is listed more than once");
	ck_assert_str_eq(unlisted, "[dummy] action: 'drop' is not one of tag, discard, reject\n"
				   "[dummy] unknown key 'levle'");
	ck_assert_str_eq(no_module, "[dummy] level: '11' is out of range 0..10");
	ck_assert_str_eq(on_error,
			 "[plain] on_error: 'ignore' is not one of tempfail, pass, reject");
	ck_assert_str_eq(plain_key, "[plain] unknown key 'x'");
	ck_assert_str_eq(configure, "[dummy] level 7 needs hosts");
	/* configure() does not run on keys that did not parse */
	ck_assert_str_eq(both, "[dummy] score: 'x' is not a number");
	/* configure() runs only for the pipeline */
	ck_assert_uint_eq(unlisted_ok->pipeline->len, 0);
}
END_TEST

START_TEST(test_module_overrides)
{
	const char *const overrides[] = {"modules=dummy", "dummy.level=8",
					 "dummy.text.example.NET=x\\sy", "dummy.on_error=tempfail",
					 NULL};
	g_autoptr(MwConfig) config = load("[dummy]\nlevel = 2\n", overrides);
	MwModule *dummy = mw_config_get_module(config, "dummy");
	const DummyConfig *dc = dummy->config;

	ck_assert_int_eq(dc->level, 8);
	ck_assert_int_eq(dummy->on_error, MW_ON_ERROR_TEMPFAIL);
	ck_assert_str_eq(g_hash_table_lookup(dc->text_map, "example.net"), "x y");
}
END_TEST

START_TEST(test_registry_lookup)
{
	ck_assert_ptr_eq(mw_registry_lookup("dummy"), &dummy_class);
	ck_assert_ptr_eq(mw_registry_lookup("plain"), &plain_class);
	ck_assert_ptr_null(mw_registry_lookup("Dummy"));
	ck_assert_ptr_null(mw_registry_lookup(""));
	ck_assert_ptr_null(mw_registry_lookup(NULL));
	ck_assert_str_eq(mw_on_error_names[MW_ON_ERROR_TEMPFAIL], "tempfail");
	ck_assert_str_eq(mw_on_error_names[MW_ON_ERROR_PASS], "pass");
	ck_assert_str_eq(mw_on_error_names[MW_ON_ERROR_REJECT], "reject");
	ck_assert_ptr_null(mw_on_error_names[MW_ON_ERROR_REJECT + 1]);
}
END_TEST

#endif /* MW_TEST_OWN_REGISTRY */

static Suite *
config_suite(void)
{
	Suite *suite = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values);
	tcase_add_loop_test(tc, test_core_values, 0, G_N_ELEMENTS(core_cases));
	tcase_add_test(tc, test_unknown_section);
	tcase_add_test(tc, test_many_problems);
	tcase_add_test(tc, test_overrides);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_shipped_conf);
	tcase_add_test(tc, test_local_address);
	suite_add_tcase(suite, tc);

	tc = tcase_create("cidr");
	tcase_add_loop_test(tc, test_cidr_match, 0, G_N_ELEMENTS(match_cases));
	tcase_add_test(tc, test_cidr_parse);
	tcase_add_test(tc, test_client_allowed);
	suite_add_tcase(suite, tc);

#ifdef MW_TEST_OWN_REGISTRY
	tc = tcase_create("modules");
	tcase_add_test(tc, test_module_pipeline);
	tcase_add_test(tc, test_module_defaults);
	tcase_add_test(tc, test_module_errors);
	tcase_add_test(tc, test_module_overrides);
	tcase_add_test(tc, test_registry_lookup);
	suite_add_tcase(suite, tc);
#endif
	return suite;
}

int
main(void)
{
	SRunner *runner = srunner_create(config_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
