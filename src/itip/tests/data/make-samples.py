import base64, quopri, textwrap
def crlf(s): return s.replace('\r\n','\n').replace('\n','\r\n')
def b64(s):
    e=base64.b64encode(s.encode()).decode()
    return '\n'.join(textwrap.wrap(e,76))
def qp(s): return quopri.encodestring(s.encode()).decode()

outlook_ics = """BEGIN:VCALENDAR
METHOD:REQUEST
PRODID:Microsoft Exchange Server 2010
VERSION:2.0
BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
ORGANIZER;CN=Alice Organizer:mailto:alice@example.org
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Bob:mailto:bob@example.org
ATTENDEE;CUTYPE=RESOURCE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Room 101:mailto:Room101@Example.org
DESCRIPTION;LANGUAGE=en-US:Quarterly planning\\n
UID:040000008200E00074C5B7101A82E00800000000B0A1C2D3E4F5A601000000000000000010000000A1B2C3D4E5F6
SUMMARY;LANGUAGE=en-US:Quarterly planning
DTSTART;TZID=W. Europe Standard Time:20260715T100000
DTEND;TZID=W. Europe Standard Time:20260715T113000
CLASS:PUBLIC
PRIORITY:5
DTSTAMP:20260701T080000Z
TRANSP:OPAQUE
STATUS:CONFIRMED
SEQUENCE:0
LOCATION;LANGUAGE=en-US:Room 101
X-MICROSOFT-CDO-APPT-SEQUENCE:0
X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE
X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY
X-MICROSOFT-DISALLOW-COUNTER:FALSE
BEGIN:VALARM
DESCRIPTION:REMINDER
TRIGGER;RELATED=START:-PT15M
ACTION:DISPLAY
END:VALARM
END:VEVENT
END:VCALENDAR
"""
outlook = """Received: from EXCH01.example.org (10.0.0.5) by EXCH01.example.org
From: Alice Organizer <alice@example.org>
To: Bob <bob@example.org>, Room 101 <Room101@Example.org>
Subject: Quarterly planning
Thread-Topic: Quarterly planning
Date: Wed, 1 Jul 2026 08:00:00 +0000
Message-ID: <AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>
Accept-Language: en-US
Content-Language: en-US
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
MIME-Version: 1.0
Content-Type: multipart/alternative;
	boundary="_000_AM0PR01MB1234_"

--_000_AM0PR01MB1234_
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Quarterly planning

--_000_AM0PR01MB1234_
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

<html><body><p>Quarterly planning</p></body></html>

--_000_AM0PR01MB1234_
Content-Type: text/calendar; charset="utf-8"; method=REQUEST
Content-Transfer-Encoding: base64

""" + b64(crlf(outlook_ics)) + """

--_000_AM0PR01MB1234_--
"""
open('outlook-request.eml','w').write(crlf(outlook))

google_ics = """BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:REQUEST
BEGIN:VEVENT
DTSTART:20260716T120000Z
DTEND:20260716T130000Z
DTSTAMP:20260701T090000Z
ORGANIZER;CN=carol@gmail.example:mailto:carol@gmail.example
UID:7kukuqrfedlm2f9t0vsdnb9ks0@google.com
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE
 ;CN=carol@gmail.example;X-NUM-GUESTS=0:mailto:carol@gmail.example
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=
 TRUE;CN=room101@example.org;X-NUM-GUESTS=0:mailto:room101@example.org
X-MICROSOFT-CDO-OWNERAPPTID:-1903427328
CREATED:20260701T085959Z
DESCRIPTION:-::~:~::~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~
 :~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~::~:~::-\\nInvitation from
  Google Calendar
LAST-MODIFIED:20260701T090000Z
LOCATION:
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Lunch talk
TRANSP:OPAQUE
END:VEVENT
END:VCALENDAR
"""
google = """From: Carol <carol@gmail.example>
To: room101@example.org
Subject: Invitation: Lunch talk @ Thu Jul 16, 2026 12pm - 1pm (UTC) (room101@example.org)
Date: Wed, 01 Jul 2026 09:00:00 +0000
Message-ID: <000000000000a1b2c3d4e5f6@google.com>
Reply-To: Carol <carol@gmail.example>
Sender: Google Calendar <calendar-notification@google.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="000000000000mixed"

--000000000000mixed
Content-Type: multipart/alternative; boundary="000000000000alt"

--000000000000alt
Content-Type: text/plain; charset="UTF-8"; format=flowed; delsp=yes
Content-Transfer-Encoding: base64

""" + b64("You have been invited to the following event.\nLunch talk\n") + """

--000000000000alt
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<span>Lunch talk</span>

--000000000000alt
Content-Type: text/calendar; charset="UTF-8"; method=REQUEST
Content-Transfer-Encoding: 7bit

""" + google_ics + """
--000000000000alt--

--000000000000mixed
Content-Type: application/ics; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"
Content-Transfer-Encoding: base64

""" + b64(crlf(google_ics)) + """

--000000000000mixed--
"""
open('google-request.eml','w').write(crlf(google))

