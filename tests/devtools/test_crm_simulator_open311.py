"""The simulator's Open311 side as an Open311 client sees it, and its REST change list."""

from __future__ import annotations

import datetime as dt
import json

from defusedxml import ElementTree

from shared.settings import DEV_SECRETS

BASE = "/open311/v2"
KEY = DEV_SECRETS["crm_api_key"]
REQUEST = {
    "api_key": KEY,
    "service_code": "pothole",
    "lat": "51.109700",
    "long": "17.032600",
    "description": "Dziura",
    "service_request_id_ext": "report-1",
}


def xml_records(response) -> tuple[str, list[dict]]:
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ElementTree.fromstring(response.content)
    return root.tag, [{c.tag: c.text for c in item} for item in root]


async def create(crm, fmt: str = "json", **fields) -> str:
    response = await crm.post(f"{BASE}/requests.{fmt}", data=REQUEST | fields)
    assert response.status_code == 200, response.text
    if fmt == "json":
        return str(response.json()[0]["service_request_id"])
    return str(xml_records(response)[1][0]["service_request_id"])


class TestRequests:
    async def test_a_request_is_a_case_of_the_rest_api(self, crm_simulator):
        response = await crm_simulator.post(
            f"{BASE}/requests.xml",
            content=(
                "api_key=" + KEY + "&service_code=street_light_out&lat=51.1&long=17.0"
                "&description=Ciemno&attribute[lamp]=L-1&attribute[days][]=mon"
                "&attribute[days][]=tue&email=a%40example.org&first_name=Anna"
                "&media_url=http%3A%2F%2Fx%2F1&media_url=http%3A%2F%2Fx%2F2"
            ),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        root, [answer] = xml_records(response)
        assert root == "service_requests"
        case = (
            await crm_simulator.get(f"/api/cases/{answer['service_request_id']}")
        ).json()
        assert case["attributes"] == {"lamp": "L-1", "days": "mon,tue"}
        assert case["reporter"] == {"name": "Anna", "email": "a@example.org"}
        assert case["photos"] == ["http://x/1", "http://x/2"]
        assert (case["status"], case["channel"]) == ("NEW", "open311")

    async def test_one_media_url_is_documented_as_well_as_several(self, crm_simulator):
        spec = (await crm_simulator.get("/openapi.json")).json()
        body = spec["paths"][f"{BASE}/requests.{{fmt}}"]["post"]["requestBody"]
        form = body["content"]["application/x-www-form-urlencoded"]["schema"]
        kinds = [kind["type"] for kind in form["properties"]["media_url"]["anyOf"]]
        assert kinds == ["string", "array"]
        number = await create(crm_simulator, media_url="http://x/1")
        case = (await crm_simulator.get(f"/api/cases/{number}")).json()
        assert case["photos"] == ["http://x/1"]

    async def test_multipart_is_taken_too(self, crm_simulator):
        response = await crm_simulator.post(
            f"{BASE}/requests.json",
            files={k: (None, v) for k, v in REQUEST.items()},
        )
        assert response.status_code == 200
        assert list(response.json()[0]) == ["service_request_id", "service_notice"]

    async def test_a_rest_case_and_its_changes_are_seen_through_open311(
        self, crm_simulator
    ):
        made = await crm_simulator.post(
            "/api/cases",
            json={
                "external_ref": "report-2",
                "category": "pothole",
                "unit": "zdium",
                "location": {"lat": 51.1, "lon": 17.0},
            },
        )
        case_id = made.json()["case_id"]
        await crm_simulator.post(
            f"/api/cases/{case_id}/status", json={"status": "DONE", "note": "Załatane"}
        )
        [record] = (await crm_simulator.get(f"{BASE}/requests/{case_id}.json")).json()
        assert (record["status"], record["external_status_code"]) == ("closed", "DONE")
        assert (record["status_notes"], record["service_request_id_ext"]) == (
            "Załatane",
            "report-2",
        )
        root, updates = xml_records(
            await crm_simulator.get(f"{BASE}/servicerequestupdates.xml")
        )
        assert root == "service_request_updates"
        assert [
            (u["service_request_id"], u["status"], u["description"]) for u in updates
        ] == [(case_id, "fixed", "Załatane")]

    async def test_requests_are_found_by_id_by_the_clients_id_and_by_date(
        self, crm_simulator
    ):
        first = await create(crm_simulator)
        second = await create(crm_simulator, service_request_id_ext="report-3")
        by_ids = await crm_simulator.get(
            f"{BASE}/requests.json", params={"service_request_id": f"{first},{second}"}
        )
        assert [r["service_request_id"] for r in by_ids.json()] == [first, second]
        by_ext = await crm_simulator.get(
            f"{BASE}/requests.json", params={"service_request_id_ext": "report-3"}
        )
        assert [r["service_request_id"] for r in by_ext.json()] == [second]
        tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime(
            "%Y-%m-%dT%H:%M:%S+02:00"
        )
        later = await crm_simulator.get(
            f"{BASE}/requests.json", params={"start_date": tomorrow}
        )
        assert later.json() == []
        closed = await crm_simulator.get(
            f"{BASE}/requests.json", params={"status": "closed"}
        )
        assert closed.json() == []


class TestErrors:
    async def test_errors_come_in_open311_form_and_status(self, crm_simulator):
        no_code = await crm_simulator.post(
            f"{BASE}/requests.xml", data={"api_key": KEY, "lat": "1", "long": "2"}
        )
        assert no_code.status_code == 400
        root, [error] = xml_records(no_code)
        assert (root, error["code"]) == ("errors", "400")
        assert "service_code" in (error["description"] or "")

        no_key = await crm_simulator.post(
            f"{BASE}/requests.json", data=REQUEST | {"api_key": ""}
        )
        assert no_key.status_code == 403
        assert no_key.json() == [
            {"code": 403, "description": "missing or wrong api_key"}
        ]

        unknown = await crm_simulator.get(f"{BASE}/requests/CRM-424242.json")
        assert unknown.status_code == 404
        assert unknown.json()[0]["code"] == 404

        bad_date = await crm_simulator.get(
            f"{BASE}/requests.json", params={"start_date": "yesterday"}
        )
        assert bad_date.status_code == 400

    async def test_only_xml_and_json_are_spoken(self, crm_simulator):
        response = await crm_simulator.get(f"{BASE}/services.yaml")
        assert response.status_code == 404
        root, [error] = xml_records(response)
        assert (root, error["code"]) == ("errors", "404")

    async def test_empty_dates_and_dates_beyond_the_calendar_are_a_bad_request(
        self, crm_simulator
    ):
        for params in (
            {"start_date": ""},
            {"end_date": "0001-01-01T00:00:00Z"},
            {"start_date": "0001-01-01T00:00:00+01:00"},
            {"end_date": "9999-12-31T23:59:59-01:00"},
        ):
            for path in ("requests", "servicerequestupdates"):
                response = await crm_simulator.get(f"{BASE}/{path}.json", params=params)
                assert response.status_code == 400, (path, params)
                assert response.json()[0]["code"] == 400

    async def test_an_updates_time_is_documented_as_the_text_it_is(self, crm_simulator):
        """The simulator dates a change when it arrives: any updated_datetime is taken."""
        spec = (await crm_simulator.get("/openapi.json")).json()
        body = spec["paths"][f"{BASE}/servicerequestupdates.{{fmt}}"]["post"]
        form = body["requestBody"]["content"]["application/x-www-form-urlencoded"]
        assert form["schema"]["properties"]["updated_datetime"]["type"] == "string"
        assert "format" not in form["schema"]["properties"]["updated_datetime"]
        number = await create(crm_simulator)
        update = {
            "api_key": KEY,
            "service_request_id": number,
            "update_id": "mam-update-1",
            "status": "OPEN",
            "description": "Nadal jest",
            "updated_datetime": "",
        }
        response = await crm_simulator.post(
            f"{BASE}/servicerequestupdates.json", data=update
        )
        assert response.status_code == 200, response.text

    async def test_a_form_that_cannot_be_read_is_an_open311_error(self, crm_simulator):
        for path in ("requests", "servicerequestupdates"):
            response = await crm_simulator.post(
                f"{BASE}/{path}.json",
                content=b"--x\r\nnot a part",
                headers={"content-type": "multipart/form-data; boundary=x"},
            )
            assert response.status_code == 400, response.text
            assert response.json()[0]["code"] == 400

    def test_every_answer_is_documented_with_both_formats(self, crm_simulator_app):
        spec = crm_simulator_app.openapi()
        answers = {
            ("get", "discovery.{fmt}"): {"200", "404"},
            ("get", "services.{fmt}"): {"200", "404"},
            ("post", "requests.{fmt}"): {"200", "400", "403", "404"},
            ("get", "requests.{fmt}"): {"200", "400", "404"},
            ("get", "requests/{request_id}.{fmt}"): {"200", "404"},
            ("get", "tokens/{token}.{fmt}"): {"200", "404"},
            ("get", "servicerequestupdates.{fmt}"): {"200", "400", "404"},
            ("post", "servicerequestupdates.{fmt}"): {"200", "400", "403", "404"},
        }
        for (method, path), statuses in answers.items():
            operation = spec["paths"][f"{BASE}/{path}"][method]
            assert set(operation["responses"]) == statuses, path
            for status, response in operation["responses"].items():
                content = response["content"]
                assert {"text/xml", "application/json"} <= set(content), (path, status)
                assert all(c.get("example") for c in content.values()), (path, status)
            [fmt] = [p for p in operation["parameters"] if p["name"] == "fmt"]
            assert fmt["schema"]["enum"] == ["xml", "json"]


class TestBatchMode:
    async def test_a_token_resolves_after_its_delay_or_when_released(
        self, crm_simulator
    ):
        switched = await crm_simulator.put(
            "/open311/simulator", json={"batch": True, "token_delay_seconds": None}
        )
        assert switched.json() == {"batch": True, "token_delay_seconds": None}
        [answer] = (
            await crm_simulator.post(f"{BASE}/requests.json", data=REQUEST)
        ).json()
        token = answer["token"]
        waiting = await crm_simulator.get(f"{BASE}/tokens/{token}.json")
        assert waiting.json() == [{"token": token}]
        await crm_simulator.post("/open311/simulator/tokens/release")
        [resolved] = (await crm_simulator.get(f"{BASE}/tokens/{token}.json")).json()
        assert resolved["token"] == token
        assert (
            await crm_simulator.get(f"/api/cases/{resolved['service_request_id']}")
        ).status_code == 200
        assert (await crm_simulator.get(f"{BASE}/tokens/nope.json")).status_code == 404

    async def test_the_mode_takes_json_types_only(self, crm_simulator):
        for wrong in (
            {"batch": True, "token_delay_seconds": "0.5"},
            {"batch": "true", "token_delay_seconds": 1},
            {"batch": 1},
            {"batch": True, "token_delay_seconds": False},
            {"batch": True, "token_delay_seconds": -1},
        ):
            response = await crm_simulator.put("/open311/simulator", json=wrong)
            assert response.status_code == 422, wrong
        assert (await crm_simulator.get("/open311/simulator")).json()["batch"] is False
        switched = await crm_simulator.put(
            "/open311/simulator", json={"batch": True, "token_delay_seconds": 2}
        )
        assert switched.json() == {"batch": True, "token_delay_seconds": 2.0}


async def test_discovery_and_services(crm_simulator):
    discovery = (await crm_simulator.get(f"{BASE}/discovery.json")).json()
    [endpoint] = discovery["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith(BASE)
    root, _ = xml_records(await crm_simulator.get(f"{BASE}/discovery.xml"))
    assert root == "discovery"
    await create(crm_simulator)
    services = (await crm_simulator.get(f"{BASE}/services.json")).json()
    assert {"service_code": "pothole", "type": "realtime"}.items() <= services[
        1
    ].items()


async def test_the_rest_change_list_goes_on_after_a_sequence_number(crm_simulator):
    case_id = await create(crm_simulator)
    for status in ("ASSIGNED", "DONE"):
        await crm_simulator.post(
            f"/api/cases/{case_id}/status", json={"status": status}
        )
    everything = (await crm_simulator.get("/api/updates")).json()
    assert [(u["seq"], u["status"], u["version"]) for u in everything] == [
        (1, "ASSIGNED", 2),
        (2, "DONE", 3),
    ]
    after = (await crm_simulator.get("/api/updates", params={"after": 1})).json()
    assert after == everything[1:]
    assert json.loads(json.dumps(after[0]))["external_ref"] == "report-1"
