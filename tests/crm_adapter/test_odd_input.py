"""Odd operator input is a 4xx problem on both databases, never a 500."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import MANAGE, READ

NUL_ADDRESSES = [
    "/admin/cases?unit=a%00b",
    "/admin/cases?category=%00",
    "/admin/deliveries?connector=%00",
    "/admin/unmapped?code=%00",
    "/admin/status-mappings?connector=%00",
]


@pytest.mark.parametrize("address", NUL_ADDRESSES)
async def test_a_nul_in_a_query_is_a_400(adapter, address):
    response = await adapter.get(address, headers=READ)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:mam:problem:nul-in-address"


async def test_a_nul_in_a_path_is_a_400(adapter):
    response = await adapter.put(
        "/admin/status-mappings/rest_json/A%00B",
        json={"status": "in_progress"},
        headers=MANAGE,
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:mam:problem:nul-in-address"


async def test_a_nul_in_a_trip_reason_is_a_field_error(adapter):
    response = await adapter.post(
        "/admin/connectors/rest_json/trip", json={"reason": "a\x00b"}, headers=MANAGE
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["reason"]


@pytest.mark.parametrize(
    "address",
    [
        "/admin/routing/versions/2147483648",
        "/admin/routing/versions?before=99999999999999999999999",
    ],
)
async def test_a_version_number_past_the_column_is_a_422(adapter, address):
    response = await adapter.get(address, headers=READ)
    assert response.status_code == 422


async def test_two_operators_mapping_a_new_code_at_once_both_succeed(adapter):
    answers = await asyncio.gather(
        *(
            adapter.put(
                "/admin/status-mappings/rest_json/WAITING_FOR_PARTS",
                json={"status": status},
                headers=MANAGE,
            )
            for status in ("in_progress", "in_progress", "submitted", "in_progress")
        )
    )
    assert [a.status_code for a in answers] == [200] * 4
    listed = await adapter.get(
        "/admin/status-mappings", params={"connector": "rest_json"}, headers=READ
    )
    mapped = [m for m in listed.json() if m["crm_code"] == "WAITING_FOR_PARTS"]
    assert len(mapped) == 1


async def test_reapplying_with_the_longest_filters_is_recorded(adapter):
    response = await adapter.post(
        "/admin/unmapped/reapply",
        params={"connector": "c" * 50, "code": "X" * 50},
        headers=MANAGE,
    )
    assert response.status_code == 200, response.text
    log = await adapter.get("/admin/actions", headers=MANAGE)
    [entry] = log.json()["items"]
    assert entry["action"] == "held_changes.reapply"
    assert len(entry["target_id"]) == 100
