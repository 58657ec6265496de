"""The simulator's fault injection (`/_sim/faults`), over a real HTTP server."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devtools.crm_simulator.app import create_app
from devtools.crm_simulator.config import Settings
from devtools.crm_simulator.faults import Operation, operations_of
from shared.settings import DEV_SECRETS
from tests.helpers import eventually
from tests.live import live


def new_case() -> dict[str, object]:
    return {
        "external_ref": str(uuid.uuid4()),
        "title": "WRO-2026-000042",
        "category": "pothole",
        "unit": "zdium",
        "location": {"lat": 51.1097, "lon": 17.0326},
    }


class Receiver:
    """A webhook receiver recording what it got, in order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, object]]] = []

        async def hook(request: Request) -> Response:
            self.received.append((request.headers["webhook-id"], await request.json()))
            return Response(status_code=204)

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hooks = Receiver()
    async with live(hooks.app) as url:
        yield hooks, url + "/hook"


@pytest.fixture
async def crm(receiver) -> AsyncIterator[httpx.AsyncClient]:
    _, hook_url = receiver
    app = create_app(Settings(webhook_url=hook_url, webhook_attempts=1))
    async with (
        live(app) as url,
        httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {DEV_SECRETS['crm_api_key']}"},
            timeout=10,
        ) as client,
    ):
        yield client


async def set_faults(crm: httpx.AsyncClient, faults: dict[str, object]) -> dict:
    response = await crm.put("/_sim/faults", json=faults)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def cases_for(crm: httpx.AsyncClient, external_ref: object) -> list[dict]:
    response = await crm.get("/api/cases", params={"external_ref": str(external_ref)})
    assert response.status_code == 200
    return list(response.json())


class TestOperations:
    @pytest.mark.parametrize(
        ("method", "path", "expected"),
        [
            ("POST", "/api/cases", (Operation.CREATE,)),
            ("GET", "/api/cases", (Operation.READ,)),
            ("GET", "/api/cases/CRM-000001", (Operation.READ,)),
            ("POST", "/api/cases/CRM-000001/reopen", (Operation.REOPEN,)),
            ("POST", "/api/cases/CRM-000001/comments", (Operation.COMMENT,)),
            ("DELETE", "/api/cases/CRM-000001/reporter", (Operation.ERASE,)),
            ("POST", "/open311/v2/requests.xml", (Operation.CREATE,)),
            ("GET", "/open311/v2/requests/17.json", (Operation.READ,)),
            (
                "POST",
                "/open311/v2/servicerequestupdates.xml",
                (Operation.REOPEN, Operation.COMMENT),
            ),
            # A field worker's change and the simulator's own API are never faulted.
            ("POST", "/api/cases/CRM-000001/status", ()),
            ("PUT", "/_sim/faults", ()),
            ("GET", "/openapi.json", ()),
        ],
    )
    def test_requests_are_told_apart_by_operation(self, method, path, expected):
        assert operations_of(method, path) == expected


class TestFaultApi:
    async def test_set_read_and_reset(self, crm):
        assert (await crm.get("/_sim/faults")).json() == {
            "rules": [],
            "idempotent_creates": False,
            "webhooks": {"duplicate": False, "order": "as_made", "hold_seconds": 0.5},
            "injected": {},
        }
        answer = await set_faults(
            crm,
            {"rules": [{"kind": "error", "count": 1}], "idempotent_creates": True},
        )
        assert answer["rules"][0]["kind"] == "error"
        assert answer["rules"][0]["status"] == 503
        assert (await crm.post("/api/cases", json=new_case())).status_code == 503
        state = (await crm.get("/_sim/faults")).json()
        assert (state["rules"], state["injected"]) == ([], {"error": 1})

        assert (await crm.delete("/_sim/faults")).status_code == 204
        state = (await crm.get("/_sim/faults")).json()
        assert (state["rules"], state["idempotent_creates"], state["injected"]) == (
            [],
            False,
            {},
        )

    async def test_an_unknown_kind_is_refused(self, crm):
        response = await crm.put("/_sim/faults", json={"rules": [{"kind": "fire"}]})
        assert response.status_code == 422

    @pytest.mark.parametrize(
        "faults",
        [
            {"webhooks": {"hold_seconds": False}},
            {"webhooks": {"hold_seconds": "0.5"}},
            {"webhooks": {"duplicate": "true"}},
            {"webhooks": {"duplicate": 1}},
            {"idempotent_creates": "yes"},
            {"rules": [{"kind": "error", "rate": "0.5"}]},
            {"rules": [{"kind": "error", "count": 1.5}]},
            {"rules": [{"kind": "error", "count": "2"}]},
            {"rules": [{"kind": "error", "status": "500"}]},
            {"rules": [{"kind": "latency", "latency_seconds": True}]},
            {"rules": [{"kind": "timeout", "hang_seconds": "1"}]},
            {"rules": [{"kind": "throttle", "retry_after_seconds": "5"}]},
        ],
    )
    async def test_values_of_the_wrong_json_type_are_refused(self, crm, faults):
        response = await crm.put("/_sim/faults", json=faults)
        assert response.status_code == 422, response.text
        assert (await crm.get("/_sim/faults")).json()["rules"] == []

    async def test_whole_numbers_are_taken_as_seconds_and_rates(self, crm):
        answer = await set_faults(
            crm,
            {
                "rules": [{"kind": "latency", "rate": 1, "latency_seconds": 0}],
                "webhooks": {"hold_seconds": 2},
            },
        )
        assert answer["rules"][0]["latency_seconds"] == 0
        assert answer["webhooks"]["hold_seconds"] == 2

    async def test_integers_may_be_written_with_a_point_zero(self, crm):
        """JSON Schema's `integer`, as the document says, takes 2.0 as well as 2."""
        rule = {"kind": "error", "count": 2.0, "status": 502.0}
        throttle = {"kind": "throttle", "retry_after_seconds": 5.0}
        answer = await set_faults(crm, {"rules": [rule, throttle]})
        error, throttled = answer["rules"]
        assert (error["count"], error["status"]) == (2, 502)
        assert throttled["retry_after_seconds"] == 5


