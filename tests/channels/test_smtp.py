"""The SMTP channel against a real aiosmtpd server on loopback.

Every test runs twice: with `send`, and with each `send` made through `send_stream` (one
message per stream), which drives the same transaction from the dispatcher's one thread.
Many messages in one stream: tests/channels/test_smtp_stream.py.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from channels.base import ChannelConfigError, DeliveryResult, DeliveryStatus, Message
from channels.registry import channel_class
from channels.smtp import SmtpChannel, SmtpOptions, classify
from channels.smtp_pool import SmtpFailure
from tests.channels.smtp_server import LineServer, SmtpTestServer, free_port

UNSUBSCRIBE = "<https://herald.example.org/u/T0KEN-abc_123>, <mailto:unsub@example.org?subject=u>"


@pytest.fixture(autouse=True, params=["send", "stream"])
def via(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "stream":
        def send_through_a_stream(self: SmtpChannel, message: Message) -> DeliveryResult:
            (sent,) = list(self.send_stream([("only", message)]))
            assert sent.key == "only"
            return sent.result

        monkeypatch.setattr(SmtpChannel, "send", send_through_a_stream)
    return str(request.param)


def email(n: int = 0, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "key": f"announce:C{n}:p{n}",
        "text": f"Course {n} opens soon.\nRegister before 1 March.",
        "html": f"<p>Course <b>{n}</b> opens soon.</p>",
        "subject": f"New course {n}",
        "to": f"user{n}@example.org",
        "to_name": "Ada Lovelace",
        "language": "fr",
        "headers": {
            "List-Unsubscribe": UNSUBSCRIBE,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }
    values.update(fields)
    return Message(**values)


def body(parsed: EmailMessage, subtype: str) -> str:
    """The decoded text of a part, line ends as in Python (the wire has CRLF)."""
    part = parsed.get_body((subtype,))
    assert isinstance(part, EmailMessage)
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def channel(server: SmtpTestServer, **overrides: Any) -> SmtpChannel:
    built = SmtpChannel.from_config("email", server.channel_options(**overrides))
    assert isinstance(built, SmtpChannel)
    return built


def test_registered_under_smtp() -> None:
    assert channel_class("smtp") is SmtpChannel
    assert SmtpChannel.kind == "email"


def test_multipart_message_arrives_with_each_header_once(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server) as ch:
        result = ch.send(email(1))
    assert result.status is DeliveryStatus.SENT, result.error
    (got,) = smtp_server.received
    assert got.mail_from == "academy@example.org"
    assert got.rcpt_tos == ("user1@example.org",)
    parsed = got.message()
    for name in ("Message-ID", "Date", "From", "To", "Subject", "Content-Language",
                 "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version"):  # fmt: skip
        assert len(parsed.get_all(name) or []) == 1, name
    assert parsed["Message-ID"] == result.provider_id
    assert str(parsed["Message-ID"]).endswith("@example.org>")
    assert parsed["From"] == "ITU Academy <academy@example.org>"
    assert parsed["To"] == "Ada Lovelace <user1@example.org>"
    assert parsed["Subject"] == "New course 1"
    assert parsed["Content-Language"] == "fr"
    assert parsed["List-Unsubscribe"] == UNSUBSCRIBE
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Date"].datetime.tzinfo is not None
    assert parsed.get_content_type() == "multipart/alternative"
    assert body(parsed, "plain") == "Course 1 opens soon.\nRegister before 1 March.\n"
    assert body(parsed, "html") == "<p>Course <b>1</b> opens soon.</p>\n"
    assert b"\r\n" in got.data and b"\n" not in got.data.replace(b"\r\n", b"")


def test_text_only_email_is_a_single_part(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server) as ch:
        assert ch.send(email(2, html=None)).status is DeliveryStatus.SENT
    parsed = smtp_server.received[0].message()
    assert parsed.get_content_type() == "text/plain"
    assert parsed["Content-Language"] == "fr"


def test_fifty_messages_over_one_connection(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server, connections=1) as ch:
        results = [ch.send(email(n)) for n in range(50)]
    assert {r.status for r in results} == {DeliveryStatus.SENT}
    assert len(smtp_server.received) == 50
    assert smtp_server.connections == 1
    assert smtp_server.quits == 1  # close() ended it politely
    assert len({r.provider_id for r in results}) == 50
    # The envelope goes out in one write exactly when the server offers PIPELINING.
    assert smtp_server.pipelined == (50 if smtp_server.handler.pipelining else 0)


def test_threads_share_at_most_the_configured_connections(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server, connections=2) as ch:
        assert ch.concurrency() == 2
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(ch.send, [email(n) for n in range(50)]))
    assert {r.status for r in results} == {DeliveryStatus.SENT}
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(
        f"user{n}@example.org" for n in range(50)
    )
    assert 1 <= smtp_server.connections <= 2


def test_reconnects_after_max_messages_per_connection(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server, max_messages_per_connection=10) as ch:
        for n in range(25):
            assert ch.send(email(n)).status is DeliveryStatus.SENT
    assert smtp_server.connections == 3
    assert smtp_server.quits == 3


def test_451_is_transient_and_the_retry_succeeds(smtp_server: SmtpTestServer) -> None:
    smtp_server.fail_next("451 4.3.0 Temporary local problem, try later")
    with channel(smtp_server) as ch:
        first = ch.send(email(1))
        second = ch.send(email(1))
    assert first.status is DeliveryStatus.TRANSIENT
    assert first.error is not None and "451 4.3.0 Temporary local problem" in first.error
    assert second.status is DeliveryStatus.SENT
    assert len(smtp_server.received) == 1
    assert smtp_server.connections == 1  # RSET made the connection usable again


def test_greylisting_at_rcpt_is_transient(smtp_server: SmtpTestServer) -> None:
    smtp_server.fail_next("450 4.2.0 Greylisted, come back later", stage="rcpt")
    with channel(smtp_server) as ch:
        assert ch.send(email(1)).status is DeliveryStatus.TRANSIENT
        assert ch.send(email(1)).status is DeliveryStatus.SENT


def test_550_recipient_is_rejected_and_the_connection_kept(smtp_server: SmtpTestServer) -> None:
    smtp_server.reject("gone@example.org")
    with channel(smtp_server) as ch:
        rejected = ch.send(email(1, to="gone@example.org"))
        after = ch.send(email(2))
    assert rejected.status is DeliveryStatus.RECIPIENT_REJECTED
    assert rejected.error == "RCPT TO: 550 5.1.1 No such user here"
    assert after.status is DeliveryStatus.SENT
    assert [r.rcpt_tos for r in smtp_server.received] == [("user2@example.org",)]
    assert smtp_server.connections == 1


def test_554_on_data_is_permanent(smtp_server: SmtpTestServer) -> None:
    smtp_server.fail_next("554 5.6.0 Message content rejected")
    with channel(smtp_server) as ch:
        result = ch.send(email(1))
    assert result.status is DeliveryStatus.PERMANENT
    assert result.error is not None and "554 5.6.0" in result.error
    assert smtp_server.received == []


NON_LATIN = "Formation en cybersécurité — دورة تدريبية 网络安全 " * 3


def test_bodies_go_8bit_to_a_server_offering_8bitmime(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server) as ch:
        results = [ch.send(email(n, text=NON_LATIN, html=f"<p>{NON_LATIN}</p>"))
                   for n in range(3)]
    assert {r.status for r in results} == {DeliveryStatus.SENT}
    first, *later = smtp_server.received
    # The first message is composed before any session says what the server offers.
    assert first.data.isascii() and "BODY=8BITMIME" not in first.mail_options
    for got, result in zip(later, results[1:], strict=True):
        assert not got.data.isascii() and "BODY=8BITMIME" in got.mail_options
        assert b"Content-Transfer-Encoding: 8bit" in got.data
        assert body(got.message(), "plain") == NON_LATIN + "\n"
        assert body(got.message(), "html") == f"<p>{NON_LATIN}</p>\n"
        assert got.message()["Message-ID"] == result.provider_id


def test_a_server_without_8bitmime_gets_7bit_even_after_one_with_it() -> None:
    with SmtpTestServer(eight_bit_mime=False) as server:
        ch = channel(server)
        ch._eight_bit = True  # as if the previous session had offered 8BITMIME
        with ch:
            results = [ch.send(email(n, text=NON_LATIN)) for n in range(2)]
    assert {r.status for r in results} == {DeliveryStatus.SENT}
    for got, result in zip(server.received, results, strict=True):
        assert got.data.isascii() and "BODY=8BITMIME" not in got.mail_options
        assert body(got.message(), "plain") == NON_LATIN + "\n"
        assert got.message()["Message-ID"] == result.provider_id  # composed again, same id


def test_pipelined_refusal_answered_354_ends_an_empty_message_and_keeps_the_session() -> None:
    # RFC 2920 3.1: a server may take DATA after refusing every RCPT; the client must end
    # that data with a lone dot, not send the message. aiosmtpd answers DATA 503 there, so
    # this server is scripted line by line.
    with LineServer(["250 2.1.0 OK", "550 5.1.1 No such user", "354 go ahead",
                     "554 5.5.1 No valid recipients", "250 2.0.0 Reset",
                     "250 2.1.0 OK", "250 2.1.5 OK", "354 go ahead", "250 2.0.0 Queued",
                     "221 2.0.0 Bye"]) as server:
        options = {"type": "smtp", "host": "127.0.0.1", "port": server.port,
                   "from": "academy@example.org", "timeout": 5}
        with SmtpChannel.from_config("email", options) as ch:
            refused = ch.send(email(1, to="gone@example.org"))
            sent = ch.send(email(2))
    assert refused.status is DeliveryStatus.RECIPIENT_REJECTED
    assert refused.error == "RCPT TO: 550 5.1.1 No such user"
    assert sent.status is DeliveryStatus.SENT
    lines = [line.upper() for line in server.lines]
    assert lines[lines.index("DATA") + 1] == "."  # nothing of message 1 went out
    assert lines[lines.index("DATA") + 2] == "RSET"
    assert sum(line.startswith("MAIL FROM:<ACADEMY@EXAMPLE.ORG>") for line in lines) == 2
    assert server.connections == 1


def test_policy_refusal_of_recipient_is_not_the_recipients_fault(
    smtp_server: SmtpTestServer,
) -> None:
    smtp_server.reject("user1@example.org", "550 5.7.1 Rejected: sender IP on blocklist")
    with channel(smtp_server) as ch:
        assert ch.send(email(1)).status is DeliveryStatus.PERMANENT


def test_login_with_username_and_password(smtp_auth_server: SmtpTestServer) -> None:
    with channel(smtp_auth_server) as ch:
        result = ch.send(email(1))
    assert result.status is DeliveryStatus.SENT, result.error
    assert len(smtp_auth_server.received) == 1


def test_wrong_password_is_auth_and_no_secret_leaks(smtp_auth_server: SmtpTestServer) -> None:
    ch = channel(smtp_auth_server, password="wrong-Pa55word")
    with ch:
        result = ch.send(email(1))
    assert result.status is DeliveryStatus.AUTH
    assert result.error is not None and "535" in result.error
    for shown in (result.error, repr(result), repr(ch), ch.describe(), repr(ch.options)):
        assert "wrong-Pa55word" not in shown
        assert "herald" not in shown  # the username
    assert smtp_auth_server.received == []


def test_missing_credentials_on_a_server_requiring_auth_is_auth(
    smtp_auth_server: SmtpTestServer,
) -> None:
    options = smtp_auth_server.channel_options()
    del options["username"], options["password"]
    with SmtpChannel.from_config("email", options) as ch:
        result = ch.send(email(1))
    assert result.status is DeliveryStatus.AUTH
    assert result.error is not None and "530" in result.error


def test_connection_dropped_before_data_is_transient_then_reconnects(
    smtp_server: SmtpTestServer,
) -> None:
    with channel(smtp_server) as ch:
        assert ch.send(email(1)).status is DeliveryStatus.SENT
        smtp_server.drop_next("rcpt")
        dropped = ch.send(email(2))
        again = ch.send(email(2))
    assert dropped.status is DeliveryStatus.TRANSIENT
    assert again.status is DeliveryStatus.SENT
    assert smtp_server.connections == 2
    assert [r.rcpt_tos for r in smtp_server.received] == [
        ("user1@example.org",),
        ("user2@example.org",),
    ]


def test_connection_dropped_after_the_data_is_unknown(smtp_server: SmtpTestServer) -> None:
    smtp_server.drop_next("data-end")
    with channel(smtp_server) as ch:
        result = ch.send(email(1))
        assert ch.send(email(2)).status is DeliveryStatus.SENT
    assert result.status is DeliveryStatus.UNKNOWN
    assert result.error is not None and "may have been delivered" in result.error
    # The server had the whole message: resending it blindly could make a duplicate.
    assert [r.accepted for r in smtp_server.handler.received] == [False, True]


def test_connection_closed_while_idle_is_replaced_silently(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server) as ch:
        assert ch.send(email(1)).status is DeliveryStatus.SENT
        smtp_server.drop_idle_connections()
        result = ch.send(email(2))
    assert result.status is DeliveryStatus.SENT, result.error
    assert smtp_server.connections == 2
    assert len(smtp_server.received) == 2


def test_idle_close_after_a_refusal_is_also_replaced(smtp_server: SmtpTestServer) -> None:
    smtp_server.reject("gone@example.org")
    with channel(smtp_server) as ch:
        assert ch.send(email(1, to="gone@example.org")).status is DeliveryStatus.RECIPIENT_REJECTED
        smtp_server.drop_idle_connections()
        assert ch.send(email(2)).status is DeliveryStatus.SENT


def test_server_down_is_transient() -> None:
    options = {"type": "smtp", "host": "127.0.0.1", "port": free_port(), "from": "a@example.org"}
    with SmtpChannel.from_config("email", options) as ch:
        result = ch.send(email(1))
    assert result.status is DeliveryStatus.TRANSIENT
    assert result.error is not None and "refused" in result.error.lower()


def test_line_breaks_in_subject_and_name_add_no_header_or_recipient(
    smtp_server: SmtpTestServer,
) -> None:
    hostile = email(
        1,
        subject="Hello\r\nBcc: evil@x.org\r\n\r\nfake body",
        to_name="Eve\r\nBcc: evil@x.org\nCc: evil2@x.org",
        headers={"List-Unsubscribe": "<https://x.org/u>\r\nBcc: evil@x.org"},
    )
    with channel(smtp_server) as ch:
        assert ch.send(hostile).status is DeliveryStatus.SENT
    (got,) = smtp_server.received
    assert got.rcpt_tos == ("user1@example.org",)
    parsed = got.message()
    assert parsed.get_all("Bcc") is None and parsed.get_all("Cc") is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["user1@example.org"]
    assert parsed["Subject"] == "Hello Bcc: evil@x.org fake body"
    assert parsed["List-Unsubscribe"] == "<https://x.org/u> Bcc: evil@x.org"
    assert b"evil@x.org" not in got.data.split(b"\r\n\r\n", 1)[1]  # nothing reached the body


@pytest.mark.parametrize(
    "address",
    [
        "user1@example.org\r\nBcc: evil@x.org",
        "user1@example.org, evil@x.org",
        "Eve <evil@x.org>",
        "user1@example.org\nevil@x.org",
        "not-an-address",
    ],
)
def test_an_address_that_could_add_a_recipient_is_permanent(
    smtp_server: SmtpTestServer, address: str
) -> None:
    with channel(smtp_server) as ch:
        result = ch.send(email(1, to=address))
    assert result.status is DeliveryStatus.PERMANENT
    assert smtp_server.connections == 0 and smtp_server.handler.received == []


def test_a_message_may_not_set_reserved_headers(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server) as ch:
        result = ch.send(email(1, headers={"Bcc": "evil@x.org"}))
    assert result.status is DeliveryStatus.PERMANENT
    assert result.error is not None and "Bcc" in result.error


@pytest.mark.parametrize(
    ("language", "subject", "name"),
    [
        ("ar", "دورة جديدة: إدارة الطيف الترددي", "محمد علي"),
        ("zh", "新课程：频谱管理与监测培训班", "王小明"),
        ("ru", "Новый курс: управление радиочастотным спектром", "Иван Петров"),
    ],
)
def test_non_latin_subjects_and_names_round_trip(
    smtp_server: SmtpTestServer, language: str, subject: str, name: str
) -> None:
    with channel(smtp_server) as ch:
        result = ch.send(email(1, language=language, subject=subject, to_name=name, text=subject))
    assert result.status is DeliveryStatus.SENT
    (got,) = smtp_server.received
    assert got.data.isascii()  # RFC 2047 headers, encoded bodies: no 8BITMIME needed
    parsed = got.message()
    assert parsed["Subject"] == subject
    assert parsed["To"].addresses[0].display_name == name
    assert parsed["Content-Language"] == language
    assert body(parsed, "plain") == subject + "\n"


def test_rate_spaces_the_sends(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server, rate="20/s", connections=2) as ch:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(ch.send, [email(n) for n in range(30)]))
        elapsed = time.monotonic() - start
    assert {r.status for r in results} == {DeliveryStatus.SENT}
    assert elapsed >= 1.0  # 29 gaps of 50 ms


def test_close_quits_and_a_later_send_reconnects(smtp_server: SmtpTestServer) -> None:
    ch = channel(smtp_server)
    assert ch.send(email(1)).status is DeliveryStatus.SENT
    ch.close()
    assert smtp_server.quits == 1
    assert ch.send(email(2)).status is DeliveryStatus.SENT
    ch.close()
    assert smtp_server.connections == 2


def test_starttls_then_login(certificate: tuple[Path, Path]) -> None:
    with SmtpTestServer(certificate=certificate, auth=("herald", "pw")) as server:
        options = server.channel_options(security="starttls", verify_tls=False)
        with SmtpChannel.from_config("email", options) as ch:
            results = [ch.send(email(n)) for n in range(3)]
        assert {r.status for r in results} == {DeliveryStatus.SENT}, results[0].error
        assert [r.tls for r in server.received] == [True, True, True]
        assert server.connections == 1


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    with SmtpTestServer(certificate=certificate, implicit_tls=True) as server:
        options = server.channel_options(security="ssl", verify_tls=False)
        with SmtpChannel.from_config("email", options) as ch:
            result = ch.send(email(1))
        assert result.status is DeliveryStatus.SENT, result.error
        assert server.received[0].tls


@pytest.mark.parametrize(("security", "implicit"), [("starttls", False), ("ssl", True)])
def test_untrusted_certificate_is_a_configuration_fault_until_its_ca_is_given(
        certificate: tuple[Path, Path], security: str, implicit: bool) -> None:
    with SmtpTestServer(certificate=certificate, implicit_tls=implicit) as server:
        with SmtpChannel.from_config("email", server.channel_options(security=security)) as ch:
            result = ch.send(email(1))
        # Not transient: retrying each message would fail the same way.
        assert result.status is DeliveryStatus.AUTH
        assert result.error is not None
        assert "certificate verification failed" in result.error
        assert "self-signed certificate" in result.error and "ca_file" in result.error
        assert server.handler.received == []
        options = server.channel_options(security=security, ca_file=str(certificate[0]))
        with SmtpChannel.from_config("email", options) as ch:
            assert ch.send(email(2)).status is DeliveryStatus.SENT
        assert [r.tls for r in server.received] == [True]


def test_ca_file_must_hold_certificates(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("hello\n")
    raw = {"type": "smtp", "host": "h", "from": "a@example.org", "security": "starttls"}
    for path in (bad, tmp_path / "missing.pem"):
        with pytest.raises(Exception, match="cannot load CA certificates"):
            SmtpChannel.Options.model_validate({**raw, "ca_file": str(path)})


def test_starttls_required_but_not_offered(smtp_server: SmtpTestServer) -> None:
    with channel(smtp_server, security="starttls") as ch:
        result = ch.send(email(1))
    assert result.status is DeliveryStatus.TRANSIENT
    assert result.error is not None and "STARTTLS" in result.error
    assert smtp_server.handler.received == []


def test_options_from_yaml_keys() -> None:
    raw = {"type": "smtp", "host": "mail.example.org", "port": 587, "security": "starttls",
           "from": "ITU Academy <academy@example.org>", "username": "u", "password": "p",
           "rate": "100/s"}  # fmt: skip
    options = SmtpOptions.model_validate(raw)
    assert options.sender == "ITU Academy <academy@example.org>"
    assert options.connections == 2 and options.timeout == 30 and options.verify_tls
    assert options.resolved_port == 587
    for security, port in (("none", 25), ("starttls", 587), ("ssl", 465)):
        raw = {"type": "smtp", "host": "h", "from": "a@example.org", "security": security}
        assert SmtpOptions.model_validate(raw).resolved_port == port
    assert "p" not in repr(options.password)
    for bad in ({"from": "not a mailbox"}, {"rate": "fast"}, {"security": "tls"}, {"hots": "x"}):
        raw = {"type": "smtp", "host": "h", "from": "a@example.org", **bad}
        with pytest.raises(ValidationError):
            SmtpOptions.model_validate(raw)


def test_username_without_password_is_a_config_error() -> None:
    raw = {"type": "smtp", "host": "h", "from": "a@example.org", "username": "u-secret"}
    # The options model says so (as `channels validate` reports it), never echoing the value.
    with pytest.raises((ChannelConfigError, ValueError)) as caught:
        SmtpChannel.from_config("email", raw)
    assert "password is not" in str(caught.value) and "u-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("stage", "code", "text", "status"),
    [
        ("connect", None, "Connection refused", DeliveryStatus.TRANSIENT),
        ("connect", 554, "No SMTP service here", DeliveryStatus.TRANSIENT),
        ("tls", None, "certificate verify failed", DeliveryStatus.TRANSIENT),
        ("auth", 535, "5.7.8 Authentication credentials invalid", DeliveryStatus.AUTH),
        ("auth", 454, "4.7.0 Temporary authentication failure", DeliveryStatus.TRANSIENT),
        ("auth", None, "SMTP AUTH extension not supported", DeliveryStatus.AUTH),
        ("mail", 530, "5.7.0 Authentication required", DeliveryStatus.AUTH),
        ("mail", 421, "4.4.2 Closing connection", DeliveryStatus.TRANSIENT),
        ("mail", 550, "5.1.8 Sender domain does not exist", DeliveryStatus.PERMANENT),
        ("mail", None, "Connection unexpectedly closed", DeliveryStatus.TRANSIENT),
        ("rcpt", 550, "5.1.1 User unknown", DeliveryStatus.RECIPIENT_REJECTED),
        ("rcpt", 550, "Mailbox unavailable", DeliveryStatus.RECIPIENT_REJECTED),
        ("rcpt", 551, "User not local", DeliveryStatus.RECIPIENT_REJECTED),
        ("rcpt", 553, "Mailbox name not allowed", DeliveryStatus.RECIPIENT_REJECTED),
        ("rcpt", 550, "5.2.1 Mailbox disabled", DeliveryStatus.RECIPIENT_REJECTED),
        ("rcpt", 552, "5.2.2 Mailbox full", DeliveryStatus.TRANSIENT),
        ("rcpt", 452, "4.2.2 Mailbox full", DeliveryStatus.TRANSIENT),
        ("rcpt", 554, "5.7.1 Relay access denied", DeliveryStatus.PERMANENT),
        ("rcpt", 550, "5.7.26 Unauthenticated email is not accepted", DeliveryStatus.PERMANENT),
        ("data", 554, "No valid recipients", DeliveryStatus.PERMANENT),
        ("data", None, "Server not connected", DeliveryStatus.TRANSIENT),
        ("data-end", 552, "Message size exceeds fixed limit", DeliveryStatus.PERMANENT),
        ("data-end", 554, "5.7.1 Message rejected as spam", DeliveryStatus.PERMANENT),
        ("data-end", 550, "5.1.1 Recipient address rejected", DeliveryStatus.RECIPIENT_REJECTED),
        ("data-end", 451, "4.7.1 Try again later", DeliveryStatus.TRANSIENT),
        ("data-end", None, "Connection unexpectedly closed", DeliveryStatus.UNKNOWN),
        ("data-end", -1, "", DeliveryStatus.UNKNOWN),
    ],
)
def test_reply_classification(
    stage: Any, code: int | None, text: str, status: DeliveryStatus
) -> None:
    failure = SmtpFailure(stage, text, code, disconnected=code is None)
    assert classify(failure) is status
