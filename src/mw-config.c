/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-config - the [mailwarden] section, the module sections, the pipeline
 * SYNOPSIS
 *	mw_config_options(), mw_config_load(), mw_config_load_data(), mw_config_free(),
 *	mw_config_get_module(), mw_config_is_local_address(), mw_config_client_allowed(),
 *	mw_cidr_parse(), mw_cidr_match()
 * DESCRIPTION
 *	Loading reads the INI file with GKeyFile, applies the command-line
 *	overrides, fills the [mailwarden] keys through the option table below,
 *	checks what a table cannot (addresses, CIDRs, module names), rejects
 *	sections that are neither [mailwarden] nor a module of the registry,
 *	validates the section of every registered module that has one (listed in
 *	modules= or not, so a typo in a disabled module is still caught), builds
 *	one MwModule per modules= entry and runs its class's configure().
 *
 *	Nothing stops at the first problem: the MW_ERROR_CONFIG error carries one
 *	line per problem ("[group] key: problem"), the way --check-config prints
 *	them. Nothing is resolved or opened here except the file itself, and
 *	whatever the modules' configure() hooks do.
 *
 *	The result is read-only once loaded; a reload builds a new one. It owns
 *	the GKeyFile, the filled structs and the modules; mw_config_free() runs
 *	each module's finalize() first.
 * SEE ALSO
 *	mw-option.c, mw-module.c, docs/configuration.md, conf/mailwarden.conf
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#include "mw-ambiguous.h"
#include "mw-config.h"
#include "mw-error.h"

#define MW_CORE_GROUP "mailwarden"

static const char *const protocol_names[] = {"smtp", "lmtp", NULL};

static const MwOption core_options[] = {
	{.key = "listen",
	 .type = MW_OPT_LIST,
	 .default_value = "127.0.0.1:10026",
	 .offset = offsetof(MwConfig, listen),
	 .help = "addresses to accept Postfix on: host:port, [v6]:port or unix:/path"},
	{.key = "protocol",
	 .type = MW_OPT_ENUM,
	 .default_value = "smtp",
	 .offset = offsetof(MwConfig, protocol),
	 .choices = protocol_names,
	 .help = "smtp, or lmtp (one reply per recipient after DATA)"},
	{.key = "reinject",
	 .type = MW_OPT_STRING,
	 .default_value = "127.0.0.1:10027",
	 .offset = offsetof(MwConfig, reinject),
	 .help = "where filtered mail goes back to Postfix: host:port, [v6]:port or unix:/path"},
	{.key = "hostname",
	 .type = MW_OPT_STRING,
	 .default_value = "",
	 .offset = offsetof(MwConfig, hostname),
	 .help = "name in the greeting and EHLO; empty: the machine's host name"},
	{.key = "modules",
	 .type = MW_OPT_LIST,
	 .default_value = NULL,
	 .offset = offsetof(MwConfig, modules),
	 .help = "the pipeline, in order; a module not listed is off"},
	{.key = "local_domains",
	 .type = MW_OPT_LIST,
	 .default_value = NULL,
	 .offset = offsetof(MwConfig, local_domains),
	 .help = "our domains (exact, case-insensitive): decides inbound and outbound"},
	{.key = "max_message_size",
	 .type = MW_OPT_SIZE,
	 .default_value = "52428800",
	 .offset = offsetof(MwConfig, max_message_size),
	 .min = 65536,
	 .max = G_GINT64_CONSTANT(4294967296),
	 .help = "largest message accepted (SIZE is advertised, 552 above it)"},
	{.key = "workers",
	 .type = MW_OPT_INT,
	 .default_value = "10",
	 .offset = offsetof(MwConfig, workers),
	 .min = 1,
	 .max = 1024,
	 .help = "concurrent connections: at least Postfix's maxproc for the filter transport"},
	{.key = "state_dir",
	 .type = MW_OPT_PATH,
	 .default_value = "/var/lib/mailwarden",
	 .offset = offsetof(MwConfig, state_dir),
	 .help = "quarantine, spool and stores"},
	{.key = "timeout",
	 .type = MW_OPT_DURATION,
	 .default_value = "300",
	 .offset = offsetof(MwConfig, timeout),
	 .min = 1,
	 .max = 86400,
	 .help = "per SMTP command and response, on both sides"},
	{.key = "allowed_clients",
	 .type = MW_OPT_LIST,
	 .default_value = "127.0.0.0/8, ::1",
	 .offset = offsetof(MwConfig, allowed_clients),
	 .help = "addresses or networks allowed to connect (unix sockets always are)"},
	{.key = "directory",
	 .type = MW_OPT_PATH,
	 .default_value = "/etc/mailwarden/directory.conf",
	 .offset = offsetof(MwConfig, directory),
	 .help = "users, resources, collections, owners and policies"},
	{.key = "calendars",
	 .type = MW_OPT_STRING,
	 .default_value = "dir:/var/lib/mailwarden/calendars",
	 .offset = offsetof(MwConfig, calendars),
	 .help = "calendar store: dir:PATH"},
	{.key = "syslog",
	 .type = MW_OPT_BOOL,
	 .default_value = "false",
	 .offset = offsetof(MwConfig, syslog),
	 .help = "log to syslog (mail facility) instead of standard error / the journal"},
	{.key = "syslog_socket",
	 .type = MW_OPT_PATH,
	 .default_value = "/dev/log",
	 .offset = offsetof(MwConfig, syslog_socket),
	 .help = "the syslog daemon's socket (with syslog = true)"},
	{.key = "user",
	 .type = MW_OPT_STRING,
	 .default_value = "",
	 .offset = offsetof(MwConfig, user),
	 .help = "switch to this user when started as root; empty: stay as started"},
	{.key = "metrics",
	 .type = MW_OPT_STRING,
	 .default_value = "",
	 .offset = offsetof(MwConfig, metrics),
	 .help = "optional Prometheus text endpoint; empty: none"},
	{.key = "worker_memory_limit",
	 .type = MW_OPT_SIZE,
	 .default_value = "0",
	 .offset = offsetof(MwConfig, worker_memory_limit),
	 .help = "data segment limit of each worker (RLIMIT_DATA); 0: none"},
	{.key = "message_cpu_limit",
	 .type = MW_OPT_DURATION,
	 .default_value = "120",
	 .offset = offsetof(MwConfig, message_cpu_limit),
	 .min = 0,
	 .max = 86400,
	 .help = "CPU seconds the modules may spend on one message (451 past it); 0: none"},
	{.key = "ambiguous_mime",
	 .type = MW_OPT_ENUM,
	 .default_value = "tag",
	 .offset = offsetof(MwConfig, ambiguous_mime),
	 .choices = mw_ambiguous_action_names,
	 .help = "mail MIME parsers can read two ways: pass, tag, quarantine or reject"},
	MW_OPTION_END,
};

