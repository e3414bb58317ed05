#!/usr/bin/env python3
"""soak-client.py - a steady stream of mixed mail for bench/run-soak.sh.

    soak-client.py PORT SECONDS RATE CLIENTS STATUS_FILE ACCEPTED_FILE

CLIENTS threads send, together, RATE messages a second for SECONDS seconds to 127.0.0.1:PORT,
each message with its own queue id (XFORWARD IDENT=Snnnnnnnn) so that mailwarden's summary line
for it can be found. The mix, per 200 messages:

    110 clean (multipart text + HTML, about 4 KiB; some with two recipients, one of them with a key)
     10 spam (GTUBE)                          6 viruses (EICAR)      4 banned attachments (.exe)
     20 invitations to a resource (a pool of 300 event UIDs on 300 slots: bookings, updates, declines)
     20 invitations to a user with a policy (the same pool)
     16 for a recipient with a PGP key        13 malformed or ambiguous MIME
      1 message of 1 MiB

and once every 500 messages a connection that sends garbage commands (NUL bytes, a 100 KB line,
unknown verbs) and must get error replies, not a dropped connection.

A message answered 4xx is sent again (same queue id) a second later, up to 20 times; 5xx and
connection failures are counted. Every second STATUS_FILE gets the counters
"sent accepted tempfail rejected conn_errors garbage_sessions garbage_failures"; ACCEPTED_FILE
gets one queue id per message answered 250. The exit status is 0 when every message was
eventually answered 250 and every garbage session was answered.
"""

import os
import random
import smtplib
import socket
import sys
import threading
import time

PORT, SECONDS, RATE, CLIENTS = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
STATUS_FILE, ACCEPTED_FILE = sys.argv[5], sys.argv[6]

SENDER = "olga@partner.test"
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
PARAGRAPH = ("The quarterly figures are attached; revenue is up in every region except the north, "
             "where the new warehouse opened late. Please send comments before Friday.\r\n")
B64_LINE = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\r\n"


def headers(qid, rcpt, subject, extra=""):
    return ("From: Olga Partner <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <%s@partner.test>\r\nMIME-Version: 1.0\r\n%s") % (SENDER, rcpt, subject, qid, extra)


def clean(qid, rcpt):
    text = PARAGRAPH * 12
    html = "<html><body>" + "<p>%s</p>" % PARAGRAPH.strip() * 10 + "</body></html>\r\n"
    return (headers(qid, rcpt, "report " + qid,
                    'Content-Type: multipart/alternative; boundary="alt-%s"\r\n\r\n' % qid) +
            "--alt-%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s"
            "--alt-%s\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n%s--alt-%s--\r\n" %
            (qid, text, qid, html, qid))


def spam(qid, rcpt):
    return headers(qid, rcpt, "cheap offer", "Content-Type: text/plain\r\n\r\n") + GTUBE + "\r\n"


def virus(qid, rcpt):
    return headers(qid, rcpt, "invoice", "Content-Type: text/plain\r\n\r\n") + EICAR + "\r\n"


