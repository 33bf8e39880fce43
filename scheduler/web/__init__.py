"""`herald serve`: the public pages every link in every message points at.

`create_app(app)` builds the Flask application: one blueprint per role (sign-up, unsubscribe,
preferences, clicks, health), templates under `templates/web/`, one stylesheet served from
`templates/web/static/`. Another role's pages (`/i/`, `/s/`) are one more blueprint listed
in `BLUEPRINTS`. Every page sends a strict Content-Security-Policy and
`X-Frame-Options: DENY`, needs no JavaScript and loads nothing from elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from flask import Flask
from flask_wtf.csrf import CSRFError, CSRFProtect

from scheduler.rendering import default_templates_dir
from scheduler.web import clicks, health, interest, preferences, signup, submission, unsubscribe
from scheduler.web.catalogue import Catalogue
from scheduler.web.mailer import Mailer
from scheduler.web.pages import error_page
from scheduler.web.security import RateLimiter, secure_headers

if TYPE_CHECKING:
    from scheduler.app import App

BLUEPRINTS = [signup.bp, unsubscribe.bp, preferences.bp, clicks.bp, health.bp, interest.bp,
              submission.bp]
"""Each role's pages; `/i/` (interest) and `/s/` (centre submission) slot in here."""


def create_app(app: App) -> Flask:
    """The public pages over `app` (config, database, channels, clock)."""
    templates = default_templates_dir()
    web = Flask(__name__, template_folder=str(templates),
                static_folder=str(templates / "web" / "static"), static_url_path="/static")
    # The session cookie only carries the CSRF secret; its key derives from the signing key.
    web.config.update(
        SECRET_KEY=hmac.new(app.signing_key, b"herald-web-session", hashlib.sha256).hexdigest(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config.settings.base_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        MAX_CONTENT_LENGTH=64 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    web.extensions["herald"] = app
    web.extensions["herald_limiter"] = RateLimiter()
    web.extensions["herald_catalogue"] = Catalogue(app.sessions)
    web.extensions["herald_mailer"] = Mailer(app)
    csrf = CSRFProtect(web)
    for bp in BLUEPRINTS:
        web.register_blueprint(bp)
    csrf.exempt(unsubscribe.one_click)  # RFC 8058: no cookie, no CSRF token
    csrf.exempt(health.healthz)

    @web.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> tuple[str, int]:
        return error_page("csrf", 400)

    @web.errorhandler(404)
    def _not_found(_exc: Exception) -> tuple[str, int]:
        return error_page("not_found", 404)

    @web.errorhandler(405)
    def _not_allowed(_exc: Exception) -> tuple[str, int]:
        return error_page("not_found", 405)

    @web.errorhandler(413)
    def _too_large(_exc: Exception) -> tuple[str, int]:
        return error_page("bad_form", 413)

    web.after_request(secure_headers)
    return web


__all__ = ["BLUEPRINTS", "create_app"]
