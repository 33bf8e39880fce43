"""The regional brochures: every region × language as PDF from a 100-course catalogue.

    python bench/brochure_bench.py [--quick] [--json PATH] [--courses N] [--workers N]

A catalogue of 100 courses (quick: 30) in 2027 is spread over the six regions and the
four modes (a third online, so listed in every region's brochure), with titles in Latin,
Arabic (with `5G` inside), Chinese and Cyrillic script; it is imported into SQLite before
the clock starts. `herald brochure --all`'s runner (`build_all`) then writes the 36 PDFs
(6 regions × 6 languages) in one process per core.

Why 100: a real year of the courses the brochures list, with room to grow. The ITU
Academy Training Centres offered "more than 70 courses" in 2023, nearly half of the ITU
Academy's 161 (ITU-D, Year in review, capacity development). `--courses 200` renders the
whole Academy catalogue and more: 1,152 pages, 179 s of CPU (422 s of wall time under a
load average of 7); the old 500, at least two and a half times that.

The limit: WeasyPrint itself, rendering in this process a plain document (paragraphs, the
same Noto fonts, no styling, no QR codes, no page references) holding the same text as
the slowest brochure. `slowest_to_plain_ratio` = the slowest brochure's own time (query
excluded; its template, QR codes and WeasyPrint), rendered again alone in this process,
over that plain document's time, rendered alone just after.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import sys
import tempfile
import time
from html import escape, unescape
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import Figure, figure, write_figures  # noqa: E402

TARGET_RATIO = 4.0
FULL_COURSES = 100  # a realistic year: see the module's docstring
REGIONS = ("Africa", "Americas", "Arab States", "Asia-Pacific", "CIS", "Europe")
MODES = ("face_to_face", "blended", "online_instructor", "online_self_paced")
TOPICS = ("spectrum management", "cybersecurity", "5G", "digital inclusion",
          "policy and regulation", "broadband access", "emergency telecommunications")
TITLES = (
    "Spectrum Monitoring Hands-on Workshop {n}",
    "أساسيات شبكات 5G للجهات التنظيمية {n}",
    "数字包容与宽带接入 {n}",
    "Кибербезопасность для регуляторов {n}",
    "Régulation des services financiers numériques {n}",
    "Network Infrastructure Planning for Rural Broadband {n}",
)
COLUMNS = ["id", "title", "coe", "country", "region", "topics", "languages", "mode",
           "location", "start_date", "end_date", "registration_deadline", "fee_usd", "url"]


def write_catalogue(path: Path, n: int) -> None:
    rnd = random.Random(21)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for i in range(n):
            region = REGIONS[i % len(REGIONS)]
            mode = MODES[rnd.randrange(len(MODES))] if i % 3 else MODES[0]
            month, day = 1 + i % 12, 1 + rnd.randrange(20)
            topics = ";".join(rnd.sample(TOPICS, 2))
            w.writerow([
                f"BR-{i:04d}", TITLES[i % len(TITLES)].format(n=i),
                f"Training Centre {region} {i % 4}", "Kenya", region, topics,
                rnd.choice(["en", "en;fr", "ar;en", "es", "ru", "zh;en"]), mode,
                "Online" if mode.startswith("online") else "Nairobi, Kenya",
                f"2027-{month:02d}-{day:02d}", f"2027-{month:02d}-{day + 5:02d}",
                f"2027-{month:02d}-{day:02d}" if month == 1 else f"2027-{month - 1:02d}-{day:02d}",
                rnd.choice(["0", "300", "450", "1200"]),
                f"https://academy.itu.int/training-courses/full-catalogue/br-{i:04d}-2027",
            ])


def plain_document(brochure_html: str) -> str:
    """The brochure's text as plain paragraphs: the same amount of text to lay out."""
    body = brochure_html[brochure_html.index("<body"):]
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", body, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", "\n", body))
    paras = [" ".join(p.split()) for p in text.split("\n") if p.strip()]
    lang = re.search(r'<html lang="(\w+)" dir="(\w+)"', brochure_html)
    assert lang
    return (f'<html lang="{lang.group(1)}" dir="{lang.group(2)}"><body style="font-family: '
            '\'Noto Sans\', \'Noto Naskh Arabic\', \'Noto Sans CJK SC\'">'
            + "".join(f"<p>{escape(p)}</p>" for p in paras) + "</body></html>")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--quick", action="store_true", help="30 courses")
    ap.add_argument("--courses", type=int, default=None)
    ap.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = ap.parse_args()
    n = args.courses or (30 if args.quick else FULL_COURSES)
    bench = "brochure"

    from weasyprint import HTML

    from scheduler.app import App
    from scheduler.brochure.content import load_content
    from scheduler.brochure.html import render_html
    from scheduler.brochure.runner import build_all
    from scheduler.brochure.service import write_brochure
    from scheduler.cli import main as herald

    print(f"brochure: 6 regions × 6 languages as PDF from {n} courses", flush=True)
    with tempfile.TemporaryDirectory(prefix="herald-brochure-") as tmp_name:
        tmp = Path(tmp_name)
        write_catalogue(tmp / "courses.csv", n)
        db = f"sqlite:///{tmp / 'herald.db'}"
        code = herald(["--config-dir", str(HERE.parent / "config"), "--db", db,
                       "--now", "2027-01-04T09:00:00Z", "courses", "import",
                       str(tmp / "courses.csv")])
        if code != 0:
            return code
        app = App(HERE.parent / "config", db)
        t0 = time.perf_counter()
        summary = build_all(app, 2027, tmp / "out", formats=(".pdf",), workers=args.workers)
        total = time.perf_counter() - t0
        if summary.failed or summary.skipped or len(summary.built) != 36:
            print(f"  FAILED: {summary.failed or summary.skipped}", file=sys.stderr)
            return 1
        slowest = max(summary.built, key=lambda r: r.seconds)
        pages = sum(r.pages or 0 for r in summary.built)
        print(f"  [{total:7.1f} s] 36 PDFs, {pages} pages; slowest {slowest.path.name}: "
              f"{slowest.seconds:.2f} s, {slowest.pages} pages, {slowest.courses} courses",
              flush=True)
        with app.sessions() as session:
            content = load_content(session, slowest.region, 2027)
        app.close()
        # Both alone in this process, one after the other: the pool's timings share the cores.
        HTML(string="<p>warm-up</p>").write_pdf()
        alone = write_brochure(content, slowest.lang, tmp / "alone.pdf", ".pdf").seconds
        print(f"  [{alone:7.2f} s] {slowest.path.name} again, alone", flush=True)
        plain = plain_document(render_html(content, slowest.lang, for_print=True))
        t0 = time.perf_counter()
        plain_doc = HTML(string=plain).render()
        plain_doc.write_pdf()
        plain_time = time.perf_counter() - t0
        print(f"  [{plain_time:7.2f} s] the plain document of the same text, "
              f"{len(plain_doc.pages)} pages", flush=True)
    ratio = alone / plain_time
    figures: list[Figure] = [
        figure(bench, "total_time_36_pdfs", round(total, 2), "s",
               note=f"{n} courses, {os.cpu_count()} cores, {pages} pages in all"),
        figure(bench, "slowest_pdf_in_pool", round(slowest.seconds, 2), "s",
               note=f"{slowest.path.name}: {slowest.pages} pages, {slowest.courses} courses"),
        figure(bench, "slowest_pdf_alone", round(alone, 2), "s"),
        figure(bench, "plain_same_text_pdf", round(plain_time, 2), "s",
               note=f"WeasyPrint alone, {len(plain_doc.pages)} pages"),
        figure(bench, "slowest_to_plain_ratio", round(ratio, 2), "x", target=TARGET_RATIO),
    ]
    write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
