"""The HTML report a Steering Committee reads: one self-contained page, no JavaScript.

Per region and centre the funnel (sent → clicked → interest), trends by month, social
posts per network and the courses with the most interest; every chart is inline SVG with
its numbers beside it and in a table. All figures come from `metrics.build`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from scheduler.app import App
from scheduler.errors import InputError
from scheduler.reporting import svg
from scheduler.reporting.labels import LABELS, LANGUAGES, RTL
from scheduler.reporting.metrics import E, build
from scheduler.reporting.reputation import measure
from scheduler.reporting.service import fmt

TOP_COURSES = 10
SUMMARY = ("sent", "delivered", "emails", "posts", "clicked", "click_rate", "interest",
           "interest_participants", "failed", "bounced", "refused", "bounce_rate", "complained",
           "complaint_rate", "unsubscribed")

TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}" dir="{{ dir }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ t.title }}</title>
<style>
body{font-family:"Noto Sans","Noto Sans CJK SC","Noto Sans Arabic",sans-serif;color:#1a1a1a;
background:#fff;margin:2rem auto;max-width:60rem;padding:0 1rem;line-height:1.4}
h1{color:#0b3d73}h2{color:#0b3d73;border-bottom:2px solid #0b3d73;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #767676;
padding:.2rem .5rem;text-align:start}td.n{text-align:end;font-variant-numeric:tabular-nums}
.chart{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
.warn{border:2px solid #b00020;padding:.5rem;color:#7a0016}
</style></head>
<body><main>
<h1>{{ t.title }}</h1>
<p>{{ t.period }}: {{ period }}</p>
{% for w in warnings %}<p class="warn" role="alert">{{ t.warning }}: {{ w }}</p>{% endfor %}
<section aria-labelledby="s-totals"><h2 id="s-totals">{{ t.totals }}</h2>
<table><tbody>{% for k, v in summary %}<tr><th scope="row">{{ t[k] }}</th>
<td class="n">{{ v }}</td></tr>{% endfor %}</tbody></table></section>
{% for s in sections %}
<section aria-labelledby="s-{{ s.id }}"><h2 id="s-{{ s.id }}">{{ s.title }}</h2>
{% if s.note %}<p>{{ s.note }}</p>{% endif %}
{% if s.rows %}<div class="chart"><figure>{{ s.chart }}</figure>
<table><thead><tr>{% for h in s.head %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in s.rows %}<tr>{% for c in r %}<td{% if loop.index > s.nkeys %} class="n"{% endif
%}>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
{% else %}<p>{{ t.none }}</p>{% endif %}</section>
{% endfor %}
</main></body></html>
"""


def check_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise InputError([f"--lang: '{lang}' is not one of {', '.join(LANGUAGES)}"])


def render(session: Session, now: datetime, *, since: datetime | None,
           until: datetime | None, lang: str = "en") -> str:
    """The report page in `lang`."""
    check_language(lang)
    t = LABELS[lang]
    span: dict[str, Any] = {"since": since, "until": until}
    totals = build(session, **span).totals
    sections = [
        _section("funnel", t["funnel"], build(session, by=["region", "centre"], **span).rows,
                 ["region", "centre"], ["sent", "clicked", "interest"], t, note=t["funnel_note"],
                 label=lambda r: f"{r['region'] or '–'} · {r['centre'] or '–'}"),
        _section("trends", t["trends"], build(session, by=["month"], **span).rows,
                 ["month"], ["sent", "clicked", "interest"], t),
        _section("social", t["social"],
                 build(session, by=["channel"], where=[E.medium == "social"], **span).rows,
                 ["channel"], ["posts", "likes", "reposts", "replies", "clicked"], t,
                 head={"channel": t["network"]}),
        _section("courses", t["top_courses"], sorted(
            (r for r in build(session, by=["course"], **span).rows if r["interest"] > 0),
            key=lambda r: (-r["interest"], -r["interest_participants"], r["course"]))[
                :TOP_COURSES],
            ["course"], ["interest", "interest_participants", "sent", "clicked"], t),
    ]
    warning = measure(session, now).warning()
    env = Environment(autoescape=select_autoescape(default=True))
    period = " – ".join(d.date().isoformat() if d else "…" for d in (since, until)) \
        if since or until else t["all_time"]
    return env.from_string(TEMPLATE).render(
        lang=lang, dir="rtl" if lang in RTL else "ltr", t=t, period=period,
        warnings=[warning] if warning else [], sections=sections,
        summary=[(k, fmt(k, totals[k])) for k in SUMMARY])


def _section(id: str, title: str, rows: list[dict[str, Any]], keys: list[str],
             metrics: list[str], t: dict[str, str], note: str = "",
             head: dict[str, str] | None = None, label: Any = None) -> dict[str, Any]:
    label = label or (lambda r: " · ".join(str(r[k] or "–") for k in keys))
    names = [t.get(m, m) for m in metrics]
    chart = svg.bars(f"{t['chart']}: {title}",
                     [(label(r), [int(r[m]) for m in metrics[:3]]) for r in rows], names[:3])
    heads = {**{k: t.get(k, k) for k in keys}, **(head or {})}
    return {"id": id, "title": title, "note": note, "chart": Markup(chart), "nkeys": len(keys),
            "head": [heads[k] for k in keys] + names,
            "rows": [[r[k] or "–" for k in keys] + [fmt(m, r[m]) for m in metrics]
                     for r in rows]}


def write_html(app: App, path: Path, *, since: datetime | None, until: datetime | None,
               lang: str = "en") -> None:
    """Render and write the page atomically (a temporary file renamed)."""
    with app.sessions() as s:
        page = render(s, app.clock(), since=since, until=until, lang=lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
