/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-master - the supervising process and its preforked workers
 * SYNOPSIS
 *	mw_master_run
 * DESCRIPTION
 *	Postfix's and amavisd's model: the master loads the configuration and
 *	the heavy read-only module state, opens the listening sockets and forks
 *	single-threaded workers that accept() on the shared sockets and serve
 *	one connection at a time. A crash costs one connection; the master
 *	replaces the worker. Memory a module loads in its start hook before
 *	the fork is shared copy-on-write by every worker.
 *
 *	Signals in the master only set flags; the main loop (ppoll) does
 *	the work. Workers get SIGTERM to drain: one idle in accept() exits at
 *	once, one in a session finishes the current message and answers 421
 *	to what comes next.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <glib/gstdio.h>

#include "mw-error.h"
#include "mw-guard.h"
#include "mw-log.h"
#include "mw-master.h"
#include "mw-net.h"
#include "mw-pipeline.h"
#include "mw-reinject.h"
#include "mw-session.h"
#include "mw-stats.h"

/* a worker dying this soon after its start counts as a start failure */
#define RESPAWN_FAST_SECONDS 2
#define RESPAWN_DELAY_MAX    30

typedef struct {
	char *target;
	int fd;
} Listener;

typedef struct {
	pid_t pid;
	guint generation;
	gint64 started;
	int slot; /* index into the shared served counters, -1 if none */
} Worker;

/*
 * How many connections each worker accepted, in memory shared with the
 * workers: a worker that dies before serving anybody failed to start (and is
 * respawned with a growing delay); one that dies while serving a message
 * crashed on that message and is replaced at once.
 */
#define MAX_SLOTS 4096
typedef struct {
	volatile guint64 served[MAX_SLOTS];
	gboolean used[MAX_SLOTS]; /* master only */
} Slots;

/* flags set by the master's signal handlers */
static volatile sig_atomic_t got_chld;
static volatile sig_atomic_t got_hup;
static volatile sig_atomic_t got_term;
/* set by a worker's SIGTERM handler; the session polls it */
static volatile int worker_draining;

static void
on_master_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
on_worker_term(int sig)
{
	worker_draining = 1;
}

static void
listener_free(Listener *l)
{
	/* a socket handed on to a new generation (fd -1) keeps its file */
	if (l->fd >= 0) {
		close(l->fd);
		if (g_str_has_prefix(l->target, "unix:"))
			(void) g_unlink(l->target + 5);
	}
	g_free(l->target);
	g_free(l);
}

/* open_listeners - reuse sockets of @old that are still wanted, open the others */
static GPtrArray *
open_listeners(const MwConfig *config, GPtrArray *old, GError **error)
{
	g_autoptr(GPtrArray) result =
		g_ptr_array_new_with_free_func((GDestroyNotify) listener_free);
	for (guint i = 0; config->listen[i] != NULL; i++) {
		const char *target = config->listen[i];
		Listener *reuse = NULL;
		for (guint j = 0; old != NULL && j < old->len; j++) {
			Listener *l = g_ptr_array_index(old, j);
			if (l->fd >= 0 && g_str_equal(l->target, target)) {
				reuse = l;
				break;
			}
		}
		Listener *l = g_new0(Listener, 1);
		l->target = g_strdup(target);
		if (reuse != NULL) {
			l->fd = reuse->fd;
			reuse->fd = -1;
		} else {
			l->fd = mw_net_listen(target, error);
			if (l->fd < 0) {
				g_free(l->target);
				g_free(l);
				return NULL;
			}
		}
		/* workers poll before accept: a connection another worker took must not block */
		fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK);
		g_ptr_array_add(result, l);
	}
	return g_steal_pointer(&result);
}

