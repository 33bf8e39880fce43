"""`herald articles list [--json] [--status S]` · `approve ID` · `reject ID` ·
`export --json`: articles centres submitted for News and Events."""

from __future__ import annotations

import argparse
from typing import Any

from scheduler.app import App
from scheduler.cli.output import dump_json, print_table


def register(sub: Any) -> None:
    group = sub.add_parser("articles", help="centre-submitted articles (approval queue)"
                           ).add_subparsers(dest="action", required=True)
    lst = group.add_parser("list", help="list submitted articles")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--status", choices=["submitted", "approved", "rejected"], default=None)
    lst.set_defaults(func=articles_list)
    for name, text in (("approve", "approve: ready for the website editors"),
                       ("reject", "reject: never published")):
        a = group.add_parser(name, help=text)
        a.add_argument("id", type=int)
        a.set_defaults(func=articles_decide, approve=name == "approve")
    exp = group.add_parser("export", help="the approved articles")
    exp.add_argument("--json", action="store_true", help="one JSON document (the default)")
    exp.set_defaults(func=articles_export)


def articles_list(app: App, args: argparse.Namespace) -> int:
    from scheduler.articles import list_articles

    with app.sessions() as s:
        rows = list_articles(s, args.status)
    if args.json:
        dump_json(rows)
    else:
        print_table(rows, ["id", "status", "centre", "title", "url"], width=40)
    return 0


def articles_decide(app: App, args: argparse.Namespace) -> int:
    from scheduler.articles import decide_article

    with app.sessions() as s, s.begin():
        article = decide_article(s, args.id, args.approve, app.clock())
        status = article.status
    print(f"article {args.id} {status}")
    return 0


def articles_export(app: App, args: argparse.Namespace) -> int:
    from scheduler.articles import export_articles

    with app.sessions() as s:
        dump_json(export_articles(s))
    return 0
