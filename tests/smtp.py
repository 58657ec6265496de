"""A real SMTP server in the test process (aiosmtpd), keeping what it receives."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devtools.stack import free_ports


class Inbox:
    """What the server accepted; `refuse` makes it answer 550 to these recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.fail_next = 0

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: Any,
    ) -> str:
        if self.fail_next:
            self.fail_next -= 1
            return "451 4.3.0 Try again later"
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A running SMTP server on a free loopback port and its inbox."""
    inbox = Inbox()
    [port] = free_ports(1)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
