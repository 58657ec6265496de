"""Mailers: SMTP against a real server in process, and the folder mailer."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from intake_service.config import Settings
from intake_service.mail.sender import FolderMailer, MailError, SmtpMailer, compose
from tests.smtp import Inbox, smtp_server


@pytest.fixture
def smtp():
    yield from smtp_server()


def message(to: str = "anna@example.org"):
    return compose(
        sender="MAM <no-reply@mam.example>",
        to=to,
        subject="Zgłoszenie WRO-2026-000042",
        text="Zgłoszenie zostało załatwione.",
        message_id="delivery-1",
    )


async def test_smtp_mailer_delivers_utf8_text(smtp: tuple[Inbox, int]):
    inbox, port = smtp
    mailer = SmtpMailer(host="127.0.0.1", port=port, security="none")
    await mailer.send(message())
    [received] = inbox.to("anna@example.org")
    assert received["Subject"] == "Zgłoszenie WRO-2026-000042"
    assert received["Message-ID"] == "<delivery-1@mam.example>"
    assert received.get_content().strip() == "Zgłoszenie zostało załatwione."


async def test_a_refused_recipient_is_a_permanent_failure(smtp: tuple[Inbox, int]):
    inbox, port = smtp
    inbox.refuse.add("ghost@example.org")
    mailer = SmtpMailer(host="127.0.0.1", port=port, security="none")
    with pytest.raises(MailError) as failure:
        await mailer.send(message("ghost@example.org"))
    assert failure.value.permanent


async def test_a_busy_or_absent_server_is_a_temporary_failure(smtp: tuple[Inbox, int]):
    inbox, port = smtp
    inbox.fail_next = 1
    mailer = SmtpMailer(host="127.0.0.1", port=port, security="none")
    with pytest.raises(MailError) as busy:
        await mailer.send(message())
    assert not busy.value.permanent
    closed = SmtpMailer(host="127.0.0.1", port=1, security="none", timeout=5)
    with pytest.raises(MailError) as absent:
        await closed.send(message())
    assert not absent.value.permanent
    assert inbox.messages == []


async def test_folder_mailer_writes_readable_eml_files(tmp_path: Path):
    await FolderMailer(tmp_path / "mail").send(message())
    [file] = (tmp_path / "mail").glob("*.eml")
    read = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert read["To"] == "anna@example.org"
    assert list((tmp_path / "mail").glob("*.tmp")) == []


def test_settings_choose_the_mailer(tmp_path: Path):
    assert isinstance(Settings(data_dir=tmp_path).mailer(), FolderMailer)
    smtp = Settings(data_dir=tmp_path, smtp_host="mail.example", smtp_port=465).mailer()
    assert isinstance(smtp, SmtpMailer)
    assert (smtp.host, smtp.port) == ("mail.example", 465)
