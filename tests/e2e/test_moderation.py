"""Moderation over the network, with the real processes: the city's CRM fetches a report's
photo through its signed link, an operator hides the photo and the CRM's next fetch is
refused; the reporter gets an e-mail in their language; showing it again lets the CRM in."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.e2e.test_flow import status_of, the_only_case
from tests.helpers import (
    MANAGE,
    POTHOLE,
    READ,
    eventually,
    folder_mailbox,
    mails_to,
    register_and_sign_in,
)
from tests.images import RED, encode, with_corner

pytestmark = pytest.mark.e2e


async def test_a_hidden_photo_is_refused_to_the_crm_until_shown_again(stack):
    email = f"de-{uuid.uuid4().hex[:8]}@example.org"
    mailbox = folder_mailbox(stack.mail_dir)
    photo = encode(with_corner((800, 600), RED), "JPEG")
    report = POTHOLE | {"description": "Dziura, a obok auto WX 12345"}
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        resident = await register_and_sign_in(intake, email, lang="de", mailbox=mailbox)
        created = await intake.post(
            "/v1/reports",
            files=[
                ("report", (None, json.dumps(report), "application/json")),
                ("photos", ("plate.jpg", photo, "image/jpeg")),
            ],
            headers=resident,
        )
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]
        [shown] = created.json()["photos"]

        # The CRM has the case with a signed link to the photo and fetches it.
        case = await the_only_case(crm, report_id)
        [link] = case["photos"]
        assert link.startswith(stack.intake + f"/v1/photos/{shown['id']}/signed")
        async with httpx.AsyncClient() as city_crm:
            fetched = await city_crm.get(link)
            assert fetched.status_code == 200
            assert fetched.headers["content-type"] == "image/jpeg"
        await status_of(intake, report_id, "submitted")

        hidden = await intake.post(
            f"/v1/operator/reports/{report_id}/photos/{shown['id']}/hide",
            json={"reason_code": "face_or_plate", "reason": "Numer rejestracyjny."},
            headers=MANAGE,
        )
        assert hidden.status_code == 200, hidden.text

        async with httpx.AsyncClient() as city_crm:
            refused = await city_crm.get(link)
            assert refused.status_code == 404
            assert refused.json()["type"] == "urn:mam:problem:photo-hidden"
            assert (await city_crm.get(stack.intake + shown["url"])).status_code == 404
        public = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert public["photos"] == []
        # Operators still see it.
        seen = await intake.get(f"/v1/operator/reports/{report_id}", headers=READ)
        [kept] = seen.json()["photos"]
        assert kept["hidden_at"] is not None
        assert (await intake.get(kept["url"], headers=READ)).content == fetched.content

        # The reporter is told by e-mail, in German, with the reason's name only.
        async def mail_about_the_photo():
            return [
                m
                for m in mails_to(mailbox, email)
                if "Foto Ihrer Meldung" in m.get_content()
            ]

        [mail] = await eventually(mail_about_the_photo, what="the e-mail")
        text = mail.get_content()
        assert created.json()["number"] in text
        assert "Grund: ein Gesicht oder ein Kennzeichen." in text
        assert "Numer rejestracyjny" not in text

        restored = await intake.post(
            f"/v1/operator/reports/{report_id}/photos/{shown['id']}/restore",
            json={"reason": "Tablica zamazana przez mieszkańca."},
            headers=MANAGE,
        )
        assert restored.status_code == 200, restored.text
        async with httpx.AsyncClient() as city_crm:
            again = await city_crm.get(link)
            assert again.status_code == 200
            assert again.content == fetched.content
