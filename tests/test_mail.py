"""deskhand.mail against real servers: aiosmtpd in-process for SMTP, Debian's dovecot (started
here in a temporary folder with its own configuration) for IMAP. The fixtures serve
tests/test_order_entry.py too."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from demo.server import free_port
from deskhand import ApplicationError
from deskhand.mail import InDoubt, Outbox, compose, read_folder, read_imap


@dataclass
class SmtpServer:
    """What the in-process SMTP server received; ``on_data`` runs before it answers 250."""

    host: str
    port: int
    received: list = field(default_factory=list)
    on_data: object = None

    def messages(self):
        return [BytesParser(policy=policy.default).parsebytes(raw) for _, raw in self.received]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server, _session, envelope):
        if self.server.on_data is not None:
            self.server.on_data(envelope)
        self.server.received.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    port = free_port()
    server = SmtpServer("127.0.0.1", port)
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=port)
    controller.start()
    yield server
    controller.stop()


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    folder: Path

    def deliver(self, raw: bytes) -> None:
        import imaplib

        client = imaplib.IMAP4(self.host, self.port)
        client.login(self.user, self.password)
        client.append("INBOX", None, None, raw)
        client.logout()


DOVECOT_CONF = """
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:{dir}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={dir}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def imap_server():
    """A real dovecot IMAP server with one user, in its own temporary folder."""
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(dovecot).exists():
        pytest.fail("dovecot not found: apt-get install dovecot-imapd (make test installs it)")
    folder = Path(tempfile.mkdtemp(prefix="deskhand-imap-"))
    folder.chmod(0o755)  # dovecot's mail processes run as the dovecot user
    port = free_port()
    (folder / "dovecot.conf").write_text(DOVECOT_CONF.format(dir=folder, port=port))
    (folder / "users").write_text("orders:{PLAIN}imap-test-pw\n")
    for sub in ("run", "state", "mail"):
        (folder / sub).mkdir()
    shutil.chown(folder / "mail", "dovecot", "dovecot")
    proc = subprocess.Popen([dovecot, "-F", "-c", str(folder / "dovecot.conf")])
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log = folder / "dovecot.log"
                pytest.fail(
                    "dovecot did not start: " + (log.read_text()[-500:] if log.exists() else "")
                )
            time.sleep(0.1)
    yield ImapServer("127.0.0.1", port, "orders", "imap-test-pw", folder)
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


def test_sent_once_with_recipients_attachment_and_a_stable_message_id(smtp_server, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")

    def message():
        return compose(
            "orders@shop.example",
            ["a@x.example", "b@x.example"],
            "Order SO-1",
            "Thank you.",
            key="SO-1/confirmation",
            attachments=[("SO-1.pdf", b"%PDF-1.4 test", "application/pdf")],
        )

    first = outbox.send(message(), key="SO-1/confirmation", host="127.0.0.1", port=smtp_server.port)
    again = outbox.send(message(), key="SO-1/confirmation", host="127.0.0.1", port=smtp_server.port)
    assert first == again and outbox.get("SO-1/confirmation")["state"] == "sent"
    assert len(smtp_server.received) == 1
    rcpt, _ = smtp_server.received[0]
    assert sorted(rcpt) == ["a@x.example", "b@x.example"]
    (got,) = smtp_server.messages()
    assert got["Message-ID"].strip() == first and got["Subject"] == "Order SO-1"
    (attachment,) = list(got.iter_attachments())
    assert attachment.get_filename() == "SO-1.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.4 test"


def test_a_send_stopped_while_the_server_took_it_is_never_repeated(smtp_server, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    msg = compose("o@shop.example", ["c@x.example"], "Shipping SO-2", "Ship it.", key="SO-2/ship")

    def break_off(_envelope):
        raise ConnectionResetError("the line dropped")  # aiosmtpd answers 451 or drops

    smtp_server.on_data = break_off
    with pytest.raises((InDoubt, ApplicationError)):
        outbox.send(msg, key="SO-2/ship", host="127.0.0.1", port=smtp_server.port)
    state = outbox.get("SO-2/ship")["state"]
    smtp_server.on_data = None
    if state == "transmitting":  # the server never answered: in doubt, a person decides
        with pytest.raises(InDoubt, match="Message-ID"):
            outbox.send(msg, key="SO-2/ship", host="127.0.0.1", port=smtp_server.port)
        assert smtp_server.received == []
    else:  # the server answered with an error: not taken, so sending again is safe
        outbox.send(msg, key="SO-2/ship", host="127.0.0.1", port=smtp_server.port)
        assert len(smtp_server.received) == 1


def test_stopped_before_the_content_was_sent_sends_the_same_message_once(smtp_server, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    msg = compose("o@shop.example", ["c@x.example"], "Order SO-3", "Hi.", key="SO-3/confirmation")
    outbox._set("SO-3/confirmation", msg, "intent")  # as if killed before connecting
    fresh = compose("o@shop.example", ["c@x.example"], "Order SO-3", "Hi.", key="SO-3/confirmation")
    sent = outbox.send(fresh, key="SO-3/confirmation", host="127.0.0.1", port=smtp_server.port)
    assert sent == msg["Message-ID"] and len(smtp_server.received) == 1


def test_unreachable_server_is_an_application_error(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    msg = compose("o@shop.example", ["c@x.example"], "x", "y", key="k")
    with pytest.raises(ApplicationError, match="cannot send"):
        outbox.send(msg, key="k", host="127.0.0.1", port=free_port())
    assert outbox.get("k")["state"] == "intent"


def test_read_folder_and_imap_mailbox(imap_server, tmp_path):
    raw = compose(
        "buyer@x.example",
        ["orders@shop.example"],
        "Order",
        "2 x WID-100",
        key="in-1",
        attachments=[("order.xlsx", b"PK..", "application/vnd.ms-excel")],
    )
    (tmp_path / "a.eml").write_bytes(raw.as_bytes())
    (tmp_path / "notes.txt").write_text("not mail")
    (local,) = read_folder(tmp_path)
    assert local.message_id == raw["Message-ID"] and local.body().strip() == "2 x WID-100"
    assert local.attachments() == [("order.xlsx", b"PK..")]

    imap_server.deliver(raw.as_bytes())
    (remote,) = read_imap(
        imap_server.host, imap_server.port, imap_server.user, imap_server.password, ssl=False
    )
    assert remote.message_id == raw["Message-ID"] and remote.sender == "buyer@x.example"
    assert remote.attachments() == [("order.xlsx", b"PK..")]
    from deskhand import ConfigError

    with pytest.raises(ConfigError, match="refused the log-in"):
        read_imap(imap_server.host, imap_server.port, "orders", "wrong", ssl=False)
