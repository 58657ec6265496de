"""The Open311 GeoReport v2 server, driven as clients drive it: XML and JSON, parsed."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeXml
import pytest

from intake_service.open311 import media
from shared.contracts import ReportStatus
from tests.helpers import MANAGE, OPEN311_KEY
from tests.images import decoded, encode, gps_exif, noise
from tests.photo_host import WROCLAW_EXIF, PhotoHost, photo_host
from tests.signed import status_event

V2 = "/open311/v2"
FORM = {
    "api_key": OPEN311_KEY,
    "service_code": "pothole",
    "lat": "51.1097",
    "long": "17.0326",
    "description": "Deep pothole on the right lane",
}


def xml(response) -> ElementTree.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return SafeXml.fromstring(response.content)


def as_json(response):
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def error_of(response, fmt: str) -> tuple[int, str]:
    """The first Open311 error (code, description), read as a client reads it."""
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        error = root.find("error")
        assert error is not None
        return int(error.findtext("code") or 0), error.findtext("description") or ""
    [first, *_] = as_json(response)
    return first["code"], first["description"]


def records(response, fmt: str) -> list[dict[str, str]]:
    """Service requests as flat dicts of text, from either format."""
    if fmt == "json":
        return [{k: str(v) for k, v in item.items()} for item in as_json(response)]
    root = xml(response)
    assert root.tag == "service_requests"
    return [{child.tag: child.text or "" for child in item} for item in root]


async def file_request(intake, fmt: str = "xml", **changes) -> str:
    response = await intake.post(f"{V2}/requests.{fmt}", data=FORM | changes)
    assert response.status_code == 200, response.text
    [record] = records(response, fmt)
    return record["service_request_id"]


WITHOUT_POSITION = {k: v for k, v in FORM.items() if k not in ("lat", "long")}


async def photo_placed_request(intake, fmt: str, **sent) -> bytes:
    """File a request with no position but a photo taken in Wrocław; the photo as served.

    The position comes from the photo, and the photo is served without its GPS.
    """
    response = await intake.post(
        f"{V2}/requests.{fmt}", data=WITHOUT_POSITION | sent.pop("data", {}), **sent
    )
    assert response.status_code == 200, response.text
    [record] = records(response, fmt)
    found = await intake.get(f"{V2}/requests/{record['service_request_id']}.{fmt}")
    [again] = records(found, fmt)
    assert float(again["lat"]) == pytest.approx(51.1097, abs=0.01)
    photo = await intake.get(again["media_url"])
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert b"Exif" not in photo.content[:200]
    return photo.content


@pytest.fixture(params=["xml", "json"])
def fmt(request) -> str:
    return str(request.param)


class TestDiscoveryAndServices:
    async def test_discovery_names_this_endpoint_and_both_formats(self, intake, fmt):
        response = await intake.get(f"{V2}/discovery.{fmt}")
        assert response.status_code == 200
        if fmt == "xml":
            endpoint = xml(response).find("endpoints/endpoint")
            assert endpoint is not None
            url = endpoint.findtext("url") or ""
            formats = [f.text or "" for f in endpoint.findall("formats/format")]
            spec = endpoint.findtext("specification") or ""
        else:
            [endpoint] = as_json(response)["endpoints"]
            url, formats, spec = (
                endpoint["url"],
                endpoint["formats"],
                endpoint["specification"],
            )
        assert url.endswith("/open311/v2")
        assert formats == ["text/xml", "application/json"]
        assert spec == "http://wiki.open311.org/GeoReport_v2"

    async def test_where_to_ask_for_a_key_is_this_servers_documentation(self, intake):
        discovery = (await intake.get(f"{V2}/discovery.json")).json()
        assert discovery["key_service"] == "http://test/docs"


class TestKeyServiceSetting:
    @pytest.fixture
    def intake_settings(self, intake_settings):
        return intake_settings.model_copy(
            update={"open311_key_service": "mailto:open311@um.wroc.pl"}
        )

    async def test_the_city_names_where_to_ask_for_a_key(self, intake, fmt):
        response = await intake.get(f"{V2}/discovery.{fmt}")
        if fmt == "xml":
            assert xml(response).findtext("key_service") == "mailto:open311@um.wroc.pl"
        else:
            assert as_json(response)["key_service"] == "mailto:open311@um.wroc.pl"

    async def test_services_are_the_categories_in_the_clients_language(
        self, intake, fmt
    ):
        response = await intake.get(f"{V2}/services.{fmt}", params={"locale": "en"})
        assert response.status_code == 200
        if fmt == "xml":
            services = {
                s.findtext("service_code"): {c.tag: c.text for c in s}
                for s in xml(response).findall("service")
            }
        else:
            services = {s["service_code"]: s for s in as_json(response)}
        assert services["pothole"]["service_name"] == "Pothole"
        assert str(services["pothole"]["metadata"]).lower() == "false"
        assert str(services["street_light_out"]["metadata"]).lower() == "true"
        assert services["pothole"]["type"] == "realtime"
        assert services["pothole"]["group"] == "Roads and street furniture"

        polish = await intake.get(
            f"{V2}/services.{fmt}", headers={"Accept-Language": "pl"}
        )
        assert "Dziura w jezdni" in polish.text

    async def test_a_definition_lists_the_attributes_with_their_values(
        self, intake, fmt
    ):
        response = await intake.get(
            f"{V2}/services/overflowing_container.{fmt}", params={"locale": "en"}
        )
        assert response.status_code == 200
        attributes: list[dict[str, Any]]
        if fmt == "xml":
            root = xml(response)
            assert root.tag == "service_definition"
            attributes = [
                {
                    "code": a.findtext("code"),
                    "datatype": a.findtext("datatype"),
                    "required": a.findtext("required"),
                    "order": a.findtext("order"),
                    "values": [v.findtext("key") for v in a.findall("values/value")],
                }
                for a in root.findall("attributes/attribute")
            ]
        else:
            document = as_json(response)
            assert document["service_code"] == "overflowing_container"
            attributes = [
                {
                    "code": a["code"],
                    "datatype": a["datatype"],
                    "required": str(a["required"]).lower(),
                    "order": str(a["order"]),
                    "values": [v["key"] for v in a.get("values", [])],
                }
                for a in document["attributes"]
            ]
        waste = attributes[0]
        assert waste["code"] == "waste_type"
        assert waste["datatype"] == "singlevaluelist"
        assert waste["required"] == "true"
        assert waste["order"] == "1"
        assert "glass" in waste["values"]
        assert attributes[1]["code"] == "container_address"

    async def test_unknown_service_or_jurisdiction_is_a_404_in_open311_form(
        self, intake, fmt
    ):
        response = await intake.get(f"{V2}/services/no_such.{fmt}")
        assert response.status_code == 404
        code, description = error_of(response, fmt)
        assert code == 404
        assert "no_such" in description

        other = await intake.get(
            f"{V2}/services.{fmt}", params={"jurisdiction_id": "krakow.pl"}
        )
        assert other.status_code == 404
        assert error_of(other, fmt)[0] == 404
        ours = await intake.get(
            f"{V2}/services.{fmt}", params={"jurisdiction_id": "wroclaw.pl"}
        )
        assert ours.status_code == 200

    async def test_unknown_resources_and_formats_are_open311_404s(self, intake):
        for path in ("/nothing.xml", "/services.html", "/requests/x/y.json"):
            response = await intake.get(V2 + path)
            assert response.status_code == 404, path
            fmt = "json" if path.endswith(".json") else "xml"
            assert error_of(response, fmt)[0] == 404


class TestFilingRequests:
    async def test_a_request_is_filed_as_a_report(self, intake, fmt):
        response = await intake.post(
            f"{V2}/requests.{fmt}",
            data=FORM | {"email": "jan@example.org", "first_name": "Jan"},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 200
        [record] = records(response, fmt)
        number = record["service_request_id"]
        assert number.startswith("WRO-")
        assert "Expected to be dealt with by" in record["service_notice"]
        assert "token" not in record

        # The same report, in the resident API and in Open311's own view.
        found = await intake.get(f"{V2}/requests/{number}.{fmt}")
        [again] = records(found, fmt)
        assert again["status"] == "open"
        assert again["service_code"] == "pothole"
        assert float(again["lat"]) == pytest.approx(51.1097)
        assert float(again["long"]) == pytest.approx(17.0326)
        assert again["description"] == FORM["description"]
        assert again["address"] == ""
        assert again["requested_datetime"].endswith("Z")
        # Never who reported it.
        assert "jan@example.org" not in found.text
        assert "Jan" not in found.text

    async def test_similar_open_reports_nearby_are_named_in_the_notice(
        self, intake, fmt
    ):
        first = await file_request(intake, fmt)
        response = await intake.post(
            f"{V2}/requests.{fmt}",
            data=FORM | {"lat": "51.1098"},
            headers={"Accept-Language": "en"},
        )
        [record] = records(response, fmt)
        assert f"Similar open reports nearby: {first}." in record["service_notice"]
        assert record["service_request_id"] != first

    async def test_the_api_key_is_required_and_checked(self, intake, fmt):
        for key in (None, "", "mam_op_wrong"):
            data = {k: v for k, v in FORM.items() if k != "api_key"}
            if key is not None:
                data["api_key"] = key
            response = await intake.post(f"{V2}/requests.{fmt}", data=data)
            assert response.status_code == 403
            assert error_of(response, fmt)[0] == 403

    async def test_attributes_are_read_from_bracketed_keys(self, intake, fmt):
        number = await file_request(
            intake,
            fmt,
            service_code="overflowing_container",
            **{
                "attribute[waste_type]": "glass",
                "attribute[container_address]": "Rynek 1",
            },
        )
        response = await intake.get(
            "/v1/reports", params={"category": "overflowing_container"}
        )
        [report] = response.json()["items"]
        assert report["number"] == number

        missing = await intake.post(
            f"{V2}/requests.{fmt}",
            data=FORM | {"service_code": "overflowing_container"},
        )
        assert missing.status_code == 400
        assert "attribute[waste_type]" in missing.text

        wrong = await intake.post(
            f"{V2}/requests.{fmt}",
            data=FORM
            | {
                "service_code": "overflowing_container",
                "attribute[waste_type][]": "lava",
            },
        )
        assert wrong.status_code == 400

    async def test_the_document_says_a_description_is_needed(self, intake, fmt):
        spec = (await intake.get("/openapi.json")).json()
        body = spec["paths"]["/open311/v2/requests.{fmt}"]["post"]["requestBody"]
        form = body["content"]["application/x-www-form-urlencoded"]["schema"]
        assert "description" in form["required"]
        assert form["properties"]["description"]["minLength"] == 1
        without = {k: v for k, v in FORM.items() if k != "description"}
        response = await intake.post(f"{V2}/requests.{fmt}", data=without)
        assert response.status_code == 400

    async def test_bad_requests_are_400s_that_say_what_is_wrong(self, intake, fmt):
        cases = {
            "description": {"description": ""},
            "lat and long": {"long": ""},
            "lat": {"lat": "north"},
        }
        for needle, change in cases.items():
            response = await intake.post(
                f"{V2}/requests.{fmt}",
                data=FORM | change,
                headers={"Accept-Language": "en"},
            )
            assert response.status_code == 400, needle
            assert needle in response.text, response.text

        outside = await intake.post(
            f"{V2}/requests.{fmt}", data=FORM | {"lat": "52.2297", "long": "21.0122"}
        )
        assert outside.status_code == 400
        assert "Wrocław" in outside.text

        no_geocoder = await intake.post(
            f"{V2}/requests.{fmt}",
            data={k: v for k, v in FORM.items() if k not in ("lat", "long")}
            | {"address_string": "Rynek 1, Wrocław"},
            headers={"Accept-Language": "en"},
        )
        assert no_geocoder.status_code == 400
        assert "lat and long" in error_of(no_geocoder, fmt)[1]

        unknown = await intake.post(
            f"{V2}/requests.{fmt}", data=FORM | {"service_code": "no_such"}
        )
        assert unknown.status_code == 404

    async def test_errors_speak_the_clients_language(self, intake):
        response = await intake.post(
            f"{V2}/requests.xml",
            data={k: v for k, v in FORM.items() if k != "api_key"},
            headers={"Accept-Language": "de"},
        )
        assert response.status_code == 403
        assert "gültiger api_key" in error_of(response, "xml")[1]

    async def test_uploaded_media_becomes_the_requests_photo(self, intake, fmt):
        image = encode(noise((64, 48)), "JPEG", exif=gps_exif(*WROCLAW_EXIF))
        await photo_placed_request(
            intake, fmt, files={"media": ("photo.jpg", image, "image/jpeg")}
        )

    async def test_a_media_url_on_a_private_address_never_costs_the_request(
        self, intake, fmt
    ):
        """The request is filed; the link is given up in the background (see
        test_open311_media), and the record never points to it."""
        response = await intake.post(
            f"{V2}/requests.{fmt}",
            data=FORM | {"media_url": "http://127.0.0.1:1/photo.jpg"},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 200, response.text
        [record] = records(response, fmt)
        found = await intake.get(f"{V2}/requests/{record['service_request_id']}.{fmt}")
        [again] = records(found, fmt)
        assert "media_url" not in again
        assert "127.0.0.1" not in found.text


async def test_a_nul_in_the_query_is_an_open311_400(intake, fmt):
    response = await intake.get(f"{V2}/requests.{fmt}?service_code=pot%00hole")
    assert response.status_code == 400
    code, description = error_of(response, fmt)
    assert code == 400
    assert description


async def test_every_operation_documents_the_400_of_a_nul(intake, fmt):
    """Any address may hold a NUL, and its answer is a 400 there too."""
    spec = (await intake.get("/openapi.json")).json()
    undocumented = [
        f"{method} {path}"
        for path, item in spec["paths"].items()
        if path.startswith(V2)
        for method, operation in item.items()
        if "400" not in operation["responses"]
    ]
    assert undocumented == []
    response = await intake.get(f"{V2}/services.{fmt}?locale=p%00l")
    assert response.status_code == 400
    assert error_of(response, fmt)[0] == 400


class TestMediaUrlWithoutPosition:
    """A request without `lat`/`long` is placed where its photo was taken: its
    `media_url` is fetched before the answer (with a position, see test_open311_media)."""

    @pytest.fixture
    async def host(self) -> AsyncIterator[PhotoHost]:
        async with photo_host() as host:
            yield host

    @pytest.fixture
    def intake_settings(self, intake_settings):
        return intake_settings.model_copy(
            update={
                "open311_media_allow_private_hosts": True,
                "open311_media_timeout_seconds": 0.5,
            }
        )

    async def test_the_photo_is_fetched_cleaned_and_gives_the_position(
        self, intake, host, fmt
    ):
        photo = await photo_placed_request(
            intake, fmt, data={"media_url": host.link("/large.jpg")}
        )
        assert decoded(photo).size == (1600, 1200)

    async def test_a_host_name_beyond_ascii_is_refused_in_words(self, intake):
        response = await intake.post(
            f"{V2}/requests.json",
            data=WITHOUT_POSITION
            | {"media_url": "http://zdjęcia.wrocław.invalid/1.jpg"},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 400
        assert "did not answer" in error_of(response, "json")[1]

    @pytest.mark.parametrize(
        ("path", "reason"),
        [
            ("/missing.jpg", "answered with an error"),
            ("/moved.jpg", "answered with an error"),
            ("/hangs.jpg", "did not answer in time"),
            ("/huge.jpg", "larger than the photo size limit"),
        ],
    )
    async def test_a_photo_that_cannot_be_used_files_nothing(
        self, intake, host, path, reason
    ):
        response = await intake.post(
            f"{V2}/requests.json",
            data=WITHOUT_POSITION | {"media_url": host.link(path)},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 400
        assert reason in error_of(response, "json")[1]
        listed = await intake.get("/v1/reports")
        assert listed.json()["items"] == []


class TestReadingRequests:
    async def test_filters_dates_with_offsets_status_and_paging(self, intake, fmt):
        first = await file_request(intake, fmt)
        second = await file_request(intake, fmt, service_code="damaged_bench")
        third = await file_request(intake, fmt)

        async def ids(**params) -> list[str]:
            response = await intake.get(f"{V2}/requests.{fmt}", params=params)
            assert response.status_code == 200, response.text
            return [r["service_request_id"] for r in records(response, fmt)]

        assert await ids() == [third, second, first]
        assert await ids(service_request_id=f"{first},{third}") == [third, first]
        assert await ids(service_code="damaged_bench") == [second]
        assert await ids(page_size="2") == [third, second]
        assert await ids(page_size="2", page="2") == [first]
        assert await ids(status="closed") == []
        assert await ids(status="open") == [third, second, first]

        now = dt.datetime.now(dt.UTC)
        # A minute from now, written as Warsaw's winter time.
        in_warsaw = now + dt.timedelta(hours=1, minutes=1)
        later = in_warsaw.strftime("%Y-%m-%dT%H:%M:%S") + "+01:00"
        earlier = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert await ids(start_date=earlier, end_date=later) == [third, second, first]
        assert await ids(end_date=earlier) == []
        # A "+" sent unencoded arrives as a space, and still counts as the offset.
        response = await intake.get(
            f"{V2}/requests.{fmt}?start_date={earlier}&end_date={later}"
        )
        assert [r["service_request_id"] for r in records(response, fmt)] == [
            third,
            second,
            first,
        ]

    async def test_an_empty_answer_is_an_empty_list(self, intake, fmt):
        response = await intake.get(f"{V2}/requests.{fmt}")
        assert response.status_code == 200
        if fmt == "xml":
            root = xml(response)
            assert root.tag == "service_requests"
            assert list(root) == []
        else:
            assert as_json(response) == []

    async def test_bad_filters_are_400s(self, intake, fmt):
        for params in (
            {"start_date": "yesterday"},
            {"start_date": "2026-11-01T00:00:00"},  # no zone
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            {"status": "pending"},
            {"page": "0"},
            {"page_size": "5000"},
        ):
            response = await intake.get(f"{V2}/requests.{fmt}", params=params)
            assert response.status_code == 400, params
            assert error_of(response, fmt)[0] == 400

    async def test_an_unknown_request_is_a_404(self, intake, fmt):
        response = await intake.get(f"{V2}/requests/WRO-2026-999999.{fmt}")
        assert response.status_code == 404
        assert "WRO-2026-999999" in error_of(response, fmt)[1]

    async def test_status_unit_and_notes_follow_the_city(self, intake, fmt):
        number = await file_request(intake, fmt)
        report = (await intake.get("/v1/reports")).json()["items"][0]
        for sequence, (status, note) in enumerate(
            [
                (ReportStatus.SUBMITTED, None),
                (ReportStatus.IN_PROGRESS, "Ekipa w drodze"),
                (ReportStatus.RESOLVED, "Załatane"),
            ],
            start=1,
        ):
            body, headers = status_event(report["id"], status, sequence, note=note)
            delivered = await intake.post(
                "/internal/events", content=body, headers=headers
            )
            assert delivered.status_code == 202

        response = await intake.get(
            f"{V2}/requests/{number}.{fmt}", params={"locale": "en"}
        )
        [record] = records(response, fmt)
        assert record["status"] == "closed"
        assert record["status_notes"] == "Załatane"
        assert record["agency_responsible"] == "Roads and City Maintenance Board"

        updates = await intake.get(f"{V2}/servicerequestupdates.{fmt}")
        assert updates.status_code == 200
        if fmt == "xml":
            root = xml(updates)
            assert root.tag == "service_request_updates"
            items = [
                {c.tag: c.text or "" for c in u} for u in root.findall("request_update")
            ]
        else:
            items = as_json(updates)
        mine = [u for u in items if u["service_request_id"] == number]
        assert [u["status"] for u in mine] == ["open", "open", "in_progress", "fixed"]
        assert mine[-1]["description"] == "Załatane"
        assert mine[-1]["external_status_code"] == "resolved"
        assert len({u["update_id"] for u in mine}) == 4


class TestBatchMode:
    @pytest.fixture
    def intake_settings(self, intake_settings):
        return intake_settings.model_copy(update={"open311_service_type": "batch"})

    async def test_a_token_resolves_once_the_crm_has_the_request(self, intake, fmt):
        services = await intake.get(f"{V2}/services.json")
        assert {s["type"] for s in services.json()} == {"batch"}

        response = await intake.post(f"{V2}/requests.{fmt}", data=FORM)
        [answer] = records(response, fmt)
        token = answer["token"]
        assert "service_request_id" not in answer

        waiting = await intake.get(f"{V2}/tokens/{token}.{fmt}")
        [entry] = records(waiting, fmt)
        assert entry == {"token": token}

        body, headers = status_event(token, ReportStatus.SUBMITTED, 1)
        assert (
            await intake.post("/internal/events", content=body, headers=headers)
        ).status_code == 202
        resolved = await intake.get(f"{V2}/tokens/{token}.{fmt}")
        [entry] = records(resolved, fmt)
        assert entry["token"] == token
        assert entry["service_request_id"].startswith("WRO-")

        unknown = await intake.get(f"{V2}/tokens/{uuid.uuid4()}.{fmt}")
        assert unknown.status_code == 404


class TestClientKeys:
    async def test_each_kind_of_key_sent_where_the_other_belongs_is_named(
        self, intake, cli
    ):
        _, client_key, _ = await cli("open311-key", "create", "--name", "city-app")
        _, operator_key, _ = await cli(
            "operator-key", "create", "--name", "desk", "--role", "manage"
        )
        as_operator = await intake.get(
            "/v1/operator/actions",
            headers={"X-API-Key": client_key.strip(), "Accept-Language": "en"},
        )
        assert as_operator.status_code == 401
        assert "This is an Open311 client's api_key" in as_operator.json()["detail"]

        as_client = await intake.post(
            f"{V2}/requests.json",
            data=FORM | {"api_key": operator_key.strip()},
            params={"locale": "en"},
        )
        assert as_client.status_code == 403
        [error] = as_client.json()
        assert error["description"].startswith("This is an operator key (mam_op_")

    async def test_a_key_made_on_the_command_line_files_requests_until_revoked(
        self, intake, cli
    ):
        status, out, err = await cli("open311-key", "create", "--name", "city-app")
        assert status == 0, err
        key = out.strip()
        assert key.startswith("mam_o311_")
        assert "shown only now" in err

        response = await intake.post(
            f"{V2}/requests.json", data=FORM | {"api_key": key}
        )
        assert response.status_code == 200, response.text

        status, out, _ = await cli("open311-key", "list")
        assert status == 0
        assert "city-app" in out
        assert "fixmystreet" in out  # the key from the settings
        assert key not in out

        status, _, err = await cli("open311-key", "revoke", "--name", "fixmystreet")
        assert status == 1
        assert "INTAKE_OPEN311_API_KEYS" in err

        status, _, err = await cli("open311-key", "revoke", "--name", "city-app")
        assert status == 0, err
        refused = await intake.post(f"{V2}/requests.json", data=FORM | {"api_key": key})
        assert refused.status_code == 403

        # Making and revoking client keys is in the operators' audit log.
        log = await intake.get("/v1/operator/actions", headers=MANAGE)
        assert [a["action"] for a in log.json()["items"]][:2] == [
            "open311_key.revoke",
            "open311_key.create",
        ]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2a00:1450:4001:80b::200e", True),
        ("64:ff9b::808:808", True),  # 8.8.8.8 through NAT64
        ("10.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        # IPv4 addresses of the city's network carried inside IPv6 ones.
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::a00:1", False),
        ("2002:a00:1::1", False),
        ("::10.0.0.1", False),
        ("::ffff:0:10.0.0.1", False),
        ("64:ff9b:1::808:808", False),  # NAT64 for local use
    ],
)
def test_which_addresses_a_media_url_may_reach(address, public):
    assert media._public(address) is public


@pytest.mark.parametrize(
    "change",
    [
        {"service_code": "pot\x00hole"},
        {"email": "anna\x00@example.org"},
        {"first_name": "An\x00na"},
        {"attribute[lamp_post_number]": "L\x00-1"},
    ],
    ids=["service_code", "email", "first_name", "attribute"],
)
async def test_a_nul_in_a_form_field_is_an_open311_400_and_nothing_is_filed(
    intake, fmt, change
):
    """PostgreSQL stores no NUL: it is refused before any query, naming the field."""
    response = await intake.post(
        f"{V2}/requests.{fmt}", data=FORM | change, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400, response.text
    code, description = error_of(response, fmt)
    assert code == 400
    assert (
        description
        == f"{next(iter(change))}: the text must not contain NUL characters."
    )
    assert (await intake.get("/v1/reports")).json()["items"] == []
