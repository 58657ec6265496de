"""Moderation as residents, Open311 clients, CRMs and operators meet it: what the city's
moderators hide is gone from every public view and photo link, operators still see it, the
reporter is told in their language, and residents' abuse flags fill the operators' queue."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeXml
import pytest
from sqlalchemy import func, select

from crm_adapter.crm.photos import PhotoLinks
from intake_service.app import create_app
from intake_service.moderation.models import AbuseFlag, ReasonCode
from intake_service.notifications.texts import MODERATION_REASONS
from shared.i18n import translate
from shared.settings import DEV_SECRETS
from tests.helpers import (
    MANAGE,
    POTHOLE,
    READ,
    AppClient,
    register_and_sign_in,
    serve,
)
from tests.images import GREEN, RED, encode, with_corner
from tests.intake_service.helpers import multipart

V2 = "/open311/v2"
NOTICE = {
    "pl": "Opis został ukryty przez moderatorów miasta.",
    "en": "The description was hidden by the city's moderators.",
    "de": "Die Beschreibung wurde von den Moderatoren der Stadt ausgeblendet.",
}
SECRET = "Sąsiad Jan Kowalski, tel. 600 100 200, znowu zastawił dziurę"
RED_PHOTO = ("red.jpg", encode(with_corner((400, 300), RED), "JPEG"), "image/jpeg")
GREEN_PHOTO = (
    "green.jpg",
    encode(with_corner((400, 300), GREEN), "JPEG"),
    "image/jpeg",
)
WHY = {"reason_code": "personal_data", "reason": "Imię, nazwisko i telefon sąsiada."}


async def file_report(intake, *photos, headers=None, description=SECRET) -> dict:
    report = POTHOLE | {"description": description}
    response = await intake.post(
        "/v1/reports", files=multipart(report, *photos), headers=headers or {}
    )
    assert response.status_code == 201, response.text
    body: dict = response.json()
    return body


async def moderate(intake, path: str, why=None, key=MANAGE) -> dict:
    response = await intake.post(
        f"/v1/operator/reports/{path}", json=why or WHY, headers=key
    )
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def signed(photo_id: str) -> str:
    """The signed link the adapter hands a CRM, as path and query."""
    links = PhotoLinks(
        intake_url="http://test",
        secret=DEV_SECRETS["photo_urls"],
        ttl=dt.timedelta(days=7),
    )
    [url] = links.urls([photo_id])
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def open311_records(response, fmt: str) -> list[dict[str, str]]:
    if fmt == "json":
        return [{k: str(v) for k, v in r.items()} for r in json.loads(response.content)]
    root: ElementTree.Element = SafeXml.fromstring(response.content)
    return [{child.tag: child.text or "" for child in item} for item in root]


async def public_views(intake, report: dict, lang: str = "pl") -> dict[str, dict]:
    """The report as each public view shows it, in `lang`."""
    headers = {"Accept-Language": lang}
    one = (await intake.get(f"/v1/reports/{report['id']}", headers=headers)).json()
    [listed] = (await intake.get("/v1/reports", headers=headers)).json()["items"]
    geojson = await intake.get(
        "/v1/reports", headers=headers | {"Accept": "application/geo+json"}
    )
    [feature] = geojson.json()["features"]
    [near] = (
        await intake.get(
            "/v1/reports/nearby",
            params={"lat": 51.1097, "lon": 17.0326, "category": "pothole"},
            headers=headers,
        )
    ).json()
    views = {"one": one, "list": listed, "map": feature["properties"], "nearby": near}
    for fmt in ("json", "xml"):
        found = await intake.get(
            f"{V2}/requests/{report['number']}.{fmt}", params={"locale": lang}
        )
        [record] = open311_records(found, fmt)
        views[f"open311.{fmt}"] = record
        listed311 = await intake.get(f"{V2}/requests.{fmt}", params={"locale": lang})
        [views[f"open311 list.{fmt}"]] = open311_records(listed311, fmt)
    return views


class TestHidingTheDescription:
    async def test_it_leaves_every_public_view_and_operators_still_read_it(
        self, intake
    ):
        report = await file_report(intake)
        assert all(
            view["description"] == SECRET
            for view in (await public_views(intake, report)).values()
        )

        await moderate(intake, f"{report['id']}/description/hide")

        for lang, notice in NOTICE.items():
            for name, view in (await public_views(intake, report, lang)).items():
                assert view["description"] == notice, (lang, name)
                if not name.startswith("open311"):
                    assert view["description_hidden"] is True, name
        # Not a word of it anywhere public.
        for path in (f"/v1/reports/{report['id']}", "/v1/reports"):
            assert "Kowalski" not in (await intake.get(path)).text
        for fmt in ("json", "xml"):
            found = await intake.get(f"{V2}/requests/{report['number']}.{fmt}")
            assert "Kowalski" not in found.text

        seen = await intake.get(f"/v1/operator/reports/{report['id']}", headers=READ)
        assert seen.status_code == 200, seen.text
        operator_view = seen.json()
        assert operator_view["description"] == SECRET
        assert operator_view["description_hidden_at"] is not None
        [event] = operator_view["moderation"]
        assert event["action"] == "description.hide"
        assert event["reason_code"] == "personal_data"
        assert event["reason_name"] == "dane osobowe"
        assert event["reason"] == WHY["reason"]
        assert event["operator_name"] == "city-manager"

    async def test_the_duplicates_hint_of_a_new_report_shows_the_notice(self, intake):
        hidden = await file_report(intake)
        await moderate(intake, f"{hidden['id']}/description/hide")
        second = await file_report(intake, description="Ta sama dziura")
        [duplicate] = second["possible_duplicates"]
        assert duplicate["id"] == hidden["id"]
        assert (duplicate["description"], duplicate["description_hidden"]) == (
            NOTICE["pl"],
            True,
        )

    async def test_restoring_brings_it_back_everywhere(self, intake):
        report = await file_report(intake)
        await moderate(intake, f"{report['id']}/description/hide")
        restored = await moderate(
            intake,
            f"{report['id']}/description/restore",
            {"reason": "Sąsiad zgodził się na podanie danych."},
        )
        assert restored["description_hidden_at"] is None
        assert [e["action"] for e in restored["moderation"]] == [
            "description.hide",
            "description.restore",
        ]
        for name, view in (await public_views(intake, report)).items():
            assert view["description"] == SECRET, name

    async def test_hiding_twice_changes_nothing_and_each_change_is_audited(
        self, intake
    ):
        report = await file_report(intake)
        first = await moderate(intake, f"{report['id']}/description/hide")
        again = await moderate(intake, f"{report['id']}/description/hide")
        assert again["moderation"] == first["moderation"]
        assert again["description_hidden_at"] == first["description_hidden_at"]

        log = (await intake.get("/v1/operator/actions", headers=MANAGE)).json()
        [entry] = [a for a in log["items"] if a["target_id"] == report["id"]]
        assert entry["action"] == "report.description.hide"
        assert entry["operator_name"] == "city-manager"
        assert entry["details"]["reason"] == WHY["reason"]
        assert entry["details"]["reason_code"] == "personal_data"

    async def test_the_reporter_still_reads_their_own_text(self, intake):
        anna = await register_and_sign_in(intake, "anna@example.org")
        report = await file_report(intake, headers=anna)
        await moderate(intake, f"{report['id']}/description/hide")

        [own] = (await intake.get("/v1/me/reports", headers=anna)).json()["items"]
        assert own["description"] == SECRET
        assert own["description_hidden"] is True
        export = (await intake.get("/v1/me/export", headers=anna)).json()
        [exported] = export["reports"]
        assert exported["description"] == SECRET
        # Anyone else, signed in or not, reads the notice.
        ewa = await register_and_sign_in(intake, "ewa@example.org")
        public = await intake.get(f"/v1/reports/{report['id']}", headers=ewa)
        assert public.json()["description"] == NOTICE["pl"]

    async def test_an_unknown_report_is_a_localized_404(self, intake):
        missing = "5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10"
        response = await intake.post(
            f"/v1/operator/reports/{missing}/description/hide",
            json=WHY,
            headers=MANAGE | {"Accept-Language": "de"},
        )
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:mam:problem:report-not-found"
        assert response.json()["title"] == "Meldung nicht gefunden"

    @pytest.mark.parametrize(
        "why",
        [
            {},
            {"reason": "   "},
            {"reason": "x" * 1001},
            {"reason": "ok", "reason_code": "boring"},
            {"reason": "ok", "hidden": True},
        ],
    )
    async def test_a_change_without_a_proper_reason_is_refused_and_nothing_changes(
        self, intake, why
    ):
        report = await file_report(intake)
        response = await intake.post(
            f"/v1/operator/reports/{report['id']}/description/hide",
            json=why,
            headers=MANAGE,
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        public = (await intake.get(f"/v1/reports/{report['id']}")).json()
        assert public["description"] == SECRET


class TestHidingAPhoto:
    async def test_it_is_served_to_nobody_but_operators_until_restored(self, intake):
        report = await file_report(intake, RED_PHOTO, GREEN_PHOTO)
        red, green = report["photos"]
        red_jpeg = (await intake.get(red["url"])).content
        assert (await intake.get(signed(red["id"]))).content == red_jpeg

        hidden = await moderate(
            intake,
            f"{report['id']}/photos/{red['id']}/hide",
            {"reason_code": "face_or_plate", "reason": "Widać tablicę rejestracyjną."},
        )
        assert [p["hidden_at"] is not None for p in hidden["photos"]] == [True, False]

        for path in (red["url"], red["thumbnail_url"], signed(red["id"])):
            for lang, words in (
                ("pl", "ukryli"),
                ("de", "ausgeblendet"),
                ("en", "hid"),
            ):
                refused = await intake.get(path, headers={"Accept-Language": lang})
                assert refused.status_code == 404, path
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.headers["cache-control"] == "no-store"
                assert refused.json()["type"] == "urn:mam:problem:photo-hidden"
                assert words in refused.json()["detail"]
        assert (await intake.get(green["url"])).status_code == 200
        assert (await intake.get(signed(green["id"]))).status_code == 200

        views = await public_views(intake, report)
        for name in ("one", "list", "map"):
            assert [p["id"] for p in views[name]["photos"]] == [green["id"]], name
        for name in ("open311.json", "open311.xml"):
            assert views[name]["media_url"].endswith(f"/v1/photos/{green['id']}")

        # Operators see every photo, the hidden one too, never cached.
        operator_view = (
            await intake.get(f"/v1/operator/reports/{report['id']}", headers=READ)
        ).json()
        shown_to_operators = operator_view["photos"][0]
        assert shown_to_operators["id"] == red["id"]
        photo = await intake.get(shown_to_operators["url"], headers=READ)
        assert photo.status_code == 200
        assert photo.headers["content-type"] == "image/jpeg"
        assert photo.headers["cache-control"] == "private, no-store"
        assert photo.content == red_jpeg
        assert (await intake.get(shown_to_operators["url"])).status_code == 401

        await moderate(
            intake,
            f"{report['id']}/photos/{red['id']}/restore",
            {"reason": "Tablica jest nieczytelna."},
        )
        assert (await intake.get(red["url"])).status_code == 200
        assert (await intake.get(signed(red["id"]))).status_code == 200
        views = await public_views(intake, report)
        assert [p["id"] for p in views["one"]["photos"]] == [red["id"], green["id"]]
        assert views["open311.json"]["media_url"].endswith(f"/v1/photos/{red['id']}")

    async def test_a_report_whose_only_photo_is_hidden_has_no_media_url(self, intake):
        report = await file_report(intake, RED_PHOTO)
        [red] = report["photos"]
        await moderate(intake, f"{report['id']}/photos/{red['id']}/hide")
        views = await public_views(intake, report)
        assert "media_url" not in views["open311.json"]
        assert views["open311.xml"].get("media_url", "") == ""
        assert views["list"]["photos"] == []

    async def test_a_photo_of_another_report_is_not_found_on_this_one(self, intake):
        one = await file_report(intake, RED_PHOTO)
        other = await file_report(intake, GREEN_PHOTO)
        response = await intake.post(
            f"/v1/operator/reports/{one['id']}/photos/{other['photos'][0]['id']}/hide",
            json=WHY,
            headers=MANAGE | {"Accept-Language": "en"},
        )
        assert response.status_code == 404
        assert response.json()["type"] == "urn:mam:problem:report-photo-not-found"
        assert response.json()["detail"] == "This report has no photo with this id."
        assert (await intake.get(other["photos"][0]["url"])).status_code == 200


class TestTheReporterIsTold:
    @pytest.mark.parametrize(
        ("lang", "hidden", "reason", "restored"),
        [
            ("pl", "ukryli opis", "Powód: dane osobowe.", "znów widoczny"),
            ("en", "hid the description", "Reason: personal data.", "again"),
            (
                "de",
                "Beschreibung Ihrer Meldung",
                "Grund: personenbezogene Daten.",
                "wieder",
            ),
        ],
    )
    async def test_in_their_accounts_language_with_the_reasons_name_only(
        self, intake, lang, hidden, reason, restored
    ):
        anna = await register_and_sign_in(intake, "anna@example.org", lang=lang)
        report = await file_report(intake, RED_PHOTO, headers=anna)
        await moderate(intake, f"{report['id']}/description/hide")
        await moderate(
            intake,
            f"{report['id']}/description/restore",
            {"reason_code": "other", "reason": "Pomyłka moderatora."},
        )
        await moderate(
            intake,
            f"{report['id']}/photos/{report['photos'][0]['id']}/hide",
            {"reason_code": "face_or_plate", "reason": "Twarz przechodnia."},
        )

        feed = (await intake.get("/v1/me/notifications", headers=anna)).json()
        photo, shown_again, hidden_text = feed["items"]
        assert hidden_text["kind"] == "description_hidden"
        assert hidden in hidden_text["text"]
        assert hidden_text["text"].endswith(reason)
        assert report["number"] in hidden_text["text"]
        assert shown_again["kind"] == "description_restored"
        assert restored in shown_again["text"]
        assert photo["kind"] == "photo_hidden"
        # The operators' own words stay with the operators.
        for words in ("sąsiada", "Pomyłka", "Twarz przechodnia"):
            assert words not in json.dumps(feed)

    async def test_nobody_is_told_of_an_anonymous_or_unverified_report(self, intake):
        anonymous = await file_report(intake)
        seen = await moderate(intake, f"{anonymous['id']}/description/hide")
        assert seen["reporter_told"] is False

        ewa = await register_and_sign_in(intake, "ewa@example.org", verified=False)
        unverified = await file_report(intake, headers=ewa)
        seen = await moderate(intake, f"{unverified['id']}/description/hide")
        assert seen["reporter_told"] is False
        feed = (await intake.get("/v1/me/notifications", headers=ewa)).json()
        assert feed["items"] == []


async def flag(intake, report_id, headers=None, **body):
    return await intake.post(
        f"/v1/reports/{report_id}/abuse",
        json={"reason_code": "offensive"} | body,
        headers=headers or {},
    )


async def queue(intake, **params) -> dict:
    response = await intake.get(
        "/v1/operator/moderation/queue", params=params, headers=READ
    )
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


class TestAbuseFlags:
    async def test_flags_count_once_per_account_or_address_and_fill_the_queue(
        self, intake
    ):
        report = await file_report(intake)
        anna = await register_and_sign_in(intake, "anna@example.org")
        for headers in (None, None, anna, anna):
            answer = await flag(intake, report["id"], headers, comment="Wyzwiska")
            assert answer.status_code == 202, answer.text
            assert answer.json()["message"].startswith("Dziękujemy")
        from_elsewhere = AppClient(intake.app, address="203.0.113.7")
        english = await flag(
            from_elsewhere,
            report["id"],
            {"Accept-Language": "en"},
            reason_code="personal_data",
        )
        assert english.json()["message"].startswith("Thank you")

        [item] = (await queue(intake))["items"]
        assert item["report_id"] == report["id"]
        assert item["flags"] == 3
        assert item["description"] == SECRET
        assert [(r["code"], r["count"]) for r in item["reasons"]] == [
            ("offensive", 2),
            ("personal_data", 1),
        ]
        assert item["comments"] == ["Wyzwiska", "Wyzwiska"]
        seen = await intake.get(f"/v1/operator/reports/{report['id']}", headers=READ)
        assert seen.json()["open_flags"] == 3

    async def test_the_most_flagged_come_first_in_pages(self, intake):
        once = await file_report(intake, description="Raz")
        twice = await file_report(intake, description="Dwa razy")
        thrice = await file_report(intake, description="Trzy razy")
        for report, times in ((once, 1), (thrice, 3), (twice, 2)):
            for n in range(times):
                client = AppClient(intake.app, address=f"198.51.100.{n + 1}")
                assert (await flag(client, report["id"])).status_code == 202
        seen, cursor = [], None
        while True:
            page = await queue(
                intake, limit=1, **({"cursor": cursor} if cursor else {})
            )
            seen += [(i["report_id"], i["flags"]) for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [(thrice["id"], 3), (twice["id"], 2), (once["id"], 1)]

    async def test_dismissing_or_hiding_resolves_the_flags(self, intake):
        dismissed = await file_report(intake, description="Nic złego")
        hidden = await file_report(intake)
        for report in (dismissed, hidden):
            assert (await flag(intake, report["id"])).status_code == 202
        assert len((await queue(intake))["items"]) == 2

        after = await moderate(
            intake,
            f"{dismissed['id']}/flags/dismiss",
            {"reason": "Opis jest rzeczowy."},
        )
        assert after["open_flags"] == 0
        [event] = after["moderation"]
        assert (event["action"], event["flags_resolved"]) == ("flags.dismiss", 1)
        after = await moderate(intake, f"{hidden['id']}/description/hide")
        assert after["moderation"][0]["flags_resolved"] == 1
        assert (await queue(intake))["items"] == []

        # Resolved: the same resident may flag the report again.
        assert (await flag(intake, dismissed["id"])).status_code == 202
        [item] = (await queue(intake))["items"]
        assert (item["report_id"], item["flags"]) == (dismissed["id"], 1)

    async def test_bad_flags_are_refused_and_nothing_is_stored(
        self, intake, intake_session
    ):
        report = await file_report(intake)
        unknown = await flag(intake, "5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10")
        assert unknown.status_code == 404
        assert unknown.json()["type"] == "urn:mam:problem:report-not-found"
        for body in (
            {"reason_code": "boring"},
            {"comment": "x" * 501},
            {"comment": "a\x00b"},
            {"reason_code": None},
        ):
            refused = await flag(intake, report["id"], **body)
            assert refused.status_code == 422, body
            assert refused.headers["content-type"] == "application/problem+json"
        flags = await intake_session.scalar(select(func.count()).select_from(AbuseFlag))
        assert flags == 0

    async def test_a_flood_of_flags_is_refused_with_retry_after(
        self, intake_settings, intake_session
    ):
        settings = intake_settings.model_copy(
            update={"throttle_flags_per_client": 2, "throttle_flags_per_account": 1}
        )
        async for client in serve(create_app(settings)):
            report = await file_report(client)
            for _ in range(2):
                assert (await flag(client, report["id"])).status_code == 202
            refused = await flag(client, report["id"], {"Accept-Language": "de"})
            assert refused.status_code == 429
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["title"] == "Zu viele Anfragen"
            assert 0 < int(refused.headers["retry-after"]) <= 3600

            # An account is limited wherever it flags from.
            anna = await register_and_sign_in(client, "anna@example.org")
            elsewhere = AppClient(client.app, address="203.0.113.9")
            assert (await flag(elsewhere, report["id"], anna)).status_code == 202
            again = await flag(
                AppClient(client.app, address="203.0.113.10"), report["id"], anna
            )
            assert again.status_code == 429
        flags = await intake_session.scalar(select(func.count()).select_from(AbuseFlag))
        assert flags == 2  # the anonymous address once, and Anna

    async def test_a_forged_cursor_is_a_422(self, intake):
        response = await intake.get(
            "/v1/operator/moderation/queue",
            params={"cursor": "WyJ4Il0"},
            headers=READ,
        )
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:invalid-cursor"


class TestRoles:
    async def test_no_key_is_a_401_and_a_read_key_may_look_but_not_change(self, intake):
        report = await file_report(intake, RED_PHOTO)
        photo_id = report["photos"][0]["id"]
        changes = [
            f"{report['id']}/description/hide",
            f"{report['id']}/description/restore",
            f"{report['id']}/photos/{photo_id}/hide",
            f"{report['id']}/photos/{photo_id}/restore",
            f"{report['id']}/flags/dismiss",
        ]
        for path in changes:
            url = f"/v1/operator/reports/{path}"
            anonymous = await intake.post(url, json=WHY)
            assert anonymous.status_code == 401, path
            assert (
                anonymous.json()["type"] == "urn:mam:problem:operator-not-authenticated"
            )
            reader = await intake.post(url, json=WHY, headers=READ)
            assert reader.status_code == 403, path
            assert reader.json()["type"] == "urn:mam:problem:operator-role-missing"
        for url in (
            f"/v1/operator/reports/{report['id']}",
            "/v1/operator/moderation/queue",
            f"/v1/operator/photos/{photo_id}",
        ):
            assert (await intake.get(url)).status_code == 401, url
            assert (await intake.get(url, headers=READ)).status_code == 200, url
        # Nothing was hidden.
        public = (await intake.get(f"/v1/reports/{report['id']}")).json()
        assert (public["description"], len(public["photos"])) == (SECRET, 1)


def test_every_reason_code_is_named_in_polish_and_german():
    assert set(MODERATION_REASONS) == {code.value for code in ReasonCode}
    for name in MODERATION_REASONS.values():
        assert translate(name, "pl") != name
        assert translate(name, "de") != name
