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
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import PG_ENV, Figure, figure, pg_server_durable  # noqa: E402

BUDGET_MINUTES = 20  # issue 22: every benchmark at full size, from a fresh clone, on 2 cores
T0_ENV = "HERALD_BENCH_T0"
"""Unix time `make bench` started (set by the Makefile): the budget then counts the
install of the extras and Postfix and the PostgreSQL server's start, not only this script."""

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


def children_cpu() -> float:
    """User and system CPU seconds of every child process waited for so far (a benchmark
    and its own children: sinks, `send-now`s, pools; not the PostgreSQL server's)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_one(name: str, quick: bool) -> tuple[list[Figure], float, float, str | None]:
    """A benchmark's figures, wall seconds, CPU seconds (see `children_cpu`) and problem."""
    script, extra, needs_pg = BENCHMARKS[name]
    if needs_pg and not os.environ.get(PG_ENV):
        return [], 0.0, 0.0, f"skipped: {PG_ENV} is not set (run through scripts/with-postgres.sh)"
    with tempfile.TemporaryDirectory(prefix="herald-bench-run-") as tmp:
        out = Path(tmp) / "figures.json"
        cmd = [sys.executable, str(HERE / script), *extra, "--json", str(out)]
        if quick:
            cmd.append("--quick")
        print(f"\n== {name}: {' '.join(cmd[1:])}", flush=True)
        t0, cpu0 = time.perf_counter(), children_cpu()
        proc = subprocess.run(cmd, cwd=HERE.parent)
        elapsed, cpu = time.perf_counter() - t0, children_cpu() - cpu0
        print(f"== {name}: {elapsed:.1f} s, {cpu:.1f} s of CPU "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)
        if proc.returncode != 0 or not out.exists():
            return [], elapsed, cpu, f"failed: exit code {proc.returncode}"
        figures: list[Figure] = json.loads(out.read_text())
    for f in figures:
        f.setdefault("bench", name)
    return figures, elapsed, cpu, None


def table(figures: list[Figure]) -> str:
    lines = [f"{'benchmark':<16} {'figure':<34} {'value':>12} {'unit':<6} {'target':>12}  result"]
    lines.append("-" * len(lines[0]))
    for f in figures:
        target = ""
        if "target" in f:
            target = ("≤ " if f.get("better", "lower") == "lower" else "≥ ") + str(f["target"])
        result = "" if "pass" not in f else ("pass" if f["pass"] else "MISS")
        lines.append(f"{f['bench']:<16} {f['name']:<34} {f['value']:>12} {f['unit']:<6} "
                     f"{target:>12}  {result}")
    return "\n".join(lines)


def budget_figure(started_wall: float, every: bool, quick: bool) -> Figure:
    """`make_bench_minutes`: from `make bench`'s start (or this script's) to now.

    The target (≤ 20 min) applies to what it is about, every benchmark run to its end at
    full size; a quick run, a selection (`--only`) or a run where a benchmark failed or was
    skipped reports the figure without it."""
    t0 = float(os.environ.get(T0_ENV) or started_wall)
    minutes = round((time.time() - t0) / 60, 2)
    since = "make bench started" if os.environ.get(T0_ENV) else "bench/run.py started"
    if every and not quick:
        return figure("make-bench", "make_bench_minutes", minutes, "min",
                      target=BUDGET_MINUTES,
                      note=f"since {since}; every benchmark at full size, "
                           f"{os.cpu_count()} cores")
    return figure("make-bench", "make_bench_minutes", minutes, "min",
                  note=f"since {since}; no target: not every benchmark ran to its end at full size")


def durations(runs: list[dict[str, object]], total: float) -> str:
    """Each benchmark's wall and CPU seconds: on a shared machine the CPU says better
    what a quiet one would need (at least CPU ÷ cores of wall time)."""
    lines = [f"{'benchmark':<16} {'seconds':>8}  {'min':>5}  {'CPU s':>7}"]
    lines += [f"{r['bench']!s:<16} {r['seconds']!s:>8}  {float(str(r['seconds'])) / 60:>5.1f}"
              f"  {r['cpu_seconds']!s:>7}" + (f"  ({r['problem']})" if r["problem"] else "")
              for r in runs]
    cpu = sum(float(str(r["cpu_seconds"])) for r in runs)
    lines.append(f"{'all benchmarks':<16} {total:>8.1f}  {total / 60:>5.1f}  {cpu:>7.1f}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes (a smoke run)")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=None)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = ap.parse_args()

    started_wall = time.time()
    started = time.perf_counter()
    load_before = os.getloadavg()
    figures: list[Figure] = []
    runs: list[dict[str, object]] = []
    names = args.only or list(BENCHMARKS)
    for name in names:
        got, elapsed, cpu, problem = run_one(name, args.quick)
        figures.extend(got)
        runs.append({"bench": name, "seconds": round(elapsed, 1), "cpu_seconds": round(cpu, 1),
                     "problem": problem})
        if problem:
            print(f"== {name}: {problem}", flush=True)
    total = time.perf_counter() - started
    complete = set(names) == set(BENCHMARKS) and not any(r["problem"] for r in runs)
    figures.append(budget_figure(started_wall, complete, args.quick))

    print("\n" + table(figures))
    print("\n" + durations(runs, total))
    with_target = [f for f in figures if "pass" in f]
    missed = [f for f in with_target if not f["pass"]]
    failed = [r for r in runs if str(r["problem"] or "").startswith("failed")]
    skipped = [r for r in runs if str(r["problem"] or "").startswith("skipped")]
    print(f"\n{len(figures)} figures, {len(with_target)} with a target: "
          f"{len(with_target) - len(missed)} met, {len(missed)} missed"
          + (f" ({', '.join(f['bench'] + ' ' + f['name'] for f in missed)})" if missed else "")
          + f"; {len(failed)} benchmarks failed, {len(skipped)} skipped; "
          f"{total / 60:.1f} min in all ({'quick' if args.quick else 'full'} size)")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": "quick" if args.quick else "full",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "postgres": None if not os.environ.get(PG_ENV) else
                    "durable" if pg_server_durable() else "not durable (fsync off)",
        "missed": len(missed),
        "seconds": round(total, 1),
        "runs": runs,
        "figures": figures,
    }, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
