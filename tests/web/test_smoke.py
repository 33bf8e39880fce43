from __future__ import annotations

from tests.web.conftest import Web, subscribe


def test_subscribe_confirm(web: Web) -> None:
    page = web.client.get("/subscribe")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert subscribe(web, "new@example.org") == 200
    mails = web.emails()
    assert len(mails) == 1
    path = web.link_in(mails[0], "confirm")
    assert web.client.get(path).status_code == 200
    token = web.csrf(path)
    r = web.client.post(path, data={"csrf_token": token})
    assert r.status_code == 200, r.get_data(as_text=True)
