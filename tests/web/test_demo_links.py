"""After the demo's send, every link in its emails works on `herald serve`."""

from __future__ import annotations

import re

from tests.web.conftest import Web


def test_every_link_in_the_demo_emails_works(web: Web) -> None:
    run = web.project.run
    assert run("participants", "import", "demo/participants.csv").code == 0
    assert run("send-now").code in (0, 3)
    mails = web.emails()
    assert mails
    seen: dict[str, int] = {}
    for msg in mails[:5]:
        html = msg.get_body(("html",))
        assert html is not None
        links = set(re.findall(r'href="http://localhost:8080(/[cpu]/[^"]+)"', html.get_content()))
        unsubscribe = str(msg["List-Unsubscribe"]).strip("<>").replace(
            "http://localhost:8080", "")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        for path in sorted(links):
            r = web.client.get(path.replace("&amp;", "&"))
            assert r.status_code == (302 if path.startswith("/c/") else 200), path
            seen[path[:3]] = seen.get(path[:3], 0) + 1
        fresh = web.flask.test_client(use_cookies=False)
        assert fresh.post(unsubscribe, data="List-Unsubscribe=One-Click").status_code == 200
    assert set(seen) == {"/c/", "/p/", "/u/"}
