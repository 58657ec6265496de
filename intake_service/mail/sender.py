"""Mailers: one interface, an SMTP mailer and a folder mailer for development and tests."""

from __future__ import annotations

import asyncio
import os
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib

from shared.db import utcnow


class MailError(Exception):
    """The message was not sent; `permanent` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand the message over for delivery, or raise `MailError`."""
        ...


def compose(
    *, sender: str, to: str, subject: str, text: str, message_id: str | None = None
) -> EmailMessage:
    """A plain-text UTF-8 message; a stable `message_id` lets a resent copy be recognised."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    domain = sender.rpartition("@")[2].rstrip(">") or "localhost"
    message["Message-ID"] = (
        f"<{message_id}@{domain}>" if message_id else make_msgid(domain=domain)
    )
    message.set_content(text)
    return message


class SmtpMailer:
    """Submits messages to an SMTP server (port 587 with STARTTLS, 465 with TLS, or plain)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: Literal["starttls", "tls", "none"],
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.security == "tls",
                start_tls=self.security == "starttls",
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            # 5xx for every recipient: the address does not exist, retrying cannot help.
            permanent = all(500 <= error.code < 600 for error in refused.recipients)
            raise MailError("recipient refused", permanent=permanent) from refused
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise MailError(type(error).__name__) from error


class FolderMailer:
    """Writes each message as an `.eml` file into a folder (readable by any mail client).

    The development default: verification codes and notification mails can be read there,
    and nothing personal is written to the logs.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, bytes(message))

    def _write(self, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        fd, path = tempfile.mkstemp(dir=self.folder, prefix=f"{stamp}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(path, path.removesuffix(".tmp") + ".eml")
