"""E-mail for bots: read incoming mail (a folder of .eml files or an IMAP mailbox) and send
mail exactly once through an outbox (SMTP). Standard library only: email, smtplib, imaplib.

    from deskhand import mail

    for message in mail.read_folder(inbox):          # or mail.read_imap(...)
        order = message.attachments()[0]

    outbox = mail.Outbox(path_to_sqlite)
    msg = mail.compose(sender, [to], "Order SO-1", "text", key="SO-1/confirmation",
                       attachments=[("SO-1.pdf", pdf_bytes)])
    outbox.send(msg, key="SO-1/confirmation", host="smtp.example", port=25)

Exactly once: the outbox records each message by a key before it is sent (``intent``), right
before its content is handed to the server (``transmitting``) and once the server accepted
it (``sent``). ``send`` never sends a key twice: a ``sent`` key is skipped, an ``intent``
key (stopped before the server saw the content) is sent, and a ``transmitting`` key (stopped
while the server took it: it may have been accepted) raises :class:`InDoubt` for a person
to check by its Message-ID instead of risking a second copy.
"""

from __future__ import annotations

import hashlib
import imaplib
import smtplib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate
from pathlib import Path

from .errors import ApplicationError, BusinessError, ConfigError


class InDoubt(BusinessError):
    """A message may or may not have reached the server: a person checks, nobody resends."""


@dataclass
class Incoming:
    """One received message: where it came from and the parsed e-mail."""

    source: str  # file name or "imap:<mailbox>/<uid>"
    message: EmailMessage

    @property
    def message_id(self) -> str:
        found = (self.message["Message-ID"] or "").strip()
        return found or "sha256:" + hashlib.sha256(self.message.as_bytes()).hexdigest()[:32]

    @property
    def sender(self) -> str:
        return str(self.message["From"] or "")

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def body(self) -> str:
        """The plain-text body ('' when there is none)."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def attachments(self) -> list[tuple[str, bytes]]:
        """(file name, content) of every attachment, names reduced to their last part."""
        found = []
        for part in self.message.iter_attachments():
            name = Path(part.get_filename() or "attachment.bin").name
            found.append((name, part.get_payload(decode=True) or b""))
        return found


def parse(raw: bytes, source: str) -> Incoming:
    """A message from its raw bytes (RFC 5322)."""
    return Incoming(source, BytesParser(policy=policy.default).parsebytes(raw))


def read_folder(folder: Path) -> list[Incoming]:
    """Every ``.eml`` file of ``folder``, by name."""
    if not folder.is_dir():
        raise ConfigError(f"mail folder {folder} not found: pass a folder of .eml files")
    return [parse(p.read_bytes(), p.name) for p in sorted(folder.glob("*.eml"))]


def read_imap(
    host: str, port: int, user: str, password: str, mailbox: str = "INBOX", ssl: bool = True
) -> list[Incoming]:
    """Every message of an IMAP mailbox (read-only: nothing is marked or moved)."""
    try:
        client = (imaplib.IMAP4_SSL if ssl else imaplib.IMAP4)(host, port, timeout=30)
    except OSError as exc:
        raise ApplicationError(f"cannot reach the IMAP server {host}:{port}: {exc}") from None
    try:
        try:
            client.login(user, password)
        except imaplib.IMAP4.error:
            raise ConfigError(
                f"the IMAP server refused the log-in of '{user}': check the secret"
            ) from None
        status, _ = client.select(mailbox, readonly=True)
        if status != "OK":
            raise ConfigError(f"no mailbox '{mailbox}' on {host}")
        _, data = client.uid("SEARCH", None, "ALL")
        messages = []
        for uid in (data[0] or b"").split():
            _, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next(p[1] for p in parts if isinstance(p, tuple))
            messages.append(parse(raw, f"imap:{mailbox}/{uid.decode()}"))
        return messages
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def compose(
    sender: str,
    to: list[str],
    subject: str,
    text: str,
    *,
    key: str,
    attachments: list[tuple[str, bytes, str]] = (),
) -> EmailMessage:
    """A plain-text message; its Message-ID follows from ``key`` (the same key, the same id),
    so that a copy the server took can be told from a new one. Attachments: (name, bytes,
    MIME type such as ``application/pdf``)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
    msg.set_content(text)
    for name, content, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg


OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    key TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""


class Outbox:
    """The record of what was sent, by key, in a SQLite file; see the module's docstring."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(OUTBOX_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.row_factory = sqlite3.Row
        return conn

    def get(self, key: str) -> dict | None:
        """The record of ``key`` (message_id, recipients, subject, state), or None."""
        conn = self._connect()
        try:
            row = conn.execute("SELECT * FROM outbox WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
        return dict(row) if row else None

    def _set(self, key: str, msg: EmailMessage, state: str) -> None:
        conn = self._connect()
        try:
            with conn:
                conn.execute(
                    "INSERT INTO outbox (key, message_id, recipients, subject, state, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                    " state = excluded.state, updated_at = excluded.updated_at",
                    (
                        key,
                        msg["Message-ID"],
                        msg["To"],
                        msg["Subject"],
                        state,
                        datetime.now(UTC).isoformat(timespec="seconds"),
                    ),
                )
        finally:
            conn.close()

    def send(
        self,
        msg: EmailMessage,
        *,
        key: str,
        host: str,
        port: int,
        login: tuple[str, str] | None = None,
        starttls: bool = False,
    ) -> str:
        """Send ``msg`` unless ``key`` was sent already; its Message-ID (the recorded one for
        a key sent before). InDoubt when an earlier send stopped while the server took it."""
        known = self.get(key)
        if known and known["state"] == "sent":
            return known["message_id"]
        if known and known["state"] == "transmitting":
            raise InDoubt(
                f"the e-mail '{known['subject']}' to {known['recipients']} may have been sent "
                f"(stopped while the server took it): look for Message-ID {known['message_id']} "
                "in the mail server's log, then mark it sent or send it by hand"
            )
        if known:  # an intent only: the server never saw the content; send the same message
            msg.replace_header("Message-ID", known["message_id"])
        self._set(key, msg, "intent")
        recipients = [a.strip() for a in msg["To"].split(",") if a.strip()]
        try:
            with smtplib.SMTP(host, port, timeout=30) as smtp:
                smtp.ehlo()
                if starttls:
                    smtp.starttls()
                    smtp.ehlo()
                if login:
                    smtp.login(*login)
                code, answer = smtp.mail(msg["From"])
                refused = [r for r in recipients if smtp.rcpt(r)[0] not in (250, 251)]
                if code != 250 or refused:
                    raise ApplicationError(f"the SMTP server refused {refused or msg['From']}")
                self._set(key, msg, "transmitting")
                smtp.data(msg.as_bytes(policy=policy.SMTP))
        except smtplib.SMTPAuthenticationError:
            raise ConfigError(
                f"the SMTP server {host} refused the log-in: check the secret"
            ) from None
        except smtplib.SMTPResponseException as exc:  # the server answered: it did not take it
            self._set(key, msg, "intent")
            raise ApplicationError(
                f"the SMTP server {host} refused '{msg['Subject']}': {exc.smtp_code}"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            state = self.get(key)
            if state and state["state"] == "transmitting":
                raise InDoubt(
                    f"the SMTP server {host} broke off while taking '{msg['Subject']}' "
                    f"({exc}): look for Message-ID {msg['Message-ID']} in its log"
                ) from None
            raise ApplicationError(f"cannot send through {host}:{port}: {exc}") from None
        self._set(key, msg, "sent")
        return msg["Message-ID"]

    def mark_sent(self, key: str) -> None:
        """A person found an in-doubt message on the server: record it as sent."""
        conn = self._connect()
        try:
            with conn:
                conn.execute("UPDATE outbox SET state = 'sent' WHERE key = ?", (key,))
        finally:
            conn.close()
