"""A resident's contact data reaches the CRM only by consent, and leaves it on erasure."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_flow import the_only_case
from tests.helpers import POTHOLE, eventually, folder_mailbox, register_and_sign_in

pytestmark = pytest.mark.e2e


async def test_shared_contact_reaches_the_crm_and_is_erased_there(stack):
    email = f"kontakt-{uuid.uuid4().hex[:8]}@example.org"
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        headers = await register_and_sign_in(
            intake, email, name="Ola", mailbox=folder_mailbox(stack.mail_dir)
        )
        shared = await intake.post(
            "/v1/reports", json=POTHOLE | {"share_contact": True}, headers=headers
        )
        private = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        case = await the_only_case(crm, shared.json()["id"])
        assert case["reporter"] == {"name": "Ola", "email": email, "lang": "pl"}
        assert (await the_only_case(crm, private.json()["id"]))["reporter"] is None

        assert (await intake.delete("/v1/me", headers=headers)).status_code == 204

        async def erased():
            now = (await crm.get(f"/api/cases/{case['case_id']}")).json()
            return now["reporter"] is None

        await eventually(erased, what="the contact erased in the CRM")
        public = (await intake.get(f"/v1/reports/{shared.json()['id']}")).json()
        assert public["reported_by"] is None
