"""An SMTP sink for benchmarks: aiosmtpd in its own process, counting what it receives.

    python bench/smtp_sink.py --port-file F [--record F.jsonl] [--count-file F]

Binds a free loopback port, writes it to the port file, accepts every message with 250,
and (with --record) appends one JSON line per message: the recipients and the Subject and
Message-ID headers, so a benchmark can count duplicates and losses. SIGTERM stops it;
with --count-file it then writes how many messages it accepted.
`SinkProcess` starts and stops one from Python.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ChildSink, listening

HEADERS = BytesHeaderParser()


class CountingHandler:
    def __init__(self, record: Path | None) -> None:
        self.count = 0
        self.out = record.open("a", buffering=1 << 16) if record else None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        if self.out is not None:
            head = HEADERS.parsebytes(envelope.content)
            self.out.write(json.dumps({"to": envelope.rcpt_tos, "subject": head["Subject"],
                                       "message_id": head["Message-ID"]}) + "\n")
        return "250 2.0.0 OK"

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


async def serve(port_file: Path, record: Path | None, count_file: Path | None = None) -> None:
    from aiosmtpd.smtp import SMTP

    handler = CountingHandler(record)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.local", data_size_limit=0,
                     enable_SMTPUTF8=True, ident="bench sink"),
        host="127.0.0.1", port=0)
    stop = listening(port_file, server.sockets[0].getsockname()[1])
    await stop.wait()
    server.close()
    handler.close()
    if count_file is not None:
        count_file.write_text(str(handler.count))


class SinkProcess(ChildSink):
    """`smtp_sink.py` as a child process; `.port` once it listens.

    With `record`, `received()` lists what it took in (header parsing and a JSON line a
    message: about a quarter more CPU a message). `count()`, once it has stopped, costs
    nothing a message.
    """

    script = Path(__file__).resolve()
    name = "SMTP sink"

    def __init__(self, workdir: Path, record: bool = False) -> None:
        super().__init__(workdir)
        self.record = workdir / "sink.jsonl" if record else None
        self.count_file = workdir / "sink.count"

    def options(self) -> list[str]:
        self.count_file.unlink(missing_ok=True)
        return ["--count-file", str(self.count_file),
                *(["--record", str(self.record)] if self.record else [])]

    def received(self) -> list[dict[str, Any]]:
        """What the sink recorded so far (needs record=True)."""
        if self.record is None or not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]

    def count(self) -> int:
        """How many messages it accepted (after it has stopped)."""
        if not self.count_file.exists():
            raise RuntimeError("the SMTP sink has not stopped cleanly: no count")
        return int(self.count_file.read_text())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", type=Path, required=True)
    ap.add_argument("--record", type=Path, default=None)
    ap.add_argument("--count-file", type=Path, default=None)
    args = ap.parse_args()
    asyncio.run(serve(args.port_file, args.record, args.count_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
