"""A real IMAP server for the bounce tests: Debian's dovecot on loopback, a throwaway
maildir and passwd-file authentication, started and stopped by the test."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

USER, PASSWORD = "bounces", "imap-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DovecotServer:
    """dovecot with its own config in `root`; works as root (mail owned by `dovecot`)
    or as an ordinary user (everything run as that user)."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, _free_port()
        self.binary = shutil.which("dovecot") or "/usr/sbin/dovecot"

    def start(self) -> DovecotServer:
        run, mail = self.root / "run", self.root / "mail"
        run.mkdir(parents=True)
        mail.mkdir()
        if os.getuid() == 0:  # dovecot refuses root for logins and mail
            internal, login = "dovecot", "dovenull"
            entry = pwd.getpwnam("dovecot")
            uid, gid = entry.pw_uid, entry.pw_gid
            os.chown(mail, uid, gid)
        else:
            internal = login = pwd.getpwuid(os.getuid()).pw_name
            uid, gid = os.getuid(), os.getgid()
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (self.root / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {run}
instance_name = herald-test-{self.port}
default_internal_user = {internal}
default_login_user = {login}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{mail}/%u
first_valid_uid = {uid}
first_valid_gid = {gid}
log_path = {self.root}/dovecot.log
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%u
}}
""")
        subprocess.run([self.binary, "-c", str(self.root / "dovecot.conf")], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not start")

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