tb_ics = """BEGIN:VCALENDAR
PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN
VERSION:2.0
METHOD:REQUEST
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
CREATED:20260701T100000Z
LAST-MODIFIED:20260701T100500Z
DTSTAMP:20260701T100500Z
UID:4f0b2d1e-7a6c-4b5e-9f3a-2c1d0e9f8a7b
SUMMARY:Wöchentliche Besprechung über Räume
ORGANIZER;RSVP=TRUE;CN=Dieter Müller;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:d
 ieter@example.org
ATTENDEE;RSVP=TRUE;CN=Room 101;PARTSTAT=NEEDS-ACTION;CUTYPE=ROOM;ROLE=REQ-P
 ARTICIPANT:mailto:room101@example.org
RRULE:FREQ=WEEKLY;BYDAY=MO
EXDATE;TZID=Europe/Berlin:20260803T090000
DTSTART;TZID=Europe/Berlin:20260720T090000
DTEND;TZID=Europe/Berlin:20260720T100000
TRANSP:OPAQUE
SEQUENCE:2
X-MOZ-SEND-INVITATIONS:TRUE
END:VEVENT
END:VCALENDAR
"""
tb = """From: =?UTF-8?Q?Dieter_M=c3=bcller?= <dieter@example.org>
To: Room 101 <room101@example.org>
Subject: =?UTF-8?Q?Einladung:_W=c3=b6chentliche_Besprechung?=
Date: Wed, 1 Jul 2026 12:05:00 +0200
Message-ID: <3b1f2e4a-aaaa-bbbb-cccc-123456789abc@example.org>
User-Agent: Mozilla Thunderbird
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="------------tb0123456789"

This is a multi-part message in MIME format.
--------------tb0123456789
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Einladung

--------------tb0123456789
Content-Type: text/calendar; charset=UTF-8; method=REQUEST
Content-Transfer-Encoding: quoted-printable

""" + qp(crlf(tb_ics)) + """
--------------tb0123456789--
"""
open('thunderbird-request.eml','w',encoding='utf-8').write(crlf(tb))

apple_ics = """BEGIN:VCALENDAR
METHOD:REQUEST
PRODID:-//Apple Inc.//macOS 14.5//EN
VERSION:2.0
BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
DTSTART:20070311T020000
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3
TZNAME:EDT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
END:DAYLIGHT
BEGIN:STANDARD
DTSTART:20071104T020000
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11
TZNAME:EST
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
ATTENDEE;CN="Projector 3";CUTYPE=RESOURCE;EMAIL="projector3@example.org";PART
 STAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:projector3@example.
 org
ATTENDEE;CN="Erin";CUTYPE=INDIVIDUAL;EMAIL="erin@example.org";PARTSTAT=ACCE
 PTED;ROLE=CHAIR:mailto:erin@example.org
CREATED:20260701T140000Z
DTEND;TZID=America/New_York:20260717T110000
DTSTAMP:20260701T140010Z
DTSTART;TZID=America/New_York:20260717T100000
LAST-MODIFIED:20260701T140010Z
ORGANIZER;CN="Erin";EMAIL="erin@example.org":mailto:erin@example.org
SEQUENCE:0
SUMMARY:Design review
TRANSP:OPAQUE
UID:A1B2C3D4-E5F6-4711-8888-0123456789AB
X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC
END:VEVENT
END:VCALENDAR
"""
apple = """From: Erin <erin@example.org>
Content-Type: multipart/mixed;
	boundary="Apple-Mail=_11111111-2222-3333-4444-555555555555"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))
Subject: Invitation: Design review
Date: Wed, 1 Jul 2026 10:00:10 -0400
Message-Id: <A1B2C3D4-0000-1111-2222-333344445555@example.org>
To: Projector 3 <projector3@example.org>

--Apple-Mail=_11111111-2222-3333-4444-555555555555
Content-Transfer-Encoding: 7bit
Content-Type: text/plain;
	charset=us-ascii

Erin has invited you to Design review.

--Apple-Mail=_11111111-2222-3333-4444-555555555555
Content-Disposition: attachment;
	filename=iCal-20260701-100010.ics
Content-Type: text/calendar;
	x-unix-mode=0644;
	name="iCal-20260701-100010.ics";
	method=REQUEST;
	charset=utf-8
Content-Transfer-Encoding: quoted-printable

""" + qp(crlf(apple_ics)) + """
--Apple-Mail=_11111111-2222-3333-4444-555555555555--
"""
open('apple-request.eml','w').write(crlf(apple))

