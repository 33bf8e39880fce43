"""A fast, minimal SMTP sink for the high-volume benchmarks, in its own process.

    python bench/raw_sink.py --port-file F [--record F.tsv]

Why it exists: `bench/smtp_sink.py` (aiosmtpd) takes ~4 ms of CPU per message, about
250 messages a second on this machine, so a 50,000- or 200,000-message benchmark would
measure the sink and take far too long. This one is an asyncio `Protocol` that speaks
just enough ESMTP for a client such as smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET,
NOOP, VRFY, QUIT; commands may be pipelined), finds the end of the data with
`bytes.find` on the buffer (no dot-unstuffing: it only counts and labels messages),
and answers 250 to everything. It never validates a message; the email benchmark's
aiosmtpd sink is the one that parses them.

With --record it appends one line per message, `recipients TAB subject TAB message-id`
(recipients comma-separated; the header values unfolded), written in large buffered
blocks and flushed four times a second, so a benchmark can count duplicates and losses
cheaply. SIGTERM or SIGINT stops it after a final flush. `SinkProcess` starts and stops
one from Python, with the same shape as `smtp_sink.SinkProcess`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ChildSink, listening

HOST = b"sink.local"
EHLO_REPLY = (b"250-" + HOST + b"\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
              b"250-SMTPUTF8\r\n250 SIZE 104857600\r\n")
END_OF_DATA = b"\r\n.\r\n"
FLUSH_EVERY = 0.25  # seconds between flushes of the record


class Recorder:
    """Counts messages and appends their record lines to a file (if any)."""

    def __init__(self, path: Path | None) -> None:
        self.count = 0
        self.out: IO[bytes] | None = path.open("ab", buffering=1 << 20) if path else None

    def add(self, recipients: list[bytes], data: bytes | bytearray) -> None:
        self.count += 1
        if self.out is None:
            return
        end = data.find(b"\r\n\r\n")
        head = bytes(data[: end if end >= 0 else len(data)])
        self.out.write(b",".join(recipients) + b"\t" + header(head, b"subject") + b"\t"
                       + header(head, b"message-id") + b"\n")

    def flush(self) -> None:
        if self.out is not None:
            self.out.flush()

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


def header(head: bytes, name: bytes) -> bytes:
    """The unfolded value of header `name` (lower case) in a message head, or b""."""
    lower = head.lower()
    at = lower.find(b"\n" + name + b":")
    if at < 0:
        if not lower.startswith(name + b":"):
            return b""
        at = -1
    start = at + 1 + len(name) + 1
    end = start
    while True:  # a folded header continues on lines that start with white space
        nl = head.find(b"\r\n", end)
        if nl < 0:
            end = len(head)
            break
        end = nl + 2
        if end >= len(head) or head[end] not in b" \t":
            end = nl
            break
    return b" ".join(head[start:end].split())


def _address(arg: bytes) -> bytes:
    """The address in `TO:<a@b> PARAMS` or `FROM:<a@b> PARAMS`."""
    value = arg.split(b":", 1)[1].strip() if b":" in arg else arg.strip()
    if value.startswith(b"<"):
        return value[1 : value.find(b">")] if b">" in value else value[1:]
    return value.split(b" ", 1)[0]


class SinkProtocol(asyncio.Protocol):
    """One SMTP connection: a command loop and a DATA mode over one byte buffer."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.buffer = bytearray()
        self.in_data = False
        self.scanned = 0  # bytes of the DATA buffer already searched for the end
        self.recipients: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 " + HOST + b" ESMTP bench sink\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies: list[bytes] = []
        while self.transport is not None:
            if self.in_data:
                if not self._take_data(replies):
                    break
            else:
                nl = self.buffer.find(b"\r\n")
                if nl < 0:
                    break
                line = bytes(self.buffer[:nl])
                del self.buffer[: nl + 2]
                if not self._command(line, replies):
                    break
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))

    def _take_data(self, replies: list[bytes]) -> bool:
        """Consume a whole message if its end is in the buffer; False when more is needed."""
        if self.buffer.startswith(b".\r\n"):  # an empty message
            end, skip = 0, 3
        else:
            end = self.buffer.find(END_OF_DATA, max(self.scanned - 4, 0))
            if end < 0:
                self.scanned = len(self.buffer)
                return False
            skip = len(END_OF_DATA)
        self.recorder.add(self.recipients, self.buffer[:end])
        del self.buffer[: end + skip]
        self.in_data, self.scanned, self.recipients = False, 0, []
        replies.append(b"250 2.0.0 OK: queued as %d\r\n" % self.recorder.count)
        return True

    def _command(self, line: bytes, replies: list[bytes]) -> bool:
        """Answer one command line; False once the connection is closing."""
        verb, _, arg = line.partition(b" ")
        verb = verb.upper()
        if verb == b"EHLO":
            self.recipients = []
            replies.append(EHLO_REPLY)
        elif verb == b"HELO":
            self.recipients = []
            replies.append(b"250 " + HOST + b"\r\n")
        elif verb == b"MAIL":
            self.recipients = []
            replies.append(b"250 2.1.0 OK\r\n")
        elif verb == b"RCPT":
            self.recipients.append(_address(arg))
            replies.append(b"250 2.1.5 OK\r\n")
        elif verb == b"DATA":
            if not self.recipients:
                replies.append(b"503 5.5.1 RCPT first\r\n")
            else:
                self.in_data = True
                replies.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        elif verb == b"RSET":
            self.recipients = []
            replies.append(b"250 2.0.0 OK\r\n")
        elif verb == b"NOOP":
            replies.append(b"250 2.0.0 OK\r\n")
        elif verb == b"VRFY":
            replies.append(b"252 2.0.0 Cannot VRFY\r\n")
        elif verb == b"QUIT":
            replies.append(b"221 2.0.0 Bye\r\n")
            assert self.transport is not None
            self.transport.write(b"".join(replies))
            replies.clear()
            self.transport.close()
            self.transport = None
            return False
        else:
            replies.append(b"502 5.5.2 Command not recognized\r\n")
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port_file: Path, record: Path | None) -> None:
    recorder = Recorder(record)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SinkProtocol(recorder), host="127.0.0.1",
                                      port=0, backlog=512)
    stop = listening(port_file, server.sockets[0].getsockname()[1])
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), FLUSH_EVERY)
        recorder.flush()
    server.close()
    recorder.close()


