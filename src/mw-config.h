/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sys/socket.h>

#include <glib.h>

#include "mw-module.h"

G_BEGIN_DECLS

typedef enum {
	MW_PROTOCOL_SMTP = 0,
	MW_PROTOCOL_LMTP,
} MwProtocol;

/* one allowed_clients entry */
typedef struct {
	int family; /* AF_INET or AF_INET6 */
	guint8 addr[16];
	guint prefix;
} MwCidr;

/**
 * MwConfig:
 * The [mailwarden] section (ARCHITECTURE §3) plus the configured pipeline.
 * Read-only once loaded; a reload builds a new one.
 */
struct _MwConfig {
	char *path;
	GKeyFile *keyfile;

	char **listen;       /* host:port, [v6]:port or unix:/path */
	MwProtocol protocol; /* smtp | lmtp */
	char *reinject;      /* host:port or unix:/path */
	char *hostname;      /* default: g_get_host_name() */
	char **modules;      /* pipeline order */
	char **local_domains;
	guint64 max_message_size;
	gint64 workers;
	char *state_dir;
	gint64 timeout; /* seconds */
	char **allowed_clients;
	char *directory;
	char *calendars;
	gboolean syslog;
	char *syslog_socket;
	char *user;
	char *metrics;
	int ambiguous_mime;          /* MwAmbiguousAction */
	guint64 worker_memory_limit; /* bytes, 0: none */
	gint64 message_cpu_limit;    /* seconds, 0: none */

	GArray *allowed;     /* MwCidr, parsed allowed_clients */
	GPtrArray *pipeline; /* MwModule *, in modules= order, configured */
};

/* mw_config_options - the [mailwarden] table (for docs and tests) */
const MwOption *mw_config_options(void);

/**
 * mw_config_load:
 * @path: the INI file
 * @overrides: (nullable): "key=value" or "section.key=value" strings applied
 *   on top of the file (command line -o)
 *
 * Reads and validates everything: the [mailwarden] keys, one section per
 * module of the registry (a section for a module not in modules= is still
 * validated), unknown sections and keys. Runs each pipeline module's
 * configure(). On failure the MW_ERROR_CONFIG message has one line per problem.
 */
MwConfig *mw_config_load(const char *path, const char *const *overrides, GError **error);
/* mw_config_load_data - the same from a string (tests) */
MwConfig *mw_config_load_data(const char *data, const char *const *overrides, GError **error);
void mw_config_free(MwConfig *config);

/* mw_config_get_module - the pipeline's instance of module @name, or NULL if not listed */
MwModule *mw_config_get_module(const MwConfig *config, const char *name);

/* mw_config_is_local_address - the domain of @address is in local_domains (case-insensitive) */
gboolean mw_config_is_local_address(const MwConfig *config, const char *address);

/* mw_config_client_allowed - @sa (AF_UNIX always allowed) matches allowed_clients */
gboolean mw_config_client_allowed(const MwConfig *config, const struct sockaddr *sa, socklen_t len);

/* mw_cidr_parse - "192.0.2.0/24", "::1", "127.0.0.1" */
gboolean mw_cidr_parse(const char *text, MwCidr *cidr, GError **error);
gboolean mw_cidr_match(const MwCidr *cidr, const struct sockaddr *sa, socklen_t len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwConfig, mw_config_free)

G_END_DECLS
