"""A real SMTP server in the test process (aiosmtpd on 127.0.0.1, a free port), keeping what it receives."""

from __future__ import annotations

import socket
import warnings
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    """One delivered message: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Inbox:
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 OK"


class SmtpServer:
    """Start and stop an aiosmtpd server on a fixed port (so it can be "down" and then come back)."""

    def __init__(self, port: int | None = None, *, user: str | None = None, password: str | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.user, self.password = user, password
        self._controller: Controller | None = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, given = auth_data.login.decode(), auth_data.password.decode()
            self.inbox.logins.append((login, given))
            if (login, given) == (self.user, self.password):
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> SmtpServer:
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kwargs)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        return self.inbox.received
