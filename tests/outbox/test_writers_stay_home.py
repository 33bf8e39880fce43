"""Only `scheduler/outbox/` inserts `deliveries` rows or changes them (migrations aside).

The source of every module of the project's packages is read (AST, and the text of string
literals for raw SQL): a write found anywhere else fails with its file, line and form.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "scheduler" / "outbox"
ALLOWED = (HOME, ROOT / "scheduler" / "migrations")
NOT_PRODUCT = {"tests", "bench", "scripts", "docs", "demo", "config", "templates", "var"}

WRITERS = {"update", "insert", "insert_ignore", "bulk_insert_mappings",
           "bulk_update_mappings", "bulk_save_objects"}
"""Functions or methods whose first argument is the table written."""
RAW_SQL = re.compile(r"\b(update|insert\s+(or\s+\w+\s+)?into|replace\s+into)\s+[\"`]?deliveries\b",
                     re.IGNORECASE)


def _names_the_table(node: ast.AST, aliases: set[str]) -> bool:
    """Whether `node` is `Delivery`, `Delivery.__table__`, `cast(Table, Delivery.__table__)`
    or a name bound to one of them."""
    if isinstance(node, ast.Name):
        return node.id == "Delivery" or node.id in aliases
    if isinstance(node, ast.Attribute):
        return node.attr == "__table__" and _names_the_table(node.value, aliases)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "cast":
        return any(_names_the_table(arg, aliases) for arg in node.args)
    return False


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def find_writes(source: str, name: str = "<module>") -> list[str]:
    """`file:line: form` for each write of `deliveries` rows in a module's source."""
    tree = ast.parse(source, name)
    aliases: set[str] = set()
    for node in ast.walk(tree):  # DELIVERIES = cast(Table, Delivery.__table__), …
        if isinstance(node, ast.Assign) and _names_the_table(node.value, aliases | {"_"}):
            aliases.update(t.id for t in node.targets if isinstance(t, ast.Name))
        if isinstance(node, ast.ImportFrom):  # from somewhere import DELIVERIES
            aliases.update(a.asname or a.name for a in node.names if a.name == "DELIVERIES")
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _call_name(node)
            if called in WRITERS and node.args and _names_the_table(node.args[0], aliases):
                found.append(f"{name}:{node.lineno}: {called}({ast.unparse(node.args[0])}, …)")
            elif called == "Delivery" and isinstance(node.func, ast.Name):
                found.append(f"{name}:{node.lineno}: Delivery(…) (an ORM insert)")
            elif (isinstance(node.func, ast.Attribute) and called in {"insert", "update"}
                  and _names_the_table(node.func.value, aliases)):
                found.append(f"{name}:{node.lineno}: {ast.unparse(node.func)}()")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and RAW_SQL.search(node.value)):
            found.append(f"{name}:{node.lineno}: raw SQL {node.value.strip()[:60]!r}")
    return found


def product_modules() -> list[Path]:
    """Every module of the project's own packages (top-level folders with Python in them)."""
    return sorted(
        path for top in ROOT.iterdir()
        if top.is_dir() and top.name not in NOT_PRODUCT and not top.name.startswith(".")
        and (top / "__init__.py").exists()
        for path in top.rglob("*.py"))


def test_only_the_outbox_writes_deliveries() -> None:
    modules = product_modules()
    assert any(p.parent == ROOT / "scheduler" for p in modules)  # the scan sees the code
    writes = [line for path in modules if not path.is_relative_to(ALLOWED[0])
              and not path.is_relative_to(ALLOWED[1])
              for line in find_writes(path.read_text(encoding="utf-8"),
                                      str(path.relative_to(ROOT)))]
    assert writes == [], ("deliveries are written outside scheduler/outbox/ "
                          "(use its transitions):\n" + "\n".join(writes))


def test_the_outbox_itself_is_seen_writing() -> None:
    """The scanner finds the outbox's own writes: it would find them elsewhere too."""
    writes = [line for path in HOME.rglob("*.py")
              for line in find_writes(path.read_text(encoding="utf-8"), path.name)]
    assert any("update(Delivery" in w for w in writes)
    assert any("insert_ignore(Delivery.__table__" in w for w in writes)
    assert any("update(DELIVERIES" in w for w in writes)


@pytest.mark.parametrize("snippet", [
    "s.execute(update(Delivery).where(Delivery.id == 1).values(state='sent'))",
    "s.execute(insert(Delivery).values(dedup_key='k'))",
    "s.execute(insert_ignore(Delivery.__table__, 'sqlite').values(dedup_key='k'))",
    "T = cast(Table, Delivery.__table__)\nc.execute(update(T).values(state='x'))",
    "c.execute(Delivery.__table__.update().values(state='x'))",
    "s.add(Delivery(dedup_key='k'))",
    "c.exec_driver_sql('UPDATE deliveries SET state = 1')",
    "c.execute(text('insert into \"deliveries\" (id) values (1)'))",
    "s.bulk_insert_mappings(Delivery, rows)",
    "from scheduler.outbox.statements import DELIVERIES\nc.execute(insert(DELIVERIES))",
])
def test_each_form_of_write_is_caught(snippet: str) -> None:
    assert find_writes(snippet)


@pytest.mark.parametrize("snippet", [
    "s.execute(select(Delivery).where(Delivery.state == 'sent'))",
    "s.execute(update(Participant).values(status='x'))",
    "c.exec_driver_sql('SELECT * FROM deliveries')",
    "s.execute(insert(DeliveryEvent).values(type='x'))",
])
def test_reads_and_other_tables_pass(snippet: str) -> None:
    assert find_writes(snippet) == []
