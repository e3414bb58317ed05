/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-spam-dns - SPF and DNS blocklists against a real DNS server
 * DESCRIPTION
 *	libspf2 resolves through the system resolver, which reads only
 *	/etc/resolv.conf. So main() moves this process into a private network
 *	and mount namespace (unshare(2): needs root, as CI runs), brings its
 *	loopback up, bind-mounts a resolv.conf saying "nameserver 127.0.0.1"
 *	over /etc/resolv.conf (only this process and its children see it) and
 *	starts dnsmasq on 127.0.0.1:53 inside that namespace, serving:
 *	  pass.example  TXT "v=spf1 ip4:192.0.2.10 -all"
 *	  soft.example  TXT "v=spf1 ~all"
 *	  fail.example  TXT "v=spf1 ip4:198.51.100.1 -all"
 *	  66.2.0.192.bl.test   A 127.0.0.2    (192.0.2.66 listed in bl.test)
 *	  66.2.0.192.bl2.test  A 127.0.0.4
 *	  down.example, dead.test: forwarded to a UDP socket of this process that
 *	    never answers (a DNS server that is down: the resolver times out)
 *	Nothing leaves the namespace, and the machine's resolver is untouched.
 *	The tests run the pipeline in-process, and once through the real
 *	daemon (XFORWARD from the test client, the message read back from the
 *	test sink). dnsmasq's query log proves the lookups went to it.
 *	dnsmasq is stopped by pid at the end, and dies with this process
 *	(PR_SET_PDEATHSIG) if it is killed. Without root the suite is skipped
 *	(exit 77).
 */
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mw-test-util.h"
#include "spam-test-util.h"

static char *ns_dir; /* resolv.conf, dnsmasq's log */
static char *dns_log;
static char *tmp_dir; /* per test */
static const char *const bob[] = {"bob@example.org", NULL};

static void
setup(void)
{
	tmp_dir = g_dir_make_tmp("mw-spam-dns-XXXXXX", NULL);
}

static void
teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp_dir);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&tmp_dir, g_free);
}

static const char *
plain_message(void)
{
	return "From: a@example.net\r\nTo: bob@example.org\r\nSubject: hello\r\n"
	       "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <x@y>\r\n\r\nHi Bob\r\n";
}

START_TEST(test_spf_results)
{
	static const struct {
		const char *sender;
		const char *addr;
		const char *result;
		const char *note;
	} cases[] = {
		{"a@pass.example", "192.0.2.10", "pass", "-0.5/clean"},
		{"a@fail.example", "192.0.2.10", "fail", "3.0/tagged"},
		{"a@soft.example", "192.0.2.10", "softfail", "1.0/clean"},
		{"a@nothing.example", "192.0.2.10", "none", "0.0/clean"},
		{"a@down.example", "192.0.2.10", "temperror", "0.0/clean"},
		{"a@pass.example", "IPv6:2001:db8::5", "fail", "3.0/tagged"},
	};
	g_autoptr(MwConfig) config = stu_load(tmp_dir, "rules =\nbayes = false\n", NULL);
	ck_assert_ptr_nonnull(config);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(MwTxn) txn = stu_run(config, plain_message(), cases[i].sender, bob,
					       cases[i].addr, "mx.test");
		ck_assert_msg(g_strcmp0(stu_note(txn), cases[i].note) == 0, "%s: note %s",
			      cases[i].sender, stu_note(txn));
		g_autofree char *out = stu_delivered(txn, 1);
		g_autofree char *spf = stu_header(out, "Received-SPF");
		ck_assert_msg(spf != NULL && g_str_has_prefix(spf, cases[i].result), "%s: %s",
			      cases[i].sender, spf);
		/* RFC 7208 §9.1 fields */
		g_autofree char *ip = g_strdup_printf(
			"client-ip=%s;",
			cases[i].addr + (g_str_has_prefix(cases[i].addr, "IPv6:") ? 5 : 0));
		ck_assert_msg(strstr(spf, ip) != NULL, "%s", spf);
		g_autofree char *from = g_strdup_printf("envelope-from=%s;", cases[i].sender);
		ck_assert_msg(strstr(spf, from) != NULL, "%s", spf);
		ck_assert_msg(strstr(spf, "receiver=mw.test;") != NULL, "%s", spf);
		ck_assert_msg(strstr(spf, "helo=mx.test;") != NULL, "%s", spf);
		ck_assert_msg(strstr(spf, "identity=mailfrom;") != NULL, "%s", spf);
	}
	g_autoptr(MwTxn) tagged =
		stu_run(config, plain_message(), "a@fail.example", bob, "192.0.2.10", "mx.test");
	g_autofree char *out = stu_delivered(tagged, 1);
	g_autofree char *status = stu_header(out, "X-Spam-Status");
	ck_assert_str_eq(status, "No, score=3.0 required=6.0 tests=SPF_FAIL");
}
END_TEST