/* worker_main - the life of one worker process */
static G_GNUC_NORETURN void
worker_main(const MwConfig *config, GPtrArray *listeners, volatile guint64 *served)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_worker_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	mw_guard_install(config->worker_memory_limit);

	g_autoptr(GError) error = NULL;
	if (!mw_pipeline_worker_init(config, &error)) {
		g_warning("worker cannot start: %s", error->message);
		_exit(2);
	}
	MwReinjector *reinjector =
		mw_reinjector_new(config->reinject, config->hostname, (guint) config->timeout);
	MwSessionContext ctx = {config, reinjector, &worker_draining};
	struct pollfd *fds = g_new0(struct pollfd, listeners->len);
	for (guint i = 0; i < listeners->len; i++) {
		fds[i].fd = ((Listener *) g_ptr_array_index(listeners, i))->fd;
		fds[i].events = POLLIN;
	}
	while (!worker_draining) {
		int n = poll(fds, listeners->len, -1);
		if (n < 0)
			continue; /* EINTR: check the flag */
		for (guint i = 0; i < listeners->len && !worker_draining; i++) {
			if (!(fds[i].revents & POLLIN))
				continue;
			struct sockaddr_storage peer;
			socklen_t len = sizeof peer;
			int fd = accept4(fds[i].fd, (struct sockaddr *) &peer, &len, SOCK_CLOEXEC);
			if (fd < 0)
				continue; /* another worker was faster */
			if (served != NULL)
				(*served)++;
			mw_session_run(&ctx, fd, (struct sockaddr *) &peer, len);
		}
	}
	g_free(fds);
	mw_reinjector_free(reinjector);
	mw_pipeline_worker_exit(config);
	_exit(0);
}

/* spawn - fork one worker */
static gboolean
spawn(GArray *workers, guint generation, const MwConfig *config, GPtrArray *listeners, Slots *slots)
{
	int slot = -1;
	for (int i = 0; slots != NULL && i < MAX_SLOTS; i++) {
		if (!slots->used[i]) {
			slot = i;
			slots->used[i] = TRUE;
			slots->served[i] = 0;
			break;
		}
	}
	pid_t pid = fork();
	if (pid < 0) {
		g_warning("cannot fork a worker: %s", g_strerror(errno));
		if (slot >= 0)
			slots->used[slot] = FALSE;
		return FALSE;
	}
	if (pid == 0)
		worker_main(config, listeners, slot >= 0 ? &slots->served[slot] : NULL);
	Worker w = {pid, generation, g_get_monotonic_time(), slot};
	g_array_append_val(workers, w);
	return TRUE;
}

/* signal_generation - send @sig to the workers of @generation (or all if G_MAXUINT) */
static void
signal_workers(GArray *workers, guint generation, int sig)
{
	for (guint i = 0; i < workers->len; i++) {
		Worker *w = &g_array_index(workers, Worker, i);
		if (generation == G_MAXUINT || w->generation == generation)
			kill(w->pid, sig);
	}
}

/* drop_privileges - become config->user when started as root */
static gboolean
drop_privileges(const MwConfig *config, GError **error)
{
	if (config->user == NULL || *config->user == '\0' || geteuid() != 0)
		return TRUE;
	struct passwd *pw = getpwnam(config->user);
	if (pw == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "user '%s' does not exist",
			    config->user);
		return FALSE;
	}
	if (chown(config->state_dir, pw->pw_uid, pw->pw_gid) < 0)
		g_warning("cannot chown %s: %s", config->state_dir, g_strerror(errno));
	g_autofree char *qdir = g_build_filename(config->state_dir, "quarantine", NULL);
	if (chown(qdir, pw->pw_uid, pw->pw_gid) < 0)
		g_warning("cannot chown %s: %s", qdir, g_strerror(errno));
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "cannot switch to user '%s': %s",
			    config->user, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* prepare_state_dir - state_dir and its quarantine folder */
