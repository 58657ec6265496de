"""E-mail codes: made, kept as keyed hashes, and mailed in the account's language."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from email.message import EmailMessage

from intake_service.accounts.models import CodePurpose
from intake_service.mail.sender import Mailer, MailError, compose
from shared.i18n import N_, Np_, translate

logger = logging.getLogger(__name__)

GREETING = N_("Hello {name},")
VERIFY_SUBJECT = N_("Confirm your e-mail address")
VERIFY_INTRO = N_(
    "Enter this code in the MAM app ({city}) to confirm your e-mail address:"
)
VERIFY_WHY = N_(
    "Until the address is confirmed, your reports are filed, but you are not told how "
    "they progress."
)
VERIFY_IGNORE = N_("If you did not create an account, ignore this message.")
RESET_SUBJECT = N_("Your code for a new password")
RESET_INTRO = N_("Enter this code in the MAM app ({city}) to set a new password:")
RESET_IGNORE = N_(
    "If you did not ask for a new password, ignore this message: your password stays "
    "as it is."
)
VALIDITY = N_("The code is valid for {minutes} min.")
TRIES = Np_(
    "It can be entered wrongly at most once.",
    "It can be entered wrongly at most {count} times.",
)

_TEXTS = {
    CodePurpose.VERIFY_EMAIL: (
        VERIFY_SUBJECT,
        VERIFY_INTRO,
        (VERIFY_WHY, VERIFY_IGNORE),
    ),
    CodePurpose.RESET_PASSWORD: (RESET_SUBJECT, RESET_INTRO, (RESET_IGNORE,)),
}


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(
    secret: str, account_id: uuid.UUID, purpose: CodePurpose, code: str
) -> str:
    """Keyed, because a plain hash of six digits is undone by trying a million of them."""
    message = f"{account_id}:{purpose}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def code_matches(stored_hash: str, presented_hash: str) -> bool:
    return hmac.compare_digest(stored_hash, presented_hash)


def code_message(
    *,
    purpose: CodePurpose,
    code: str,
    sender: str,
    to: str,
    name: str,
    lang: str,
    city: str,
    minutes: int,
    tries: int,
) -> EmailMessage:
    subject, intro, closing = _TEXTS[purpose]
    paragraphs = [
        translate(GREETING, lang, name=name),
        translate(intro, lang, city=city),
        f"    {code}",
        translate(VALIDITY, lang, minutes=minutes)
        + " "
        + translate(TRIES, lang, count=tries),
        *(translate(text, lang) for text in closing),
    ]
    return compose(
        sender=sender,
        to=to,
        subject=translate(subject, lang),
        text="\n\n".join(paragraphs) + "\n",
    )


async def send_code(
    mailer: Mailer, message: EmailMessage, account_id: uuid.UUID
) -> bool:
    """Hand the message to the mailer; False (logged, without the address) when it failed."""
    try:
        await mailer.send(message)
    except (MailError, OSError) as error:
        logger.warning(
            "accounts.code_mail_failed",
            extra={"account_id": str(account_id), "error": type(error).__name__},
        )
        return False
    logger.info("accounts.code_mail_sent", extra={"account_id": str(account_id)})
    return True