static const MwOption empty_options[] = {MW_OPTION_END};

/**
 * mw_config_options:
 *
 * Returns: (transfer none): the [mailwarden] option table (for docs and tests)
 */
const MwOption *
mw_config_options(void)
{
	return core_options;
}

static void problem(GPtrArray *problems, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* problem - append one formatted line to @problems */
static void
problem(GPtrArray *problems, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	g_ptr_array_add(problems, g_strdup_vprintf(fmt, args));
	va_end(args);
}

/* is_host_name - letters, digits, '-', '.', '_' (no resolution: the name may not exist yet) */
static gboolean
is_host_name(const char *text)
{
	if (text[0] == '\0')
		return FALSE;
	for (const char *p = text; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
			return FALSE;
	}
	return TRUE;
}

/* check_target - "host:port", "[v6]:port" or "unix:/absolute/path"; NULL if fine, else why */
static char *
check_target(const char *text)
{
	g_autofree char *host = NULL;
	const char *port;
	guint64 number = 0;

	if (g_str_has_prefix(text, "unix:")) {
		const char *path = text + strlen("unix:");

		if (path[0] != '/')
			return g_strdup_printf("'%s': the socket path must be absolute", text);
		if (strlen(path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
			return g_strdup_printf("'%s': the socket path is too long", text);
		return NULL;
	}
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		struct in6_addr addr;

		if (close == NULL || close[1] != ':')
			return g_strdup_printf("'%s' is not [v6address]:port", text);
		host = g_strndup(text + 1, (gsize) (close - text - 1));
		if (inet_pton(AF_INET6, host, &addr) != 1)
			return g_strdup_printf("'%s': '%s' is not an IPv6 address", text, host);
		port = close + 2;
	} else {
		const char *colon = strrchr(text, ':');

		if (colon == NULL)
			return g_strdup_printf(
				"'%s' is not host:port, [v6address]:port or unix:/path", text);
		host = g_strndup(text, (gsize) (colon - text));
		if (strchr(host, ':') != NULL)
			return g_strdup_printf("'%s': write an IPv6 address as [address]:port",
					       text);
		if (!is_host_name(host))
			return g_strdup_printf("'%s': '%s' is not a host name or address", text,
					       host);
		port = colon + 1;
	}
	if (!g_ascii_string_to_unsigned(port, 10, 1, 65535, &number, NULL))
		return g_strdup_printf("'%s': the port must be a number 1..65535", text);
	return NULL;
}

/* validate_core - what the [mailwarden] table cannot check; parses allowed_clients */
static void
validate_core(MwConfig *config, GPtrArray *problems)
{
	g_autofree char *reinject = NULL;

	if (config->listen[0] == NULL)
		problem(problems, "[%s] listen: at least one address is required", MW_CORE_GROUP);
	for (guint i = 0; config->listen[i] != NULL; i++) {
		g_autofree char *why = check_target(config->listen[i]);

		if (why != NULL)
			problem(problems, "[%s] listen: %s", MW_CORE_GROUP, why);
	}

	if (config->reinject[0] == '\0') {
		problem(problems, "[%s] reinject: an address is required", MW_CORE_GROUP);
	} else {
		reinject = check_target(config->reinject);
		if (reinject != NULL)
			problem(problems, "[%s] reinject: %s", MW_CORE_GROUP, reinject);
	}

	if (config->hostname[0] == '\0') {
		g_free(config->hostname);
		config->hostname = g_strdup(g_get_host_name());
	} else if (!is_host_name(config->hostname) &&
		   !(config->hostname[0] == '[' && g_str_has_suffix(config->hostname, "]"))) {
		problem(problems, "[%s] hostname: '%s' is not a host name", MW_CORE_GROUP,
			config->hostname);
	}

	for (guint i = 0; config->local_domains[i] != NULL; i++) {
		const char *domain = config->local_domains[i];

		if (strpbrk(domain, "@ \t\r\n<>[]") != NULL)
			problem(problems, "[%s] local_domains: '%s' is not a domain name",
				MW_CORE_GROUP, domain);
	}

	for (guint i = 0; config->allowed_clients[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		MwCidr cidr;

		if (mw_cidr_parse(config->allowed_clients[i], &cidr, &error))
			g_array_append_val(config->allowed, cidr);
		else
			problem(problems, "[%s] allowed_clients: %s", MW_CORE_GROUP,
				error->message);
	}
}

/* check_sections - every section is [mailwarden] or a module of this binary */
static void
check_sections(GKeyFile *keyfile, GPtrArray *problems)
{
	g_auto(GStrv) groups = g_key_file_get_groups(keyfile, NULL);

	for (guint i = 0; groups[i] != NULL; i++) {
		if (strcmp(groups[i], MW_CORE_GROUP) != 0 && mw_registry_lookup(groups[i]) == NULL)
			problem(problems, "unknown section [%s]", groups[i]);
	}
}

/* load_on_error - the on_error key every module section accepts */
static gboolean
load_on_error(const MwModuleClass *klass, GKeyFile *keyfile, MwOnError *on_error_out,
	      GPtrArray *problems)
{
	MwOnError fallback = klass->on_error_default <= MW_ON_ERROR_REJECT ? klass->on_error_default
									   : MW_ON_ERROR_TEMPFAIL;
	const MwOption table[] = {
		{.key = "on_error",
		 .type = MW_OPT_ENUM,
		 .default_value = mw_on_error_names[fallback],
		 .offset = 0,
		 .choices = mw_on_error_names},
		MW_OPTION_END,
	};
	/* the section's other keys belong to the class's table, checked there */
	g_auto(GStrv) keys = g_key_file_get_keys(keyfile, klass->name, NULL, NULL);
	int value = 0;
	gboolean ok;

	ok = mw_options_load(table, keyfile, klass->name, (const char *const *) keys, &value,
			     problems);
	*on_error_out = (MwOnError) value;
	return ok;
}

/* load_section - fill @target from the module's section (or its defaults) plus on_error */
static gboolean
load_section(const MwModuleClass *klass, GKeyFile *keyfile, gpointer target,
	     MwOnError *on_error_out, GPtrArray *problems)
{
	static const char *const extra_keys[] = {"on_error", NULL};
	const MwOption *table = klass->options != NULL ? klass->options : empty_options;
	gboolean ok = TRUE;

	if (klass->abi != MW_MODULE_ABI) {
		problem(problems, "[%s] module built for ABI %u, the core has %u", klass->name,
			klass->abi, (guint) MW_MODULE_ABI);
		ok = FALSE;
	}
	if (!mw_options_load(table, keyfile, klass->name, extra_keys, target, problems))
		ok = FALSE;
	if (!load_on_error(klass, keyfile, on_error_out, problems))
		ok = FALSE;
	return ok;
}

/* validate_unlisted - check the sections of registered modules that modules= does not list */
static void
validate_unlisted(MwConfig *config, GPtrArray *problems)
{
	const MwModuleClass *const *registry = mw_registry_get();

	for (guint i = 0; registry != NULL && registry[i] != NULL; i++) {
		const MwModuleClass *klass = registry[i];
		const MwOption *table = klass->options != NULL ? klass->options : empty_options;
		g_autofree gpointer scratch = NULL;
		MwOnError on_error;

		if (!g_key_file_has_group(config->keyfile, klass->name) ||
		    g_strv_contains((const char *const *) config->modules, klass->name))
			continue;
		scratch = g_malloc0(MAX(klass->config_size, 1));
		load_section(klass, config->keyfile, scratch, &on_error, problems);
		mw_options_clear(table, scratch);
	}
}

/* build_pipeline - one configured MwModule per modules= entry; @configured_out marks
 * the modules whose configure() ran (their finalize() is due) */
static void
build_pipeline(MwConfig *config, gboolean *configured_out, GPtrArray *problems)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; config->modules[i] != NULL; i++) {
		const char *name = config->modules[i];
		const MwModuleClass *klass = mw_registry_lookup(name);
		MwModule *module;
		gboolean ok;

		if (klass == NULL) {
			problem(problems, "[%s] modules: unknown module '%s'", MW_CORE_GROUP, name);
			continue;
		}
		if (!g_hash_table_add(seen, (gpointer) name)) {
			problem(problems, "[%s] modules: module '%s' is listed more than once",
				MW_CORE_GROUP, name);
			continue;
		}
		module = g_new0(MwModule, 1);
		module->klass = klass;
		module->index = config->pipeline->len;
		module->config = g_malloc0(MAX(klass->config_size, 1));
		module->core = config;
		g_ptr_array_add(config->pipeline, module);
		ok = load_section(klass, config->keyfile, module->config, &module->on_error,
				  problems);

		/* a module whose own keys are wrong is not configured: its configure()
		 * would only report the same problem again, less clearly */
		if (ok && klass->configure != NULL) {
			g_autoptr(GError) error = NULL;

			configured_out[module->index] = TRUE;
			if (!klass->configure(module, &error)) {
				problem(problems, "[%s] %s", klass->name,
					error != NULL ? error->message : "configuration failed");
			}
		}
	}
}

/* config_free_full - free @config; finalize() only the modules marked in @configured
 * (all of them when NULL), in reverse pipeline order */
static void
config_free_full(MwConfig *config, const gboolean *configured)
{
	if (config == NULL)
		return;
	for (guint i = config->pipeline != NULL ? config->pipeline->len : 0; i > 0; i--) {
		MwModule *module = g_ptr_array_index(config->pipeline, i - 1);
		const MwModuleClass *klass = module->klass;

		if (klass->finalize != NULL && (configured == NULL || configured[i - 1]))
			klass->finalize(module);
		mw_options_clear(klass->options != NULL ? klass->options : empty_options,
				 module->config);
		g_free(module->config);
		g_free(module);
	}
	g_clear_pointer(&config->pipeline, g_ptr_array_unref);
	g_clear_pointer(&config->allowed, g_array_unref);
	mw_options_clear(core_options, config);
	g_clear_pointer(&config->keyfile, g_key_file_unref);
	g_free(config->path);
	g_free(config);
}

/* config_build - everything after the file is parsed; takes a reference on @keyfile */
static MwConfig *
config_build(GKeyFile *keyfile, const char *path, const char *const *overrides, GError **error)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autofree gboolean *configured = NULL;
	MwConfig *config = g_new0(MwConfig, 1);
	guint n_modules;

	config->path = g_strdup(path);
	config->keyfile = g_key_file_ref(keyfile);
	config->allowed = g_array_new(FALSE, TRUE, sizeof(MwCidr));
	config->pipeline = g_ptr_array_new();

	for (guint i = 0; overrides != NULL && overrides[i] != NULL; i++) {
		g_autoptr(GError) local = NULL;

		if (!mw_options_set_override(keyfile, MW_CORE_GROUP, overrides[i], &local))
			g_ptr_array_add(problems, g_strdup(local->message));
	}

	mw_options_load(core_options, keyfile, MW_CORE_GROUP, NULL, config, problems);
	validate_core(config, problems);
	check_sections(keyfile, problems);
	validate_unlisted(config, problems);

	n_modules = g_strv_length(config->modules);
	configured = g_new0(gboolean, n_modules + 1);
	build_pipeline(config, configured, problems);

	if (problems->len > 0) {
		g_autofree char *message = NULL;

		g_ptr_array_add(problems, NULL);
		message = g_strjoinv("\n", (char **) problems->pdata);
		g_set_error_literal(error, MW_ERROR, MW_ERROR_CONFIG, message);
		config_free_full(config, configured);
		return NULL;
	}
	return config;
}