class TestRequestFaults:
    async def test_errors_for_the_next_n_creates_only_and_nothing_is_created(self, crm):
        await set_faults(
            crm,
            {"rules": [{"kind": "error", "count": 2, "operations": ["create"]}]},
        )
        case = new_case()
        first = await crm.post("/api/cases", json=case)
        # Reads are not among the rule's operations.
        assert await cases_for(crm, case["external_ref"]) == []
        second = await crm.post("/api/cases", json=case)
        third = await crm.post("/api/cases", json=case)
        assert [first.status_code, second.status_code, third.status_code] == [
            503,
            503,
            201,
        ]
        assert len(await cases_for(crm, case["external_ref"])) == 1

    async def test_a_chosen_error_status(self, crm):
        await set_faults(crm, {"rules": [{"kind": "error", "status": 422}]})
        assert (await crm.post("/api/cases", json=new_case())).status_code == 422

    async def test_a_rate_of_zero_never_fires_and_one_always(self, crm):
        await set_faults(crm, {"rules": [{"kind": "error", "rate": 0.0}]})
        statuses = {
            (await crm.post("/api/cases", json=new_case())).status_code
            for _ in range(5)
        }
        assert statuses == {201}
        await set_faults(crm, {"rules": [{"kind": "error", "rate": 1.0}]})
        statuses = {(await crm.get("/api/cases")).status_code for _ in range(5)}
        assert statuses == {503}

    async def test_throttling_says_when_to_come_back(self, crm):
        await set_faults(
            crm, {"rules": [{"kind": "throttle", "retry_after_seconds": 7}]}
        )
        response = await crm.post("/api/cases", json=new_case())
        assert (response.status_code, response.headers["retry-after"]) == (429, "7")

    async def test_latency_delays_the_answer_but_the_request_works(self, crm):
        await set_faults(
            crm, {"rules": [{"kind": "latency", "latency_seconds": 0.4, "count": 1}]}
        )
        started = time.monotonic()
        response = await crm.post("/api/cases", json=new_case())
        assert response.status_code == 201
        assert time.monotonic() - started >= 0.4

    async def test_a_timeout_hangs_past_the_client_and_does_nothing(self, crm):
        await set_faults(
            crm,
            {"rules": [{"kind": "timeout", "hang_seconds": 3, "count": 1}]},
        )
        case = new_case()
        with pytest.raises(httpx.ReadTimeout):
            await crm.post("/api/cases", json=case, timeout=0.3)
        assert await cases_for(crm, case["external_ref"]) == []

    async def test_reset_after_commit_keeps_the_effect_and_drops_the_answer(self, crm):
        await set_faults(
            crm,
            {"rules": [{"kind": "reset_after_commit", "operations": ["create"]}]},
        )
        case = new_case()
        with pytest.raises(httpx.RemoteProtocolError):
            await crm.post("/api/cases", json=case)
        # The case exists, though its creator never heard so.
        assert [
            c["external_ref"] for c in await cases_for(crm, case["external_ref"])
        ] == [case["external_ref"]]


