"""Bounce mailbox samples shaped as Postfix and the large providers send them."""

from __future__ import annotations


def dsn(verp: str, recipient: str, status: str, diagnostic: str, action: str = "failed") -> bytes:
    """A Postfix delivery status notification (RFC 3464 in RFC 6522's multipart/report)."""
    return f"""Return-Path: <>
Delivered-To: {verp}
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {verp}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F1C23.1733456789/mx.example.net"
Message-Id: <20261206.4F1C23@mx.example.net>

This is a MIME-encapsulated message.

--4F1C23.1733456789/mx.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: host mail.example.com[192.0.2.7] said: {diagnostic}

--4F1C23.1733456789/mx.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 4F1C23
X-Postfix-Sender: rfc822; {verp}
Arrival-Date: Sun,  6 Dec 2026 09:00:01 +0000 (UTC)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.example.com
Diagnostic-Code: smtp; {diagnostic}

--4F1C23.1733456789/mx.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{verp}>
From: ITU Academy <academy@example.org>
To: {recipient}
Subject: A course for you

--4F1C23.1733456789/mx.example.net--
""".replace("\n", "\r\n").encode()


def arf(verp: str, feedback: str = "abuse") -> bytes:
    """A feedback report (RFC 5965) whose returned message has its recipient redacted."""
    return f"""From: feedbackloop@provider.example
To: {verp}
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part1"

--part1
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP 192.0.2.1.

--part1
Content-Type: message/feedback-report

Feedback-Type: {feedback}
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <{verp}>
Original-Rcpt-To: <redacted@provider.example>
Arrival-Date: Sun, 6 Dec 2026 09:00:00 +0000
Source-IP: 192.0.2.1

--part1
Content-Type: text/rfc822-headers

Return-Path: <{verp}>
From: ITU Academy <academy@example.org>
To: <redacted@provider.example>
Subject: A course for you

--part1--
""".replace("\n", "\r\n").encode()


def auto_reply(verp: str) -> bytes:
    """A vacation notice (RFC 3834): not a bounce."""
    return f"""From: wei@example.org
To: {verp}
Subject: Out of office: A course for you
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=utf-8

I am away until Monday.
""".replace("\n", "\r\n").encode()