def banned(qid, rcpt):
    return (headers(qid, rcpt, "invoice", 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n') +
            "--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--b\r\n"
            "Content-Type: application/octet-stream; name=\"invoice.pdf.exe\"\r\n"
            "Content-Disposition: attachment; filename=\"invoice.pdf.exe\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + B64_LINE * 4 + "--b--\r\n")


def invitation(qid, rcpt, rnd):
    slot = rnd.randrange(300)
    uid = rnd.randrange(300)
    start = time.gmtime(1830297600 + (slot // 10) * 86400 + (8 + slot % 10) * 3600)
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//soak//EN\r\nMETHOD:REQUEST\r\n"
           "BEGIN:VEVENT\r\nUID:soak-%d\r\nSEQUENCE:%d\r\nDTSTAMP:20261122T080000Z\r\n"
           "DTSTART:%s\r\nDURATION:PT1H\r\nSUMMARY:Soak meeting %d\r\nORGANIZER:mailto:%s\r\n"
           "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;ROLE=REQ-PARTICIPANT:mailto:%s\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n") % (
               uid, rnd.randrange(3), time.strftime("%Y%m%dT%H%M%SZ", start), uid, SENDER, rcpt)
    return (headers(qid, rcpt, "Invitation: soak meeting",
                    'Content-Type: multipart/alternative; boundary="inv"\r\n\r\n') +
            "--inv\r\nContent-Type: text/plain\r\n\r\nYou are invited.\r\n--inv\r\n"
            "Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n" + ics + "--inv--\r\n")


def malformed(qid, rcpt, k):
    """broken or ambiguous MIME, one of several kinds"""
    kind = k % 7
    if kind == 0:  # the closing boundary is missing, the message ends inside a part
        return (headers(qid, rcpt, "cut", 'Content-Type: multipart/mixed; boundary="x"\r\n\r\n') +
                "--x\r\nContent-Type: text/plain\r\n\r\nno end\r\n--x\r\nContent-Type: text/plain\r\n\r\ncut")
    if kind == 1:  # NUL bytes and 8-bit header text
        return headers(qid, rcpt, "null \xe9t\xe9", "Content-Type: text/plain\r\n\r\n") + "a\0b\0c\r\n"
    if kind == 2:  # invalid base64 and quoted-printable
        return (headers(qid, rcpt, "bad encodings", 'Content-Type: multipart/mixed; boundary="e"\r\n\r\n') +
                "--e\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!*&^%$\r\n"
                "--e\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n"
                "--e--\r\n")
    if kind == 3:  # duplicate Content-Type: ambiguous
        return (headers(qid, rcpt, "ambiguous", 'Content-Type: text/plain\r\n'
                        'Content-Type: multipart/mixed; boundary="amb"\r\n\r\n') +
                "--amb\r\nContent-Type: text/plain\r\n\r\nhidden\r\n--amb--\r\n")
    if kind == 4:  # 60 nesting levels
        depth = 60
        body = "".join('--n%d\r\nContent-Type: multipart/mixed; boundary="n%d"\r\n\r\n' % (i, i + 1)
                       for i in range(depth))
        body += "--n%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" % depth
        body += "".join("--n%d--\r\n" % i for i in range(depth, -1, -1))
        return headers(qid, rcpt, "deep", 'Content-Type: multipart/mixed; boundary="n0"\r\n\r\n') + body
    if kind == 5:  # unknown charset, a 20 KB header line
        return (headers(qid, rcpt, "x" * 20000, "Content-Type: text/plain; charset=x-unknown-42\r\n\r\n") +
                "caf\xe9\r\n")
    return "this is not a message at all\r\n\r\n\r\n"  # no header block


def big(qid, rcpt):
    return (headers(qid, rcpt, "big attachment", 'Content-Type: multipart/mixed; boundary="big"\r\n\r\n') +
            "--big\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--big\r\n"
            "Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            B64_LINE * 13000 + "--big--\r\n")


def make(n):
    """message number n: (queue id, recipients, bytes)"""
    rnd = random.Random(n)
    qid = "S%08d" % n
    k = n % 200
    if k < 110:
        rcpts = ["carol@example.org"] + (["bob@example.org"] if k % 11 == 0 else [])
        return qid, rcpts, clean(qid, rcpts[0])
    if k < 120:
        return qid, ["carol@example.org"], spam(qid, "carol@example.org")
    if k < 126:
        return qid, ["carol@example.org"], virus(qid, "carol@example.org")
    if k < 130:
        return qid, ["carol@example.org"], banned(qid, "carol@example.org")
    if k < 150:
        return qid, ["room101@example.org"], invitation(qid, "room101@example.org", rnd)
    if k < 170:
        return qid, ["alice@example.org"], invitation(qid, "alice@example.org", rnd)
    if k < 186:
        return qid, ["bob@example.org"], clean(qid, "bob@example.org")
    if k < 199:
        return qid, ["carol@example.org"], malformed(qid, "carol@example.org", n // 200 + k)
    return qid, ["carol@example.org"], big(qid, "carol@example.org")


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = self.accepted = self.tempfail = self.rejected = self.conn_errors = 0
        self.garbage = self.garbage_failures = 0
        self.accepted_ids = []

    def line(self):
        with self.lock:
            return "%d %d %d %d %d %d %d\n" % (self.sent, self.accepted, self.tempfail, self.rejected,
                                                self.conn_errors, self.garbage, self.garbage_failures)


C = Counters()
NEXT = [0]
NEXT_LOCK = threading.Lock()


def garbage_session():
    """garbage commands must get error replies; the session must stay usable"""
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=30) as s:
            f = s.makefile("rb")
            assert f.readline().startswith(b"220")
            for cmd in (b"\0\0\xff\xfe garbage\r\n", b"FOO BAR\r\n", b"MAIL FROM:" + b"A" * 100000 + b"\r\n",
                        b"RCPT TO:<x@example.org>\r\n", b"DATA\r\n"):
                s.sendall(cmd)
                reply = f.readline()
                if not reply[:1] in (b"5",):
                    raise RuntimeError("garbage command answered %r" % reply[:40])
                while reply[3:4] == b"-":
                    reply = f.readline()
            s.sendall(b"NOOP\r\n")
            if not f.readline().startswith(b"250"):
                raise RuntimeError("NOOP after garbage not answered 250")
            s.sendall(b"QUIT\r\n")
            f.readline()
        with C.lock:
            C.garbage += 1
    except Exception as e:  # noqa: BLE001 - any failure is counted and shown
        with C.lock:
            C.garbage += 1
            C.garbage_failures += 1
        print("garbage session: %s" % e, file=sys.stderr)


def connect():
    s = smtplib.SMTP("127.0.0.1", PORT, timeout=120)
    s.ehlo("soak.client.test")
    return s


def send_one(conn, qid, rcpts, data):
    """returns (conn, outcome) where outcome is 'ok', 'temp', 'perm' or 'conn'"""
    try:
        if conn is None:
            conn = connect()
        code, _ = conn.docmd("XFORWARD", "IDENT=%s" % qid)
        if code != 250:
            raise smtplib.SMTPResponseException(code, b"XFORWARD")
        refused = conn.sendmail(SENDER, rcpts, data.encode("latin-1"))
        if refused:
            return conn, "temp" if all(c // 100 == 4 for c, _ in refused.values()) else "perm"
        return conn, "ok"
    except smtplib.SMTPRecipientsRefused as e:
        codes = [c for c, _ in e.recipients.values()]
        outcome = "temp" if all(c // 100 == 4 for c in codes) else "perm"
    except smtplib.SMTPResponseException as e:
        outcome = "temp" if e.smtp_code // 100 == 4 else "perm"
    except (smtplib.SMTPException, OSError):
        outcome = "conn"
    try:
        if conn is not None:
            conn.rset()
    except (smtplib.SMTPException, OSError):
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass
        conn = None
    return conn, outcome


def worker(start, end):
    conn = None
    while True:
        with NEXT_LOCK:
            n = NEXT[0]
            NEXT[0] += 1
        due = start + n / RATE
        if due >= end:
            break
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if n % 500 == 250:
            garbage_session()
        qid, rcpts, data = make(n)
        with C.lock:
            C.sent += 1
        for attempt in range(21):
            conn, outcome = send_one(conn, qid, rcpts, data)
            if outcome == "ok":
                with C.lock:
                    C.accepted += 1
                    C.accepted_ids.append(qid)
                break
            with C.lock:
                if outcome == "temp":
                    C.tempfail += 1
                elif outcome == "perm":
                    C.rejected += 1
                else:
                    C.conn_errors += 1
            if outcome == "perm" or attempt == 20:
                print("%s: %s after %d attempt(s)" % (qid, outcome, attempt + 1), file=sys.stderr)
                break
            time.sleep(1)
    if conn is not None:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            pass


def main():
    start = time.monotonic()
    end = start + SECONDS
    threads = [threading.Thread(target=worker, args=(start, end), daemon=True) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        with open(STATUS_FILE + ".new", "w") as f:
            f.write(C.line())
        os.replace(STATUS_FILE + ".new", STATUS_FILE)
        time.sleep(1)
    with open(STATUS_FILE, "w") as f:
        f.write(C.line())
    with open(ACCEPTED_FILE, "w") as f:
        f.write("\n".join(sorted(C.accepted_ids)) + "\n")
    ok = C.accepted == C.sent and C.garbage_failures == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
