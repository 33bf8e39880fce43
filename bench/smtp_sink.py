"""An SMTP sink for benchmarks: aiosmtpd in its own process, counting what it receives.

    python bench/smtp_sink.py --port-file F [--record F.jsonl]

Binds a free loopback port, writes it to the port file, accepts every message with 250,
and (with --record) appends one JSON line per message: the recipients and the Subject and
Message-ID headers, so a benchmark can count duplicates and losses. SIGTERM stops it.
`SinkProcess` starts and stops one from Python.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
from email.parser import BytesHeaderParser
from pathlib import Path
from types import TracebackType
from typing import Any

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


async def serve(port_file: Path, record: Path | None) -> None:
    from aiosmtpd.smtp import SMTP

    handler = CountingHandler(record)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.local", data_size_limit=0,
                     enable_SMTPUTF8=True, ident="bench sink"),
        host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(port))
    tmp.replace(port_file)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    handler.close()


class SinkProcess:
    """Start `smtp_sink.py` as a child process; `.port` once it listens."""

    def __init__(self, workdir: Path, record: bool = False) -> None:
        self.port_file = workdir / "sink.port"
        self.record = workdir / "sink.jsonl" if record else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> SinkProcess:
        cmd = [sys.executable, __file__, "--port-file", str(self.port_file)]
        if self.record:
            cmd += ["--record", str(self.record)]
        self.proc = subprocess.Popen(cmd)
        deadline = time.monotonic() + 20
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.05)
        self.port = int(self.port_file.read_text())
        return self

    def received(self) -> list[dict[str, Any]]:
        """What the sink recorded so far (needs record=True)."""
        if self.record is None or not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", type=Path, required=True)
    ap.add_argument("--record", type=Path, default=None)
    args = ap.parse_args()
    asyncio.run(serve(args.port_file, args.record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