START_TEST(test_spf_scores_and_off)
{
	g_autoptr(MwConfig) config =
		stu_load(tmp_dir, "rules =\nbayes = false\nspf_fail_score = 7.5\n", NULL);
	g_autoptr(MwTxn) txn =
		stu_run(config, plain_message(), "a@fail.example", bob, "192.0.2.10", "mx.test");
	ck_assert_str_eq(stu_note(txn), "7.5/spam");
	/* spf = false: no lookup, no header, the bytes unchanged */
	g_autoptr(MwConfig) off = stu_load(tmp_dir, "rules =\nbayes = false\nspf = false\n", NULL);
	g_autoptr(MwTxn) none =
		stu_run(off, plain_message(), "a@fail.example", bob, "192.0.2.10", "mx.test");
	ck_assert_str_eq(stu_note(none), "0.0/clean");
	g_autofree char *out = stu_delivered(none, 1);
	ck_assert_str_eq(out, plain_message());
	/* a trusted client (loopback by default) is not checked either */
	g_autoptr(MwTxn) local =
		stu_run(config, plain_message(), "a@fail.example", bob, "127.0.0.1", "localhost");
	ck_assert_str_eq(stu_note(local), "0.0/clean");
	/* a null sender is checked as postmaster@HELO */
	g_autoptr(MwTxn) bounce =
		stu_run(config, plain_message(), "", bob, "192.0.2.10", "fail.example");
	ck_assert_str_eq(stu_note(bounce), "7.5/spam");
}
END_TEST

START_TEST(test_dnsbl)
{
	g_autoptr(MwConfig) config =
		stu_load(tmp_dir,
			 "rules =\nbayes = false\nspf = false\ndns_timeout = 1\n"
			 "dnsbl = bl.test:4.5, bl2.test, dead.test:9\n",
			 NULL);
	g_autoptr(MwTxn) listed =
		stu_run(config, plain_message(), "a@example.net", bob, "192.0.2.66", "mx.test");
	ck_assert_str_eq(stu_note(listed), "7.5/spam");
	g_autofree char *out = stu_delivered(listed, 1);
	g_autofree char *status = stu_header(out, "X-Spam-Status");
	ck_assert_str_eq(status,
			 "Yes, score=7.5 required=6.0 tests=RCVD_IN_BL2_TEST,RCVD_IN_BL_TEST");
	g_autoptr(MwTxn) clean =
		stu_run(config, plain_message(), "a@example.net", bob, "192.0.2.10", "mx.test");
	ck_assert_str_eq(stu_note(clean), "0.0/clean");
	/* the lookups really went to dnsmasq */
	g_autofree char *log = NULL;
	ck_assert(g_file_get_contents(dns_log, &log, NULL, NULL));
	ck_assert_msg(strstr(log, "66.2.0.192.bl.test") != NULL, "dnsmasq log:\n%s", log);
	ck_assert_msg(strstr(log, "10.2.0.192.bl2.test") != NULL, "dnsmasq log:\n%s", log);
}
END_TEST