/**
 * mw_config_load:
 * @path: (nullable): the INI file; NULL: no file, every default
 * @overrides: (nullable): "key=value" or "section.key=value" strings applied on
 *   top of the file (command line -o); a bare key is in [mailwarden]
 * @error: MW_ERROR_CONFIG, one line per problem; a file that cannot be read or
 *   parsed is one line "PATH: what GLib says"
 *
 * Reads and validates everything (see the file comment) and runs each
 * pipeline module's configure().
 *
 * Returns: (transfer full) (nullable): the configuration, or NULL
 */
MwConfig *
mw_config_load(const char *path, const char *const *overrides, GError **error)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) local = NULL;

	if (path != NULL && !g_key_file_load_from_file(keyfile, path, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s: %s", path, local->message);
		return NULL;
	}
	return config_build(keyfile, path, overrides, error);
}

/**
 * mw_config_load_data:
 * @data: the INI text
 * @overrides: (nullable): as for mw_config_load()
 * @error: as for mw_config_load()
 *
 * The same as mw_config_load() from a string (tests); config->path is NULL.
 *
 * Returns: (transfer full) (nullable): the configuration, or NULL
 */
MwConfig *
mw_config_load_data(const char *data, const char *const *overrides, GError **error)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) local = NULL;

	g_return_val_if_fail(data != NULL, NULL);
	if (!g_key_file_load_from_data(keyfile, data, (gsize) -1, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "config: %s", local->message);
		return NULL;
	}
	return config_build(keyfile, NULL, overrides, error);
}

