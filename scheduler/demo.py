"""`make demo`: import the demo catalogue and participants, send everything due into the
file sinks, and say what went where. Run it twice: the second run sends nothing new."""

from __future__ import annotations

import email
import json
import re
import sys
from collections import Counter
from pathlib import Path

from scheduler.cli import main as herald

ROOT = Path(__file__).resolve().parent.parent
# A fixed moment in the demo catalogue's season, so the demo shows announcements,
# reminders, a weekly digest and social posts, and gives the same result every time.
DEMO_NOW = "2027-01-11T09:30:00Z"
# The catalogue and the participants were loaded a week earlier, so this Monday's
# digest (08:00) has courses to list.
IMPORTED_AT = "2027-01-04T09:00:00Z"


FIRST_SLOTS = "2027-01-11T09:35:00Z"
"""Five minutes on: the social channels' first posting slots (09:31) have come."""


def run(*args: str, now: str = DEMO_NOW) -> None:
    print(f"\n$ herald --now {now} {' '.join(args)}", flush=True)
    code = herald(["--now", now, *args])
    if code != 0:
        sys.exit(code)


def main(root: Path = ROOT) -> int:
    """Run the demo in `root` (the project folder: config/, demo/, var/ as the cwd sees them)."""
    run("db", "upgrade")
    run("courses", "import", str(root / "demo" / "courses.csv"), now=IMPORTED_AT)
    run("participants", "import", str(root / "demo" / "participants.csv"), now=IMPORTED_AT)
    run("contacts", "import", str(root / "demo" / "contacts.csv"), now=IMPORTED_AT)
    run("centres", "import", str(root / "demo" / "coes.csv"), now=IMPORTED_AT)
    run("send-now")
    run("plan")
    print("\nFive minutes later the first posting slots have come:")
    run("send-now", now=FIRST_SLOTS)
    outbox = root / "var" / "outbox"
    counts = Counter(p.parent.name for p in outbox.rglob("*") if p.is_file())
    print("\nWhat the file sinks hold now:")
    for sink, n in sorted(counts.items()):
        print(f"  {outbox / sink}: {n} file(s)")
    emails = sorted(outbox.glob("email/*.eml"))
    if emails:
        print(f"\nOpen one email: {emails[0]}")
    for folder in sorted(d for d in outbox.iterdir() if d.is_dir() and d.name != "email"):
        posts = sorted(folder.glob("*.json"))
        if posts:
            print(f"\nA post on {folder.name}: {posts[0]}")
            print("  " + json.loads(posts[0].read_text())["text"].replace("\n", "\n  "))
    brochures = root / "var" / "brochure"
    brochures.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "ar"):
        for ext in ("html", "pdf"):
            run("brochure", "--region", "Africa", "--year", "2027", "--lang", lang,
                "--out", str(brochures / f"africa-2027-{lang}.{ext}"))
    print("\nThe Africa brochure 2027 (English and Arabic):")
    for path in sorted(brochures.glob("africa-2027-*")):
        print(f"  {path}")
    show_admin_emails(outbox / "email")
    print("\nRun `make demo` again: everything was planned once, so nothing new is sent.")
    print("\nWhat next:\n"
          "  source .venv/bin/activate        # puts `herald` on your PATH\n"
          f"  herald --now {FIRST_SLOTS} status     # the outbox, channels, recent events\n"
          f"  herald --now {FIRST_SLOTS} plan       # what is due next, the posting calendar\n"
          "  herald deliveries list --limit 10     # the newest deliveries and recipients\n"
          "  herald serve                          # every link in those emails works, and\n"
          "                                        # http://localhost:8080/subscribe signs up\n"
          "  herald --help                         # every command")
    return 0


def show_admin_emails(sink: Path) -> None:
    """Where the catalogue and the invitations went, and one /i/ link to try."""
    catalogue = sorted(sink.glob("catalogue+*.eml"))
    invitations = sorted(sink.glob("coe_invitation+*.eml"))
    print(f"\nCatalogue emails to the demo contacts: {len(catalogue)}; "
          f"invitations to the demo centres: {len(invitations)}")
    for eml in catalogue[:1]:
        text = email.message_from_bytes(eml.read_bytes())
        body = next((p.get_payload(decode=True) for p in text.walk()
                     if p.get_content_type() == "text/plain"), b"")
        assert isinstance(body, bytes)
        link = re.search(r"https?://\S+/i/\S+", body.decode("utf-8"))
        if link:
            print("Try a \"we are interested\" answer: run `herald serve`, then open")
            print(f"  {link.group(0)}")
            print("  and see it with `herald interest list`.")


if __name__ == "__main__":
    sys.exit(main())