def parse_record_line(line: str) -> dict[str, Any]:
    """One record line as `{"to": [...], "subject": ..., "message_id": ...}`."""
    to, subject, message_id = line.split("\t")
    return {"to": to.split(",") if to else [], "subject": subject, "message_id": message_id}


class SinkProcess(ChildSink):
    """Start `raw_sink.py` as a child process; `.port` once it listens."""

    script = Path(__file__).resolve()
    name = "raw SMTP sink"
    stem = "raw-sink"

    def __init__(self, workdir: Path, record: bool = True) -> None:
        super().__init__(workdir)
        self.record = workdir / "raw-sink.tsv" if record else None

    def options(self) -> list[str]:
        if self.record is None:
            return []
        self.record.unlink(missing_ok=True)
        return ["--record", str(self.record)]

    def lines(self) -> list[str]:
        """The raw record lines so far (flushed at most FLUSH_EVERY seconds ago)."""
        if self.record is None or not self.record.exists():
            return []
        return self.record.read_text(encoding="utf-8", errors="replace").splitlines()

    def received(self) -> list[dict[str, Any]]:
        """What the sink recorded so far (needs record=True)."""
        return [parse_record_line(line) for line in self.lines() if line]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port-file", type=Path, required=True)
    ap.add_argument("--record", type=Path, default=None)
    args = ap.parse_args()
    asyncio.run(serve(args.port_file, args.record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
