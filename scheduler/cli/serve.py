"""`herald serve [--host H] [--port P]`: the public pages, served by waitress."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType
from typing import Any

from scheduler.app import App

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("serve", help="the public web pages (sign-up, unsubscribe, "
                                            "preferences, clicks)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    p.add_argument("--threads", type=int, default=8, help="worker threads (8)")
    p.add_argument("--trusted-proxy", default=None, metavar="ADDR",
                   help="the reverse proxy's address: its X-Forwarded-For names the client "
                        "(rate limits count per client)")
    p.set_defaults(func=serve)


def serve(app: App, args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; exit 0."""
    from waitress.server import create_server

    from scheduler.web import create_app

    web = create_app(app)
    app.engine  # noqa: B018 - create or migrate the schema before the first request
    proxy: dict[str, Any] = {}
    if args.trusted_proxy:
        proxy = {"trusted_proxy": args.trusted_proxy, "trusted_proxy_count": 1,
                 "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}}
    server = create_server(web, host=args.host, port=args.port, threads=args.threads,
                           ident="herald", clear_untrusted_proxy_headers=True, **proxy)

    def stop(_sig: int, _frame: FrameType | None) -> None:
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"herald serve: listening on http://{args.host}:{server.effective_port}",
          file=sys.stderr, flush=True)
    try:
        server.run()
    except SystemExit:
        pass
    except KeyboardInterrupt:
        pass
    finally:
        web.extensions["herald_mailer"].close()
    return 0
