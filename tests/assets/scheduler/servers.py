"""Real servers on 127.0.0.1 for the alert tests: a webhook receiver and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Webhook:
    """Keeps every JSON body POSTed to ``url``; answers 204."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(
                    {
                        "content_type": self.headers.get("Content-Type"),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def bodies(self) -> list[dict]:
        return [r["body"] for r in self.received]


class Mailbox:
    """An SMTP server (aiosmtpd) that keeps every message, with AUTH when ``logins`` given
    ({user: password}); ``logins_used`` records who logged in."""

    def __init__(self, logins: dict[str, str] | None = None) -> None:
        self.messages: list = []
        self.logins_used: list[str] = []
        self.logins = logins
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        options = {}
        if logins is not None:
            options = {"auth_require_tls": False, "authenticator": self._authenticate}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self.logins.get(user) == password:
                self.logins_used.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def texts(self) -> list[str]:
        """Each message as its subject line and its decoded body."""
        parsed = [message_from_bytes(m.content, policy=policy.default) for m in self.messages]
        return [f"Subject: {p['Subject']}\n{p.get_content()}" for p in parsed]
