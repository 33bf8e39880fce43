"""Run every benchmark, print one table, write bench/results/latest.json.

Usage: python bench/run.py [--quick] [--only NAME ...]

Each benchmark runs in its own process (so a memory peak belongs to one benchmark) and
writes its figures as JSON; this script gathers them. PostgreSQL benchmarks need the
server `scripts/with-postgres.sh` starts (`make bench` runs this script through it);
without one they are reported as skipped, never as passed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import PG_ENV, Figure  # noqa: E402

# name → (script, extra arguments, needs PostgreSQL)
BENCHMARKS: dict[str, tuple[str, list[str], bool]] = {
    "plan-sqlite": ("plan_bench.py", [], False),
    "plan-postgres": ("plan_bench.py", ["--postgres"], True),
    "email": ("email_bench.py", [], False),
    "scale-out": ("scaleout_bench.py", [], True),
    "memory": ("memory_bench.py", [], False),
    "report-sqlite": ("report_bench.py", [], False),
    "report-postgres": ("report_bench.py", ["--postgres"], True),
    "web": ("web_bench.py", [], False),
    "brochure": ("brochure_bench.py", [], False),
}


def run_one(name: str, quick: bool) -> tuple[list[Figure], float, str | None]:
    script, extra, needs_pg = BENCHMARKS[name]
    if needs_pg and not os.environ.get(PG_ENV):
        return [], 0.0, f"skipped: {PG_ENV} is not set (run through scripts/with-postgres.sh)"
    with tempfile.TemporaryDirectory(prefix="herald-bench-run-") as tmp:
        out = Path(tmp) / "figures.json"
        cmd = [sys.executable, str(HERE / script), *extra, "--json", str(out)]
        if quick:
            cmd.append("--quick")
        print(f"\n== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=HERE.parent)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0 or not out.exists():
            return [], elapsed, f"failed: exit code {proc.returncode}"
        figures: list[Figure] = json.loads(out.read_text())
    for f in figures:
        f.setdefault("bench", name)
    return figures, elapsed, None


def table(figures: list[Figure]) -> str:
    lines = [f"{'benchmark':<14} {'figure':<34} {'value':>12} {'unit':<6} {'target':>12}  result"]
    lines.append("-" * len(lines[0]))
    for f in figures:
        target = ""
        if "target" in f:
            target = ("≤ " if f.get("better", "lower") == "lower" else "≥ ") + str(f["target"])
        result = "" if "pass" not in f else ("pass" if f["pass"] else "MISS")
        lines.append(f"{f['bench']:<14} {f['name']:<34} {f['value']:>12} {f['unit']:<6} "
                     f"{target:>12}  {result}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes (a smoke run)")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=None)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = ap.parse_args()

    started = time.perf_counter()
    figures: list[Figure] = []
    runs = []
    for name in args.only or list(BENCHMARKS):
        got, elapsed, problem = run_one(name, args.quick)
        figures.extend(got)
        runs.append({"bench": name, "seconds": round(elapsed, 1), "problem": problem})
        if problem:
            print(f"== {name}: {problem}", flush=True)
    total = time.perf_counter() - started

    print("\n" + table(figures))
    for r in runs:
        if r["problem"]:
            print(f"{r['bench']}: {r['problem']}")
    missed = [f for f in figures if f.get("pass") is False]
    print(f"\n{len(figures)} figures, {len(missed)} missing their target; "
          f"{total / 60:.1f} min in all ({'quick' if args.quick else 'full'} size): "
          + ", ".join(f"{r['bench']} {r['seconds'] / 60:.1f}" for r in runs))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": "quick" if args.quick else "full",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "seconds": round(total, 1),
        "runs": runs,
        "figures": figures,
    }, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 1 if any(r["problem"] and r["problem"].startswith("failed") for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