/**
 * mw_config_free:
 * @config: (nullable): the configuration
 *
 * Runs each pipeline module's finalize() (last module first), then frees
 * everything the configuration owns.
 */
void
mw_config_free(MwConfig *config)
{
	config_free_full(config, NULL);
}

/**
 * mw_config_get_module:
 * @config: the configuration
 * @name: a module name
 *
 * Returns: (transfer none) (nullable): the pipeline's instance of @name, or
 *   NULL if modules= does not list it
 */
MwModule *
mw_config_get_module(const MwConfig *config, const char *name)
{
	g_return_val_if_fail(config != NULL, NULL);

	for (guint i = 0; name != NULL && i < config->pipeline->len; i++) {
		MwModule *module = g_ptr_array_index(config->pipeline, i);

		if (strcmp(module->klass->name, name) == 0)
			return module;
	}
	return NULL;
}

/**
 * mw_config_is_local_address:
 * @config: the configuration
 * @address: (nullable): "user@domain" without angle brackets
 *
 * The domain is what follows the last '@'; it must equal one of local_domains
 * (ASCII case-insensitive, no subdomain matching). An address without '@'
 * (or the null sender "") is not local.
 */
gboolean
mw_config_is_local_address(const MwConfig *config, const char *address)
{
	const char *at;

	g_return_val_if_fail(config != NULL, FALSE);

	if (address == NULL || (at = strrchr(address, '@')) == NULL || at[1] == '\0')
		return FALSE;
	for (guint i = 0; config->local_domains[i] != NULL; i++) {
		if (g_ascii_strcasecmp(at + 1, config->local_domains[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

/**
 * mw_config_client_allowed:
 * @config: the configuration
 * @sa: the peer's address (from accept())
 * @len: its length
 *
 * Unix-socket peers are always allowed (the file mode guards them); an
 * IPv4-mapped IPv6 peer is matched against the IPv4 entries too.
 */
gboolean
mw_config_client_allowed(const MwConfig *config, const struct sockaddr *sa, socklen_t len)
{
	g_return_val_if_fail(config != NULL, FALSE);

	if (sa == NULL || len < (socklen_t) sizeof(sa_family_t))
		return FALSE;
	if (sa->sa_family == AF_UNIX)
		return TRUE;
	for (guint i = 0; i < config->allowed->len; i++) {
		if (mw_cidr_match(&g_array_index(config->allowed, MwCidr, i), sa, len))
			return TRUE;
	}
	return FALSE;
}

/**
 * mw_cidr_parse:
 * @text: "192.0.2.0/24", "2001:db8::/32", "::1", "127.0.0.1" (no prefix: one address)
 * @cidr: (out caller-allocates): the parsed network; host bits past the prefix are cleared
 * @error: MW_ERROR_CONFIG naming @text
 */
gboolean
mw_cidr_parse(const char *text, MwCidr *cidr, GError **error)
{
	const char *slash;
	g_autofree char *address = NULL;
	guint bits;
	guint64 prefix;

	g_return_val_if_fail(text != NULL, FALSE);
	g_return_val_if_fail(cidr != NULL, FALSE);

	memset(cidr, 0, sizeof(*cidr));
	slash = strchr(text, '/');
	address = slash != NULL ? g_strndup(text, (gsize) (slash - text)) : g_strdup(text);
	if (inet_pton(AF_INET, address, cidr->addr) == 1) {
		cidr->family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, address, cidr->addr) == 1) {
		cidr->family = AF_INET6;
		bits = 128;
	} else {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "'%s' is not an IP address or network", text);
		return FALSE;
	}
	prefix = bits;
	if (slash != NULL && !g_ascii_string_to_unsigned(slash + 1, 10, 0, bits, &prefix, NULL)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "'%s': the prefix length must be 0..%u", text, bits);
		return FALSE;
	}
	cidr->prefix = (guint) prefix;
	for (guint i = 0; i < bits / 8; i++) {
		if (i * 8 >= cidr->prefix)
			cidr->addr[i] = 0;
		else if ((i + 1) * 8 > cidr->prefix)
			cidr->addr[i] &= (guint8) (0xff << (8 - (cidr->prefix - i * 8)));
	}
	return TRUE;
}

/* peer_address - the 4 or 16 address bytes of @sa in @cidr's family (v4-mapped v6 <-> v4);
 * FALSE if the families cannot be compared */
static gboolean
peer_address(const MwCidr *cidr, const struct sockaddr *sa, socklen_t len, guint8 *addr_out)
{
	static const guint8 mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (sa->sa_family == AF_INET && len >= (socklen_t) sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		if (cidr->family == AF_INET) {
			memcpy(addr_out, &sin.sin_addr, 4);
		} else {
			memcpy(addr_out, mapped_prefix, 12);
			memcpy(addr_out + 12, &sin.sin_addr, 4);
		}
		return TRUE;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t) sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		if (cidr->family == AF_INET6) {
			memcpy(addr_out, &sin6.sin6_addr, 16);
			return TRUE;
		}
		if (memcmp(&sin6.sin6_addr, mapped_prefix, 12) == 0) {
			memcpy(addr_out, (const guint8 *) &sin6.sin6_addr + 12, 4);
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * mw_cidr_match:
 * @cidr: a network from mw_cidr_parse()
 * @sa: an AF_INET or AF_INET6 address
 * @len: its length
 *
 * An IPv4-mapped IPv6 address (::ffff:192.0.2.1) matches IPv4 networks, and an
 * IPv4 address matches IPv6 networks written in the mapped form.
 */
gboolean
mw_cidr_match(const MwCidr *cidr, const struct sockaddr *sa, socklen_t len)
{
	guint8 addr[16] = {0};
	guint full;
	guint rest;

	g_return_val_if_fail(cidr != NULL, FALSE);

	if (sa == NULL || len < (socklen_t) sizeof(sa_family_t) ||
	    !peer_address(cidr, sa, len, addr))
		return FALSE;
	full = cidr->prefix / 8;
	rest = cidr->prefix % 8;
	if (memcmp(addr, cidr->addr, full) != 0)
		return FALSE;
	if (rest != 0) {
		guint8 mask = (guint8) (0xff << (8 - rest));

		if ((addr[full] & mask) != (cidr->addr[full] & mask))
			return FALSE;
	}
	return TRUE;
}