static gboolean
prepare_state_dir(const MwConfig *config, GError **error)
{
	g_autofree char *qdir = g_build_filename(config->state_dir, "quarantine", NULL);
	if (g_mkdir_with_parents(qdir, 0750) < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "cannot create %s: %s", qdir,
			    g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/*
 * daemonize - classic double fork, stdio to /dev/null; the process that was
 * started waits on a pipe until the daemon calls daemon_ready() (pid file
 * written), so that `mailwarden -d` returns only once the daemon is up (exit
 * 0), or 1 when it died first. Returns the write end of that pipe (in the
 * daemon), or -1 with @error.
 */
static int
daemonize(GError **error)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "pipe: %s", g_strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "fork: %s", g_strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (pid > 0) {
		char byte = 0;
		ssize_t n;
		close(ready[1]);
		do
			n = read(ready[0], &byte, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? 0 : 1);
	}
	close(ready[0]);
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > 2)
			close(fd);
	}
	return ready[1];
}

/* daemon_ready - tell the process that started us that the daemon is up */
static void
daemon_ready(int fd)
{
	if (fd < 0)
		return;
	ssize_t n;
	do
		n = write(fd, "R", 1);
	while (n < 0 && errno == EINTR);
	close(fd);
}

typedef struct {
	guint generation;
	MwConfig *config;
} OldGen;

/* free_finished_generations - free old configurations no worker uses any more */
static void
free_finished_generations(GPtrArray *old_gens, GArray *workers)
{
	for (guint g = old_gens->len; g-- > 0;) {
		OldGen *gen = g_ptr_array_index(old_gens, g);
		gboolean alive = FALSE;
		for (guint i = 0; i < workers->len; i++)
			alive |= g_array_index(workers, Worker, i).generation == gen->generation;
		if (alive)
			continue;
		mw_config_free(gen->config);
		g_free(gen);
		g_ptr_array_remove_index(old_gens, g);
	}
}

/* reap - collect dead workers; decide how soon to replace them */
static void
reap(GArray *workers, Slots *slots, gboolean stopping, guint *fast_deaths, gint64 *next_spawn)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (guint i = 0; i < workers->len; i++) {
			Worker *w = &g_array_index(workers, Worker, i);
			if (w->pid != pid)
				continue;
			gboolean clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
			if (!clean && !stopping) {
				mw_stats_worker_restart();
				if (WIFSIGNALED(status))
					g_warning(
						"worker %d died from signal %d (%s); replacing it",
						(int) pid, WTERMSIG(status),
						g_strsignal(WTERMSIG(status)));
				else
					g_warning("worker %d exited with status %d; replacing it",
						  (int) pid, WEXITSTATUS(status));
				gint64 lived = g_get_monotonic_time() - w->started;
				gboolean served_any =
					slots == NULL || w->slot < 0 || slots->served[w->slot] > 0;
				if (!served_any && lived < RESPAWN_FAST_SECONDS * G_USEC_PER_SEC) {
					/* it never got to serve: a start failure, do not spin */
					(*fast_deaths)++;
					guint delay = MIN(1u << MIN(*fast_deaths, 5u),
							  (guint) RESPAWN_DELAY_MAX);
					*next_spawn = g_get_monotonic_time() +
						      (gint64) delay * G_USEC_PER_SEC;
				} else {
					*fast_deaths = 0;
				}
			}
			if (slots != NULL && w->slot >= 0)
				slots->used[w->slot] = FALSE;
			g_array_remove_index_fast(workers, i);
			break;
		}
	}
}

