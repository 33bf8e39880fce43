"""`/c/{token}`: count the click, then redirect to the target signed into the token."""

from __future__ import annotations

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from scheduler.links import BadToken, read_click
from scheduler.web.events import record_click
from scheduler.web.pages import error_page, herald, now, transaction

bp = Blueprint("clicks", __name__)


@bp.route("/c/<token>", methods=["GET", "HEAD"])
def click(token: str) -> Response | tuple[str, int]:
    app = herald()
    try:
        link = read_click(token, app.signing_keys)  # http(s) targets only: no open redirect
    except BadToken:
        return error_page("token", 400)
    with transaction() as s:
        record_click(s, link.delivery_key, method=request.method,
                     user_agent=request.headers.get("User-Agent", ""), now=now())
    return redirect(link.target_url, 302)
