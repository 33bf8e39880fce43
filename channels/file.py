"""The file channel: writes each message to a directory instead of sending it.

An email becomes `<path>/<name>.eml`, the same RFC 5322 bytes the SMTP channel would send; a
post becomes `<path>/<name>.json`. `<name>` is derived from the dedup key, so a second send of
the same delivery finds its file and changes nothing. A file appears whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from channels.base import (
    Channel,
    ChannelConfigError,
    ChannelOptions,
    DeliveryResult,
    DeliveryStatus,
    Message,
)
from channels.email_message import InvalidEmail, compose_email, parse_mailbox

Network = Literal["x", "mastodon", "bluesky", "linkedin", "facebook", "telegram", "webhook"]

# Kept as is in file names; everything else is escaped.
_PLAIN = re.compile(r"[A-Za-z0-9._-]")
_MAX_NAME = 150  # bytes before the suffix: well under the usual 255-byte name limit


class FileOptions(ChannelOptions):
    """Options of a `file` channel (config/channels.yaml)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    path: str
    """The directory written to; created if missing (relative to the working directory)."""
    network: Network | None = None
    """For posts: the network whose text rules this channel stands in for."""
    sender: str = Field(default="ITU Academy <academy@example.org>", alias="from")
    """The From mailbox of emails, as on the SMTP channel."""

    @field_validator("sender")
    @classmethod
    def _valid_sender(cls, value: str) -> str:
        parse_mailbox(value)
        return value


def safe_name(key: str) -> str:
    """A file name (without suffix) for a dedup key: deterministic, injective, portable.

    `:` becomes `+`; other characters outside `[A-Za-z0-9._-]` become `=XX` per UTF-8 byte
    (`+` and `=` included, so no two keys share a name). A leading dot is escaped (no hidden
    files, no `..`). Names too long for a file system end with a hash of the whole key.
    """
    out = []
    for char in key:
        if _PLAIN.fullmatch(char):
            out.append(char)
        elif char == ":":
            out.append("+")
        else:
            out.append("".join(f"={byte:02X}" for byte in char.encode("utf-8")))
    name = "".join(out)
    if name.startswith("."):
        name = "=2E" + name[1:]
    if not name:
        name = "="  # the empty key: every other name has a character after an "="
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        name = f"{name[: _MAX_NAME - 34]}~~{digest}"
    return name


class FileChannel(Channel):
    """Writes emails (`.eml`) and posts (`.json`) to `options.path`; idempotent per key."""

    type = "file"
    kind = "any"
    Options = FileOptions
    options: FileOptions

    def __init__(self, name: str, options: ChannelOptions) -> None:
        if not isinstance(options, FileOptions):
            raise ChannelConfigError(f"channel {name}: expected FileOptions")
        super().__init__(name, options)
        self.directory = Path(options.path)
        self._domain = parse_mailbox(options.sender).domain

    def send(self, message: Message) -> DeliveryResult:
        """Write the message's file unless it exists; SENT with the path as provider id."""
        suffix = ".eml" if message.is_email else ".json"
        target = self.directory / (safe_name(message.key) + suffix)
        if target.exists():
            return DeliveryResult.sent(str(target))
        try:
            data = self._render(message)
        except InvalidEmail as exc:
            return DeliveryResult(DeliveryStatus.PERMANENT, error=str(exc))
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_once(target, data)
        except OSError as exc:
            # A full disk or a permission problem: the operator may fix it, so try again later.
            error = f"{target}: {exc.strerror or exc}"
            return DeliveryResult(DeliveryStatus.TRANSIENT, error=error)
        return DeliveryResult.sent(str(target))

    def _render(self, message: Message) -> bytes:
        if message.is_email:
            return compose_email(message, self.options.sender, domain=self._domain).data
        post: dict[str, Any] = {
            "key": message.key,
            "network": self.options.network,
            "text": message.text,
            "link": message.link,
            "title": message.title,
            "language": message.language,
            "meta": dict(message.meta),
        }
        text = json.dumps(post, ensure_ascii=False, indent=2, sort_keys=False, default=str)
        return (text + "\n").encode("utf-8")

    def __repr__(self) -> str:
        return f"<FileChannel {self.name!r} {self.directory}>"


def _write_once(target: Path, data: bytes) -> None:
    """Create `target` with `data` atomically; leave an existing file as it is.

    Written to a hidden temporary file in the same directory, flushed to disk, then linked into
    place: the link fails if the name exists, so two writers never replace each other's file.
    """
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, target)
        except FileExistsError:
            pass
        except OSError:
            # No hard links on this file system: replace, after checking again for a file.
            if not target.exists():
                os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    # The new name must reach the disk too, or a crash can lose a file reported as sent.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
