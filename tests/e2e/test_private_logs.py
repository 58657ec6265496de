"""Personal data never reaches the logs of any process, whatever the resident does."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.test_flow import status_of, the_only_case
from tests.helpers import POTHOLE, eventually, folder_mailbox, verify

pytestmark = pytest.mark.e2e


async def test_no_e_mail_name_password_text_or_token_is_logged(stack):
    marker = uuid.uuid4().hex[:10]
    email = f"prywatna-{marker}@example.org"
    name = f"Zofia Tajemnicza {marker}"
    password = f"sekretne-haslo-{marker}"
    description = f"Dziura przed domem Zofii, ul. Prywatna {marker}"
    device_token = f"push-token-{marker}-" + "x" * 40
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        created = await intake.post(
            "/v1/accounts",
            json={
                "email": email,
                "password": password,
                "display_name": name,
                "lang": "pl",
            },
        )
        assert created.status_code == 201, created.text
        await verify(intake, email, folder_mailbox(stack.mail_dir))
        token = (
            await intake.post(
                "/v1/auth/token", json={"email": email, "password": password}
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        await intake.post(
            "/v1/me/devices",
            json={"platform": "android", "token": device_token},
            headers=headers,
        )
        report = (
            await intake.post(
                "/v1/reports",
                json=POTHOLE | {"description": description, "show_name": True},
                headers=headers,
            )
        ).json()
        # A failed sign-in and a malformed body are logged too, and must not echo input.
        await intake.post(
            "/v1/auth/token", json={"email": email, "password": "zle-haslo-123"}
        )
        await intake.post(
            "/v1/reports",
            content=f'{{"description": "{description}"',
            headers={"content-type": "application/json"},
        )
        case = await the_only_case(crm, report["id"])
        await crm.post(
            f"/api/cases/{case['case_id']}/status",
            json={"status": "IN_PROGRESS", "note": f"Dzwonilismy do {name}"},
        )
        await status_of(intake, report["id"], "in_progress")

        async def told():
            feed = (await intake.get("/v1/me/notifications", headers=headers)).json()
            return feed.get("items")

        await eventually(told, what="the notification")
        await intake.get(
            "/v1/reports/nearby",
            params={"lat": 51.1123456, "lon": 17.0456789, "category": "pothole"},
        )
        # Request ids and traces are logged; what is not one of them never is.
        unasked = await intake.get(
            "/v1/categories", headers={"X-Request-ID": email, "traceparent": name}
        )
        assert unasked.headers["x-request-id"] != email
        await intake.get("/v1/me/export", headers=headers)
        assert (await intake.delete("/v1/me", headers=headers)).status_code == 204

    logs = {path.name: path.read_text() for path in stack.logs.glob("*.log")}
    assert "intake.log" in logs
    secrets = [email, name, password, "zle-haslo-123", description, device_token, token]
    leaks = [
        (file, secret)
        for file, text in logs.items()
        for secret in secrets
        if secret in text
    ]
    assert leaks == []
    # Nor the client's address, nor a position from a query string (access lines stay).
    assert '"GET /v1/reports/nearby HTTP/1.1" 200' in logs["intake.log"]
    assert "51.1123456" not in logs["intake.log"]
    assert not re.search(r"127\.0\.0\.1:\d+ - ", "".join(logs.values()))
