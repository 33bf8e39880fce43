"""`${ENV}` references: resolution, what counts as a secret, and literal-secret detection.

`${VAR}` may stand for a whole value or part of one (`Bearer ${TOKEN}`,
`postgresql://herald:${PGPASSWORD}@db/herald`); `${VAR:-default}` gives a default. A plain
`${VAR}` that is unset (or empty) is an error that the loader names (`report_unset`); it is
also left out, so the models do not report it a second time. `${VAR:-}` marks an optional
reference: unset, a value that is nothing but such references leaves the key out, so an
optional credential (SMTP_USER) simply goes missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from scheduler.config.yamldoc import PathT

REF: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

# A value resolved from the environment is a secret when its key or its variable's name looks
# like a credential; such values are redacted from logs and errors.
_SECRET_KEY = re.compile(r"token|secret|passw|key|jwt|user|credential|authorization", re.I)
_SECRET_VAR = re.compile(r"token|secret|passw|key|jwt|user|credential|webhook|auth", re.I)
# Keys whose value must never be written inline. Narrower than the above: a literal username
# or a literal `key` of some other meaning is fine.
_LITERAL_SECRET_KEY = re.compile(
    r"token|secret|passw|jwt|api_?key|consumer_key|access_key|private_key|signing_key"
    r"|authorization|credential",
    re.I,
)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""Returned by `EnvRefs.resolve` for a value that names an unset variable."""


def secret_key(key: object) -> bool:
    """Whether a key in a config mapping names a credential."""
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


def literal_secret_key(key: object) -> bool:
    """Whether a key's value must come from an `${ENV}` reference."""
    return isinstance(key, str) and bool(_LITERAL_SECRET_KEY.search(key))


def is_literal(value: Any) -> bool:
    """A value written out in the file (not empty, and with no `${ENV}` reference)."""
    if value is None or value == "" or isinstance(value, (dict, list)):
        return False
    return not (isinstance(value, str) and REF.search(value))


@dataclass
class EnvRefs:
    """Resolves references against `environ`, remembering what was unset and what is secret."""

    environ: Mapping[str, str]
    omitted: dict[PathT, str] = field(default_factory=dict)
    """Path of each key left out → the unset variable it named."""
    secrets: set[str] = field(default_factory=set)

    def resolve(self, value: Any, path: PathT, *, secret: bool = False) -> Any:
        """`value` with every reference replaced; UNSET when it names an unset variable.

        Mapping entries whose value is UNSET are dropped; `secret` marks the whole subtree as
        a credential position (keys that look like credentials are marked on the way down).
        """
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                resolved = self.resolve(item, (*path, key), secret=secret or secret_key(key))
                if resolved is not UNSET:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            items = [self.resolve(v, (*path, i), secret=secret) for i, v in enumerate(value)]
            return [v for v in items if v is not UNSET]
        if isinstance(value, str) and REF.search(value):
            return self._substitute(value, path, secret)
        return value

    def _substitute(self, text: str, path: PathT, secret: bool) -> Any:
        missing: list[str] = []

        def one(match: re.Match[str]) -> str:
            var, default = match[1], match[2]
            found = self.environ.get(var) or None
            if found is None:
                if default is None:
                    missing.append(var)
                return default or ""
            if secret or _SECRET_VAR.search(var):
                self.secrets.add(found)
            password = url_password(found)
            if password:
                self.secrets.add(password)
            return found

        resolved = REF.sub(one, text)
        if missing:
            self.omitted[path] = missing[0]
            return UNSET
        if resolved == "" and REF.sub("", text) == "":
            return UNSET  # only optional references, all unset: the key is absent
        return resolved

    def report_unset(self, under: PathT, report: Callable[[PathT, str], None]) -> None:
        """Call `report(path, reason)` for each required `${VAR}` under `under` left unset."""
        for path, var in self.omitted.items():
            if path[: len(under)] == under:
                report(path, f"environment variable {var} is not set")


def url_password(text: str) -> str | None:
    """The password part of a URL such as `postgresql://user:PASSWORD@host/db`, if any."""
    if "://" not in text:
        return None
    try:
        return urlsplit(text).password
    except ValueError:
        return None


def literal_secrets(
    value: Any, path: PathT, extra_keys: frozenset[str] = frozenset()
) -> list[tuple[PathT, Any]]:
    """Every (path, value) in `value` where a credential is written out instead of referenced.

    `extra_keys` names more top-level keys of `value` that hold credentials (a channel's
    SecretStr options, whatever their name).
    """
    found: list[tuple[PathT, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*path, key)
            if (literal_secret_key(key) or key in extra_keys) and is_literal(item):
                found.append((here, item))
            else:
                found.extend(literal_secrets(item, here))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(literal_secrets(item, (*path, index)))
    return found


def suggest_var(path: PathT) -> str:
    """A conventional variable name for a credential at `path` (`channels.x.token` → X_TOKEN)."""
    parts = [str(p) for p in path if isinstance(p, str)][1:] or [str(path[-1])]
    return re.sub(r"[^A-Z0-9]+", "_", "_".join(parts).upper()).strip("_")
