"""A resident's app written against the Python client generated from
`docs/api/intake-resident.json` (package `mam_client`), as an app team would write it.

`tests/e2e/test_generated_client.py` generates the client, checks this file with
`mypy --strict` and runs it against the real intake service:

    python resident_app.py file            # categories, account, sign-in, a named report
    python resident_app.py notifications   # the resident's notifications

Settings come from the environment: `INTAKE_URL`, `MAIL_DIR` (where intake writes its mails),
`EMAIL`, and for `notifications` `TOKEN`. Each step prints one line of JSON.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import TypeVar

from mam_client import AuthenticatedClient, Client
from mam_client.api.accounts import create_account, create_token, verify_email
from mam_client.api.categories import list_categories
from mam_client.api.me import list_notifications
from mam_client.api.reports import create_report
from mam_client.models import (
    AccountCreate,
    CreateReportFilesBody,
    EmailVerification,
    Lang,
    Location,
    NotificationList,
    Problem,
    ReportCreate,
    TokenRequest,
)
from mam_client.types import File
from PIL import Image

T = TypeVar("T")
PASSWORD = "kolorowe-tramwaje-42"


class Refused(Exception):
    """The service answered with a problem (RFC 9457)."""


def ok(answer: T | Problem | None) -> T:
    """The answer, or its problem raised: the one place where errors are told apart."""
    if answer is None:
        raise Refused("an answer the document does not describe")
    if isinstance(answer, Problem):
        raise Refused(f"{answer.status} {answer.type_}: {answer.title}")
    return answer


def mailed_code(folder: Path, address: str) -> str:
    """The 6-digit code of the newest mail to `address` in intake's mail folder."""
    for path in sorted(folder.glob("*.eml"), reverse=True):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        if str(mail["To"]).lower() == address.lower():
            text = str(mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
            return str(re.findall(r"^\s*(\d{6})\s*$", text, flags=re.MULTILINE)[0])
    raise LookupError(f"no mail to {address}")


def a_photo() -> File:
    image = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 90, 90)).save(image, "JPEG")
    image.seek(0)
    return File(payload=image, file_name="dziura.jpg", mime_type="image/jpeg")


def file_a_report(base_url: str, mail_dir: Path, email: str) -> dict[str, object]:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    categories = ok(list_categories.sync(client=anonymous, lang=Lang.DE))
    pothole = next(c for c in categories if c.code == "pothole")
    ok(
        create_account.sync(
            client=anonymous,
            body=AccountCreate(
                email=email, password=PASSWORD, display_name="Anna", lang=Lang.DE
            ),
        )
    )
    verified = verify_email.sync_detailed(
        client=anonymous,
        body=EmailVerification(email=email, code=mailed_code(mail_dir, email)),
    )
    if verified.status_code != 204:
        raise Refused(f"verification: {verified.status_code}")
    token = ok(
        create_token.sync(
            client=anonymous, body=TokenRequest(email=email, password=PASSWORD)
        )
    )
    anna = AuthenticatedClient(
        base_url=base_url, token=token.access_token, raise_on_unexpected_status=True
    )
    report = ok(
        create_report.sync(
            client=anna,
            body=CreateReportFilesBody(
                report=ReportCreate(
                    category=pothole.code,
                    description="Głęboka dziura na prawym pasie.",
                    location=Location(lat=51.1097, lon=17.0326),
                ),
                photos=[a_photo()],
            ),
        )
    )
    # Signing in is optional for a report: the same operation takes either client.
    anonymous_report = ok(
        create_report.sync(
            client=anonymous,
            body=ReportCreate(
                category=pothole.code,
                description="Druga dziura, obok.",
                location=Location(lat=51.1098, lon=17.0327),
            ),
        )
    )
    return {
        "category_name": pothole.name,
        "anonymous_report_id": str(anonymous_report.id),
        "report_id": str(report.id),
        "photos": len(report.photos),
        "token": token.access_token,
    }


def notifications(base_url: str, token: str) -> dict[str, object]:
    anna = AuthenticatedClient(base_url=base_url, token=token)
    page: NotificationList = ok(list_notifications.sync(client=anna))
    return {
        "unread_count": page.unread_count,
        "items": [
            {"status": str(item.status), "title": item.title} for item in page.items
        ],
    }


def main() -> None:
    base_url, email = os.environ["INTAKE_URL"], os.environ.get("EMAIL", "")
    if sys.argv[1] == "file":
        result = file_a_report(base_url, Path(os.environ["MAIL_DIR"]), email)
    else:
        result = notifications(base_url, os.environ["TOKEN"])
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