/* open_metrics - the metrics listener, or -1 when metrics is empty or fails */
static int
open_metrics(const MwConfig *config)
{
	if (config->metrics == NULL || *config->metrics == '\0')
		return -1;
	g_autoptr(GError) error = NULL;
	int fd = mw_net_listen(config->metrics, &error);
	if (fd < 0) {
		g_warning("metrics: %s", error->message);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	g_message("metrics on http://%s/metrics", config->metrics);
	return fd;
}

/* serve_metrics - answer one HTTP request with the Prometheus text; the
 * master never waits more than a second on a metrics client */
static void
serve_metrics(const MwConfig *config, int listen_fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof peer;
	int fd = accept4(listen_fd, (struct sockaddr *) &peer, &len, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (!mw_config_client_allowed(config, (struct sockaddr *) &peer, len)) {
		close(fd);
		return;
	}
	struct timeval tv = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	char request[2048];
	gsize got = 0;
	while (got < sizeof request - 1) {
		ssize_t n = recv(fd, request + got, sizeof request - 1 - got, 0);
		if (n <= 0)
			break;
		got += (gsize) n;
		request[got] = '\0';
		if (strstr(request, "\r\n\r\n") != NULL || strstr(request, "\n\n") != NULL)
			break;
	}
	request[got] = '\0';
	g_autofree char *body = NULL;
	const char *status = "200 OK";
	if (g_str_has_prefix(request, "GET /metrics") || g_str_has_prefix(request, "GET / ")) {
		body = mw_stats_format();
	} else {
		status = "404 Not Found";
		body = g_strdup("see /metrics\n");
	}
	g_autofree char *head =
		g_strdup_printf("HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
				"Content-Length: %zu\r\nConnection: close\r\n\r\n",
				status, strlen(body));
	if (send(fd, head, strlen(head), MSG_NOSIGNAL) >= 0)
		(void) send(fd, body, strlen(body), MSG_NOSIGNAL);
	close(fd);
}

int
mw_master_run(MwConfig *config, const MwMasterOptions *options)
{
	g_autoptr(GError) error = NULL;
	if (!prepare_state_dir(config, &error)) {
		g_warning("%s", error != NULL ? error->message : "unknown error");
		mw_config_free(config);
		return 1;
	}
	GPtrArray *listeners = open_listeners(config, NULL, &error);
	if (listeners == NULL) {
		g_warning("%s", error != NULL ? error->message : "unknown error");
		mw_config_free(config);
		return 2;
	}
	if (!mw_pipeline_start(config, &error) || !drop_privileges(config, &error)) {
		g_warning("%s", error != NULL ? error->message : "unknown error");
		g_ptr_array_unref(listeners);
		mw_config_free(config);
		return 2;
	}
	int ready_fd = -1;
	if (options->daemonize && (ready_fd = daemonize(&error)) < 0) {
		g_warning("%s", error != NULL ? error->message : "unknown error");
		return 2;
	}
	if (options->pid_file != NULL) {
		g_autofree char *text = g_strdup_printf("%d\n", (int) getpid());
		if (!g_file_set_contents(options->pid_file, text, -1, &error)) {
			g_warning("cannot write pid file: %s", error->message);
			g_clear_error(&error);
		}
	}
	daemon_ready(ready_fd);

	/* block the signals we handle; ppoll() opens them in the loop */
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_master_signal;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	GArray *workers = g_array_new(FALSE, FALSE, sizeof(Worker));
	Slots *slots = mmap(NULL, sizeof(Slots), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			    -1, 0);
	if (slots == MAP_FAILED)
		slots = NULL;
	mw_stats_init();
	int metrics_fd = open_metrics(config);
	guint generation = 1;
	guint fast_deaths = 0;
	gint64 next_spawn = 0;
	gboolean ready = FALSE;
	/* configurations of older generations, freed when their last worker is gone */
	GPtrArray *old_gens = g_ptr_array_new();
	g_message("mailwarden %s started: %u worker(s), listening on %s, reinjecting to %s",
		  MW_VERSION, (guint) config->workers, config->listen[0], config->reinject);

	gboolean stopping = FALSE;
	for (;;) {
		/* top up the current generation */
		guint current = 0;
		for (guint i = 0; i < workers->len; i++)
			current += g_array_index(workers, Worker, i).generation == generation;
		gint64 now = g_get_monotonic_time();
		while (!stopping && current < (guint) config->workers && now >= next_spawn) {
			if (!spawn(workers, generation, config, listeners, slots)) {
				next_spawn = now + G_USEC_PER_SEC;
				break;
			}
			current++;
		}
		mw_stats_set_workers(workers->len);
		if (!ready && !stopping) {
			ready = TRUE;
			sd_notifyf(0, "READY=1\nSTATUS=%u worker(s), listening on %s\nMAINPID=%d",
				   current, config->listen[0], (int) getpid());
		}
		free_finished_generations(old_gens, workers);
		if (stopping && workers->len == 0)
			break;

		if (!got_chld && !got_hup && !got_term) {
			/* sleep until a signal, a metrics request, or the respawn delay */
			struct timespec ts;
			struct timespec *timeout = NULL;
			if (!stopping && current < (guint) config->workers) {
				gint64 wait = MAX(next_spawn - g_get_monotonic_time(), 0);
				ts.tv_sec = wait / G_USEC_PER_SEC;
				ts.tv_nsec = (wait % G_USEC_PER_SEC) * 1000;
				timeout = &ts;
			}
			struct pollfd pfd = {.fd = metrics_fd, .events = POLLIN};
			int n = ppoll(&pfd, metrics_fd >= 0 ? 1 : 0, timeout, &old);
			if (n > 0 && (pfd.revents & POLLIN))
				serve_metrics(config, metrics_fd);
		}
		if (got_chld) {
			got_chld = 0;
			reap(workers, slots, stopping, &fast_deaths, &next_spawn);
		}
		if (got_hup && !stopping) {
			got_hup = 0;
			sd_notify(0, "RELOADING=1");
			g_autoptr(GError) reload_error = NULL;
			MwConfig *fresh = mw_config_load(options->config_path, options->overrides,
							 &reload_error);
			GPtrArray *fresh_listeners = NULL;
			if (fresh != NULL && prepare_state_dir(fresh, &reload_error))
				fresh_listeners = open_listeners(fresh, listeners, &reload_error);
			if (fresh_listeners != NULL && !mw_pipeline_start(fresh, &reload_error))
				g_clear_pointer(&fresh_listeners, g_ptr_array_unref);
			if (fresh_listeners == NULL) {
				g_warning("reload failed, keeping the running configuration: %s",
					  reload_error != NULL ? reload_error->message
							       : "unknown error");
				if (fresh != NULL)
					mw_config_free(fresh);
			} else {
				/* old workers finish their connection; new ones take over */
				signal_workers(workers, generation, SIGTERM);
				OldGen *gen = g_new0(OldGen, 1);
				gen->generation = generation;
				gen->config = config;
				g_ptr_array_add(old_gens, gen);
				if (g_strcmp0(fresh->metrics, config->metrics) != 0)
					g_warning("a new metrics address takes a restart; still %s",
						  config->metrics);
				config = fresh;
				g_ptr_array_unref(listeners);
				listeners = fresh_listeners;
				generation++;
				fast_deaths = 0;
				next_spawn = 0;
				g_message("configuration reloaded: generation %u, %u worker(s)",
					  generation, (guint) config->workers);
			}
			sd_notify(0, "READY=1");
		}
		if (got_term && !stopping) {
			got_term = 0;
			stopping = TRUE;
			sd_notify(0, "STOPPING=1");
			g_message("stopping: waiting for %u worker(s) to finish", workers->len);
			signal_workers(workers, G_MAXUINT, SIGTERM);
		}
	}
	g_message("stopped");
	if (options->pid_file != NULL)
		(void) g_unlink(options->pid_file);
	g_array_unref(workers);
	if (slots != NULL)
		munmap(slots, sizeof(Slots));
	g_ptr_array_unref(listeners);
	free_finished_generations(old_gens, workers);
	g_ptr_array_unref(old_gens);
	if (metrics_fd >= 0)
		close(metrics_fd);
	mw_config_free(config);
	return 0;
}
