"""One SMTP mail transaction (MAIL, RCPT, DATA, the message) as steps, apart from any I/O.

`transaction` is a generator: it yields a `Step` (bytes to write, then whether to wait for
one reply) and is sent the reply. Two drivers run the same steps, so both speak SMTP the
same way: `run_blocking` on one smtplib session (a thread waits for each reply), and the
channel's multiplexer (`channels.smtp_stream`), which keeps several sessions in flight on
one thread and feeds each reply as it arrives.

Every failure leaves as an `SmtpFailure` naming the stage; see `channels.smtp_pool`.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Generator
from dataclasses import dataclass

from channels.smtp_pool import SmtpFailure, Stage, os_error_text, reply_text

Reply = tuple[int, bytes]
"""A reply's code and its text (lines joined with LF), as smtplib's `getreply` gives it."""


@dataclass(frozen=True, slots=True)
class Step:
    """Write `write` (if any), then (with `read`) wait for one reply.

    A lost connection, or a 421 reply, ends the session: the driver raises an `SmtpFailure`
    for `stage`, unless the step is `lenient`, which is then answered None instead.
    """

    stage: Stage
    write: bytes = b""
    read: bool = True
    lenient: bool = False


Transaction = Generator[Step, "Reply | None", str]
WRITTEN: Reply = (0, b"")
"""The answer to a step that only writes."""

# The steps that only wait for a reply are the same for every message: made once.
_READ: dict[Stage, Step] = {stage: Step(stage) for stage in ("mail", "rcpt", "data",
                                                             "data-end")}
_DOT_CRLF = b".\r\n"
# Searched with a compiled pattern: on Python 3.11 `b"\n." in data` takes ~9 µs on a
# 10 KiB email, the pattern ~4 µs (the bench's emails, no line starting with a dot).
_DOT_AFTER_LF = re.compile(rb"\n\.")
_NOT_CONNECTED = smtplib.SMTPServerDisconnected("Server not connected")
"""What smtplib's `send` raises when the socket fails (or is gone)."""


def transaction(sender: str, recipient: str, data: bytes, *, eight_bit: bool, size: bool,
                pipelining: bool, encoding: str = "ascii") -> Transaction:
    """The steps of one message; returns the final reply as text, or raises SmtpFailure.

    `sender` and `recipient` are plain checked addresses, sent as they are; `eight_bit`
    data goes with BODY=8BITMIME; `size` adds SIZE= (RFC 1870). With `pipelining` (RFC
    2920) MAIL, RCPT and DATA go out in one write and their replies are read in order.
    Step by step rather than smtplib's `sendmail`, so that a connection lost after the end
    of the data (stage `data-end`: outcome unknown) is told apart from one lost before it.
    """
    mail = f"MAIL FROM:<{sender}>{f' SIZE={len(data)}' if size else ''}"
    mail += " BODY=8BITMIME" if eight_bit else ""
    rcpt = f"RCPT TO:<{recipient}>"
    if pipelining:
        yield from _pipelined_envelope(mail, rcpt, encoding)
    else:
        steps: tuple[tuple[Stage, str, set[int]], ...] = (
            ("mail", mail, {250}), ("rcpt", rcpt, {250, 251}), ("data", "DATA", {354}))
        for stage, command, ok in steps:
            code, text = _given((yield Step(stage, f"{command}\r\n".encode(encoding))))
            if code not in ok:
                reusable = yield from _reset(stage)
                raise SmtpFailure(stage, reply_text(text), code, reusable=reusable)
    payload = data
    if payload.startswith(b".") or _DOT_AFTER_LF.search(payload) is not None:
        payload = re.sub(rb"(?m)^\.", b"..", payload)  # dot-stuffing (RFC 5321 4.5.2)
    # A write that fails here means the terminating dot did not go out whole: the server
    # cannot have accepted the message (stage `data`, not `data-end`).
    ending = _DOT_CRLF if payload.endswith(b"\r\n") else b"\r\n" + _DOT_CRLF
    yield Step("data", payload + ending, read=False)
    code, text = _given((yield _READ["data-end"]))
    if code != 250:
        reusable = yield from _reset("data-end")
        raise SmtpFailure("data-end", reply_text(text), code, reusable=reusable)
    return f"{code} {reply_text(text)}"


