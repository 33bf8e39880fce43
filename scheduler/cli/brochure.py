"""`herald brochure`: the regional annual brochure, one file or every region × language.

Exit 0 when written; 2 for bad input (unknown region or language, a year without any
course, a bad --out), nothing written; 1 when a brochure cannot be drawn (a character no
font of the brochure has), nothing written for it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.brochure.labels import LANGUAGES
from scheduler.errors import InputError
from scheduler.logs import print_error

if TYPE_CHECKING:
    from scheduler.app import App


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "brochure", help="the regional annual brochure (HTML or PDF), in six languages")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--region",
                       help="Africa, Americas, Arab States, Asia-Pacific, CIS or Europe")
    which.add_argument("--all", action="store_true",
                       help="every region × language, in parallel processes (needs --out-dir)")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--lang", default=None,
                   help=f"one of {', '.join(LANGUAGES)} (default en; with --all, default every"
                        " language)")
    p.add_argument("--out", type=Path, help="FILE.html or FILE.pdf (with --region)")
    p.add_argument("--out-dir", type=Path, help="the folder for --all (created)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes for --all (default: one per CPU)")
    p.set_defaults(func=brochure)


def brochure(app: App, args: argparse.Namespace) -> int:
    # WeasyPrint is imported only by this command: every other one starts without it.
    from scheduler.brochure import MissingGlyphError, build_brochure

    if args.all:
        if args.out_dir is None or args.out is not None:
            raise InputError(["--all: give --out-dir DIR (and no --out)"])
        return _all(app, args)
    if args.out is None or args.out_dir is not None:
        raise InputError(["--region: give --out FILE.html|FILE.pdf (and no --out-dir)"])
    try:
        result = build_brochure(app, args.region, args.year, args.lang or "en", args.out)
    except MissingGlyphError as exc:
        print_error(f"brochure {args.region} {args.year} {args.lang or 'en'}: {exc}; "
                    "nothing written")
        return 1
    pages = f", {result.pages} pages" if result.pages is not None else ""
    print(f"{result.path} ({result.region} {result.year}, {result.lang}: "
          f"{result.courses} courses{pages})")
    return 0


def _all(app: App, args: argparse.Namespace) -> int:
    from scheduler.brochure import build_all

    languages = (args.lang,) if args.lang else LANGUAGES
    summary = build_all(app, args.year, args.out_dir, languages=languages,
                        workers=args.workers)
    for r in summary.built:
        print(r.path)
    for region in summary.skipped:
        print(f"skipped: {region}: no course in {args.year}")
    for line in summary.failed:
        print_error(f"brochure {line}; nothing written")
    print(f"{len(summary.built)} files written to {args.out_dir}")
    return 1 if summary.failed else 0