class TestCreateModes:
    async def test_non_idempotent_by_default_idempotent_when_switched(self, crm):
        case = new_case()
        first = (await crm.post("/api/cases", json=case)).json()
        second = (await crm.post("/api/cases", json=case)).json()
        assert first["case_id"] != second["case_id"]

        await set_faults(crm, {"idempotent_creates": True})
        third = (await crm.post("/api/cases", json=case)).json()
        assert third["case_id"] == first["case_id"]
        other = new_case()
        once = (await crm.post("/api/cases", json=other)).json()
        again = (await crm.post("/api/cases", json=other)).json()
        assert once["case_id"] == again["case_id"]
        assert len(await cases_for(crm, other["external_ref"])) == 1


class TestWebhookFaults:
    async def test_each_change_twice_and_newest_first(self, crm, receiver):
        hooks, _ = receiver
        await set_faults(
            crm,
            {
                "webhooks": {
                    "duplicate": True,
                    "order": "newest_first",
                    "hold_seconds": 0.3,
                }
            },
        )
        case_id = (await crm.post("/api/cases", json=new_case())).json()["case_id"]
        for status in ("IN_PROGRESS", "DONE"):
            changed = await crm.post(
                f"/api/cases/{case_id}/status", json={"status": status}
            )
            assert changed.status_code == 200

        async def four():
            return hooks.received if len(hooks.received) == 4 else None

        received = await eventually(four, what="four webhook deliveries")
        assert [body["version"] for _, body in received] == [3, 3, 2, 2]
        assert received[0][0] == received[1][0] != received[2][0] == received[3][0]

    async def test_shuffled_changes_all_arrive(self, crm, receiver):
        hooks, _ = receiver
        await set_faults(crm, {"webhooks": {"order": "shuffled", "hold_seconds": 0.2}})
        case_id = (await crm.post("/api/cases", json=new_case())).json()["case_id"]
        for status in ("ASSIGNED", "IN_PROGRESS", "SCHEDULED", "DONE"):
            await crm.post(f"/api/cases/{case_id}/status", json={"status": status})

        async def all_four():
            return hooks.received if len(hooks.received) == 4 else None

        received = await eventually(all_four, what="four webhook deliveries")
        assert sorted(body["version"] for _, body in received) == [2, 3, 4, 5]
        assert len({hook_id for hook_id, _ in received}) == 4

    async def test_a_reset_sends_webhooks_once_as_made_again(self, crm, receiver):
        hooks, _ = receiver
        await set_faults(crm, {"webhooks": {"duplicate": True}})
        assert (await crm.delete("/_sim/faults")).status_code == 204
        case_id = (await crm.post("/api/cases", json=new_case())).json()["case_id"]
        await crm.post(f"/api/cases/{case_id}/status", json={"status": "DONE"})
        await eventually(lambda: _some(hooks), what="a webhook delivery")
        # The simulator records each delivery: one, acknowledged, for the one change.
        deliveries = (await crm.get("/api/webhooks")).json()
        assert [(d["status"], d["attempts"], d["delivered"]) for d in deliveries] == [
            ("DONE", 1, True)
        ]
        assert len(hooks.received) == 1


async def _some(hooks: Receiver) -> list[tuple[str, dict[str, object]]] | None:
    return hooks.received or None


class FailsOnce(httpx.AsyncBaseTransport):
    """Sends over the network, except the first request, which fails as no HTTP error does
    (as httpcore once did on a connection closed while it was being made)."""

    def __init__(self) -> None:
        self.network = httpx.AsyncHTTPTransport()
        self.failed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.failed:
            self.failed = True
            raise AttributeError("'NoneType' object has no attribute 'getpeername'")
        return await self.network.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()


async def test_a_webhook_is_sent_again_whatever_failed_the_first_time(receiver):
    hooks, hook_url = receiver
    app = create_app(Settings(webhook_url=hook_url, webhook_attempts=2))
    async with (
        live(app) as url,
        httpx.AsyncClient(transport=FailsOnce()) as sender,
        httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {DEV_SECRETS['crm_api_key']}"},
        ) as crm,
    ):
        # Once it serves (its lifespan has made its own sender), it sends with ours.
        assert (await crm.get("/api/webhooks")).status_code == 200
        app.state.client = sender
        case_id = (await crm.post("/api/cases", json=new_case())).json()["case_id"]
        await crm.post(f"/api/cases/{case_id}/status", json={"status": "DONE"})
        await eventually(lambda: _some(hooks), what="a webhook delivery")
        deliveries = (await crm.get("/api/webhooks")).json()
    assert [(d["attempts"], d["delivered"]) for d in deliveries] == [(2, True)]
    assert len(hooks.received) == 1