START_TEST(test_daemon_end_to_end)
{
	static const char *const rcpts[] = {"bob@example.org", NULL};
	g_autoptr(GBytes) msg = mwt_message("hello", NULL);
	mwt_start(2, "modules = spam", "[spam]\nrules =\nbayes = false\ndnsbl = bl.test:4.5\n");
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO postfix.test");
	mwt_smtp_ok(s, "XFORWARD NAME=spam.example ADDR=192.0.2.66 HELO=mx.fail.example");
	mwt_smtp_ok(s, "XFORWARD IDENT=4SPAMQID1");
	ck_assert_int_eq(mwt_smtp_message(s, "x@fail.example", NULL, rcpts, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	g_autoptr(GBytes) got = mwt_sink_message(1);
	g_autofree char *spf = mwt_header(got, "Received-SPF");
	g_autofree char *status = mwt_header(got, "X-Spam-Status");
	g_autofree char *flag = mwt_header(got, "X-Spam-Flag");
	g_autofree char *subject = mwt_header(got, "Subject");
	ck_assert_msg(spf != NULL && g_str_has_prefix(spf, "fail"), "Received-SPF: %s", spf);
	ck_assert_msg(g_strcmp0(status,
				"Yes, score=7.5 required=6.0 tests=RCVD_IN_BL_TEST,SPF_FAIL") == 0,
		      "X-Spam-Status: %s", status);
	ck_assert_str_eq(flag, "YES");
	ck_assert_str_eq(subject, "***SPAM*** hello");
	g_autofree char *line = mwt_log_wait(5000, "4SPAMQID1", "spam=7.5/spam", NULL);
	ck_assert_msg(line != NULL, "no summary line with spam=7.5/spam:\n%s", mwt_log_text());
}
END_TEST

/* enter_namespace - private net + mount namespace, lo up, our resolv.conf; FALSE if not allowed */
static gboolean
enter_namespace(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
		fprintf(stderr, "test-spam-dns: unshare: %s (needs root)\n", g_strerror(errno));
		return FALSE;
	}
	/* our mounts must not propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return FALSE;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	g_strlcpy(ifr.ifr_name, "lo", sizeof ifr.ifr_name);
	gboolean up = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	up = up && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	close(fd);
	if (!up)
		return FALSE;
	g_autofree char *resolv = g_build_filename(ns_dir, "resolv.conf", NULL);
	if (!g_file_set_contents(resolv, "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n", -1,
				 NULL))
		return FALSE;
	return mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL) == 0;
}

/* dns_ready - dnsmasq answers the TXT of pass.example */
static gboolean
dns_ready(void)
{
	for (int i = 0; i < 50; i++) {
		guint8 answer[512];
		res_init();
		if (res_query("pass.example", ns_c_in, ns_t_txt, answer, sizeof answer) > 0)
			return TRUE;
		g_usleep(100000);
	}
	return FALSE;
}

int
main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test-spam-dns: skipped: needs root for its network namespace\n");
		return 77;
	}
	ns_dir = g_dir_make_tmp("mw-spam-ns-XXXXXX", NULL);
	dns_log = g_build_filename(ns_dir, "dnsmasq.log", NULL);
	if (!enter_namespace()) {
		fprintf(stderr, "test-spam-dns: cannot set up the namespace: %s\n",
			g_strerror(errno));
		return 1;
	}
	g_autofree char *pid_file = g_build_filename(ns_dir, "dnsmasq.pid", NULL);
	g_autofree char *pid_arg = g_strdup_printf("--pid-file=%s", pid_file);
	g_autofree char *log_arg = g_strdup_printf("--log-facility=%s", dns_log);
	const char *argv[] = {"dnsmasq",
			      "--keep-in-foreground",
			      "--conf-file=/dev/null",
			      "--no-resolv",
			      "--no-hosts",
			      "--no-poll",
			      "--bind-interfaces",
			      "--listen-address=127.0.0.1",
			      "--port=53",
			      "--user=root",
			      pid_arg,
			      log_arg,
			      "--log-queries",
			      "--local=/example/",
			      "--local=/test/",
			      "--server=/down.example/127.0.0.1#5999",
			      "--server=/dead.test/127.0.0.1#5999",
			      "--txt-record=pass.example,v=spf1 ip4:192.0.2.10 -all",
			      "--txt-record=soft.example,v=spf1 ~all",
			      "--txt-record=fail.example,v=spf1 ip4:198.51.100.1 -all",
			      "--host-record=66.2.0.192.bl.test,127.0.0.2",
			      "--host-record=66.2.0.192.bl2.test,127.0.0.4",
			      NULL};
	g_autofree char *out_log = g_build_filename(ns_dir, "dnsmasq.out", NULL);
	/* the "down" server: bound, never read, so queries time out */
	int silent = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(5999)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (silent < 0 || bind(silent, (struct sockaddr *) &sin, sizeof sin) != 0) {
		fprintf(stderr, "test-spam-dns: cannot bind the silent server: %s\n",
			g_strerror(errno));
		return 1;
	}
	pid_t dnsmasq = stu_spawn(argv, out_log);
	int failed = 1;
	if (!dns_ready()) {
		g_autofree char *text = NULL;
		g_file_get_contents(out_log, &text, NULL, NULL);
		fprintf(stderr, "test-spam-dns: dnsmasq does not answer:\n%s\n", text);
	} else {
		g_mime_init();
		Suite *s = suite_create("spam-dns");
		TCase *tc = tcase_create("inprocess");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, test_spf_results);
		tcase_add_test(tc, test_spf_scores_and_off);
		tcase_add_test(tc, test_dnsbl);
		suite_add_tcase(s, tc);
		TCase *daemon = mwt_tcase("daemon", 60);
		tcase_add_test(daemon, test_daemon_end_to_end);
		suite_add_tcase(s, daemon);
		SRunner *sr = srunner_create(s);
		srunner_run_all(sr, CK_ENV);
		failed = srunner_ntests_failed(sr);
		srunner_free(sr);
		g_mime_shutdown();
	}
	stu_stop(dnsmasq);
	close(silent);
	umount("/etc/resolv.conf");
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", ns_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", ns_dir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