rc_ics = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Roundcube 1.6.6//Sabre VObject 4.5.4//EN
CALSCALE:GREGORIAN
METHOD:REQUEST
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:20251026T010000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:20260329T010000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:8B3D62D2B4A1F6E0F3D8C1A9E7B5C3D1-6F2E8A1B4C7D9E0F
DTSTAMP:20260701T150000Z
CREATED:20260701T150000Z
LAST-MODIFIED:20260701T150000Z
DTSTART;VALUE=DATE:20260720
DTEND;VALUE=DATE:20260722
SUMMARY:Offsite workshop
SEQUENCE:0
TRANSP:OPAQUE
ATTENDEE;CN=Car Pool;CUTYPE=RESOURCE;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIP
 ANT;RSVP=TRUE:mailto:resource-collection-car@example.org
ORGANIZER;CN=Frank:mailto:frank@example.org
X-KOLAB-URL:https://kolab.example.org/
END:VEVENT
END:VCALENDAR
"""
rc = """MIME-Version: 1.0
Date: Wed, 01 Jul 2026 17:00:00 +0200
From: Frank <frank@example.org>
To: Car Pool <resource-collection-car@example.org>
Subject: Invitation: Offsite workshop
Message-ID: <4c5d6e7f8091a2b3c4d5e6f708192a3b@example.org>
X-Sender: frank@example.org
User-Agent: Roundcube Webmail/1.6.6
Content-Type: multipart/mixed;
 boundary="=_a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"

--=_a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain; charset=UTF-8

*Offsite workshop*

When: 2026-07-20 - 2026-07-21

--=_a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5
Content-Transfer-Encoding: quoted-printable
Content-Type: text/calendar; charset=UTF-8; method=REQUEST;
 name=event.ics
Content-Disposition: attachment;
 filename=event.ics;
 size=1234

""" + qp(crlf(rc_ics)) + """
--=_a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5--
"""
open('roundcube-request.eml','w').write(crlf(rc))

fwd = """From: Gina <gina@example.org>
To: room101@example.org
Subject: Fwd: Quarterly planning
Date: Thu, 2 Jul 2026 08:00:00 +0000
Message-ID: <fwd-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=us-ascii

See the attached invitation.

--outer
Content-Type: message/rfc822

""" + crlf(outlook) + """
--outer
Content-Type: text/calendar; charset=utf-8
Content-Transfer-Encoding: 7bit

BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
METHOD:PUBLISH
BEGIN:VEVENT
UID:no-method-parameter@example.org
DTSTAMP:20260701T080000Z
DTSTART:20260801T100000Z
DTEND:20260801T110000Z
SUMMARY:No method parameter
END:VEVENT
END:VCALENDAR

--outer--
"""
open('forwarded.eml','w').write(crlf(fwd))

cancel_ics = """BEGIN:VCALENDAR
METHOD:CANCEL
PRODID:Microsoft Exchange Server 2010
VERSION:2.0
BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
ORGANIZER;CN=Alice Organizer:mailto:alice@example.org
ATTENDEE;CUTYPE=RESOURCE;ROLE=REQ-PARTICIPANT;RSVP=TRUE;CN=Room 101:mailto:room101@example.org
UID:series-outlook-1
RECURRENCE-ID;TZID=W. Europe Standard Time:20260722T100000
SUMMARY:Canceled: Weekly sync
DTSTART;TZID=W. Europe Standard Time:20260722T100000
DTEND;TZID=W. Europe Standard Time:20260722T103000
DTSTAMP:20260710T080000Z
STATUS:CANCELLED
SEQUENCE:3
END:VEVENT
END:VCALENDAR
"""
cancel = """From: Alice Organizer <alice@example.org>
To: Room 101 <room101@example.org>
Subject: Canceled: Weekly sync
Date: Fri, 10 Jul 2026 08:00:00 +0000
Message-ID: <cancel-1@example.org>
MIME-Version: 1.0
Content-Type: text/calendar; charset="utf-8"; method=CANCEL
Content-Transfer-Encoding: base64

""" + b64(crlf(cancel_ics)) + "\n"
open('outlook-cancel-instance.eml','w').write(crlf(cancel))
