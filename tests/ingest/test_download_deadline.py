"""A URL source is abandoned after its `timeout` for the whole download, whatever the
server trickles (a real loopback server sending one byte a second)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from scheduler.errors import InputError
from scheduler.ingest.source import read_source
from tests.conftest import Project
from tests.trickle_server import Trickle


@pytest.fixture
def trickle() -> Iterator[Trickle]:
    server = Trickle(every=1.0).start()
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/body.csv", "/headers.csv"])
def test_a_trickling_source_is_abandoned_at_its_deadline(trickle: Trickle, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(InputError) as info:
        read_source(trickle.url(path), timeout=2)
    took = time.monotonic() - started
    assert info.value.errors == [f"{trickle.url(path)}: abandoned after 2 s (the whole "
                                 "download must finish within the source's timeout)"]
    assert 1.9 <= took < 4  # every read got a byte in time: only the deadline stops it


def test_courses_import_of_a_trickling_url_exits_2(project: Project, trickle: Trickle) -> None:
    started = time.monotonic()
    r = project.run("courses", "import", trickle.url("/body.csv"), "--timeout", "2")
    assert r.code == 2 and "abandoned after 2 s" in r.err and "Traceback" not in r.err
    assert time.monotonic() - started < 5
