"""The command line stays thin and the modules import without loops (issue 14, item 3)."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from scheduler.cli import build_parser, groups, main
from scheduler.cli.main import CORE_GROUPS

ROOT = Path(__file__).resolve().parents[2]


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of its code (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def module_path(name: str) -> Path:
    path = ROOT / Path(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


@pytest.mark.parametrize("a, b", [("scheduler.messages", "scheduler.posts")])
def test_no_import_loop(a: str, b: str) -> None:
    assert not (b in imports(module_path(a)) and a in imports(module_path(b)))


def test_services_never_import_the_cli() -> None:
    # `make demo` (scheduler/demo.py) is a script that drives the command line, as a user would.
    offenders = [
        str(path.relative_to(ROOT)) for path in (ROOT / "scheduler").rglob("*.py")
        if "cli" not in path.relative_to(ROOT / "scheduler").parts and path.name != "demo.py"
        and any(m == "scheduler.cli" or m.startswith("scheduler.cli.") for m in imports(path))
    ]
    assert offenders == []


def test_the_cli_holds_no_sql() -> None:
    offenders = [
        str(path.relative_to(ROOT)) for path in (ROOT / "scheduler" / "cli").glob("*.py")
        if any(m.split(".")[0] == "sqlalchemy" or m == "scheduler.models" for m in imports(path))
    ]
    assert offenders == []


def test_every_group_registers_its_commands() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    names = set(sub.choices)
    assert {"db", "courses", "participants", "channels", "plan", "send-now", "run", "status",
            "deliveries", "posts"} <= names
    assert all(callable(getattr(g, "register", None)) for g in CORE_GROUPS)


def test_a_group_listed_in_groups_is_a_command(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    extra = ModuleType("hello")

    def hello(app: Any, args: argparse.Namespace) -> int:
        print(f"hello {args.who}")
        return 0

    def register(sub: Any) -> None:
        p = sub.add_parser("hello", help="say hello")
        p.add_argument("who")
        p.set_defaults(func=hello)

    extra.register = register  # type: ignore[attr-defined]
    monkeypatch.setattr(groups, "GROUPS", [*groups.GROUPS, extra])
    assert main(["hello", "world"]) == 0
    assert capsys.readouterr().out == "hello world\n"