def _pipelined_envelope(mail: str, rcpt: str, encoding: str) -> Generator[Step, Reply | None, None]:
    """MAIL, RCPT and DATA in one write, then their replies; returns once DATA got 354.

    Every reply is read before deciding, as RFC 2920 requires. When the envelope was
    refused but the server still answered DATA with 354, an empty message is ended with a
    lone dot (which the server refuses: it has no recipient) before RSET.
    """
    yield Step("mail", f"{mail}\r\n{rcpt}\r\nDATA\r\n".encode(encoding), read=False)
    refused: tuple[Stage, int, bytes] | None = None
    code = 0
    stage: Stage
    for stage, ok in _PIPELINED_REPLIES:
        code, text = _given((yield _READ[stage]))
        if code not in ok and refused is None:
            refused = (stage, code, text)
    if refused is None:
        return
    stage, refused_code, refused_text = refused
    if code == 354 and (yield Step(stage, b".\r\n", lenient=True)) is None:
        raise SmtpFailure(stage, reply_text(refused_text), refused_code, disconnected=True)
    reusable = yield from _reset(stage)
    raise SmtpFailure(stage, reply_text(refused_text), refused_code, reusable=reusable)


_PIPELINED_REPLIES: tuple[tuple[Stage, frozenset[int]], ...] = (
    ("mail", frozenset({250})), ("rcpt", frozenset({250, 251})), ("data", frozenset({354})))


def _reset(stage: Stage) -> Generator[Step, Reply | None, bool]:
    """RSET after a refused step; True when the session is clean for the next message."""
    answer = yield Step(stage, b"RSET\r\n", lenient=True)
    return answer is not None and answer[0] == 250


def _given(answer: Reply | None) -> Reply:
    # Only lenient steps are answered None.
    assert answer is not None
    return answer


# -- the drivers' shared half ---------------------------------------------------------


def advance(smtp: smtplib.SMTP, steps: Transaction, answer: Reply | None) -> Step | str:
    """Send `answer` into `steps` and do the writes that follow; the next step that waits
    for a reply, or the transaction's final reply once it is over. A just-started
    transaction takes `answer` None.
    """
    while True:
        try:
            step = steps.send(answer)
        except StopIteration as done:
            return str(done.value)
        if step.write:
            # smtplib's `send` less its per-call checks: the socket's own sendall, the
            # same error when it fails.
            sock = smtp.sock
            try:
                if sock is None:
                    raise OSError
                sock.sendall(step.write)
            except OSError:
                answer = lost(smtp, step, _NOT_CONNECTED)
                continue
        if step.read:
            return step
        answer = WRITTEN


def answered(smtp: smtplib.SMTP, step: Step, reply: Reply) -> Reply | None:
    """What a step's reply means: the reply, or (421, or -1 when unreadable) a lost session."""
    code, text = reply
    if code in (421, -1):
        # 421: the server is closing the channel; -1: smtplib could not read a reply.
        smtp.close()
        if step.lenient:
            return None
        raise SmtpFailure(step.stage, reply_text(text), code, disconnected=True)
    return reply


def lost(smtp: smtplib.SMTP, step: Step, exc: BaseException) -> Reply | None:
    """The connection failed during `step`: the session is closed; SmtpFailure unless
    lenient, which is answered None."""
    smtp.close()
    if not step.lenient:
        raise SmtpFailure(step.stage, os_error_text(exc), disconnected=True) from None
    return None


def run_blocking(smtp: smtplib.SMTP, steps: Transaction) -> str:
    """Run a transaction on `smtp`, waiting for each reply; its final reply, or SmtpFailure."""
    answer: Reply | None = None
    while True:
        step = advance(smtp, steps, answer)
        if isinstance(step, str):
            return step
        try:
            answer = answered(smtp, step, smtp.getreply())
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            answer = lost(smtp, step, exc)


def begin(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes, *,
          eight_bit: bool) -> Transaction:
    """The transaction for one message on `smtp`, as its server's EHLO reply allows."""
    return transaction(sender, recipient, data, eight_bit=eight_bit,
                       size=smtp.has_extn("size"), pipelining=smtp.has_extn("pipelining"),
                       encoding=smtp.command_encoding)


def transact(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes, *,
             eight_bit: bool = False) -> str:
    """MAIL, RCPT, DATA for one message on an open session; the final reply, or SmtpFailure."""
    return run_blocking(smtp, begin(smtp, sender, recipient, data, eight_bit=eight_bit))
