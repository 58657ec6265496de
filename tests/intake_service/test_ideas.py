"""Ideas: anyone sends one; operators read them in pages and as CSV, never who sent them."""

import csv
import datetime as dt
import io

import pytest

from tests.helpers import MANAGE, READ, register_and_sign_in

IDEAS = "/v1/operator/ideas"
WROCLAW = {"lat": 51.1097, "lon": 17.0326}
BERLIN = {"lat": 52.52, "lon": 13.405}


async def send(intake, headers=None, **body):
    response = await intake.post("/v1/ideas", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


class TestSendingIdeas:
    async def test_an_idea_with_only_text(self, intake):
        sent = await send(intake, text="  Tryb ciemny w aplikacji.  ")
        page = (await intake.get(IDEAS, headers=READ)).json()
        assert page["next_cursor"] is None
        assert page["items"] == [
            {
                "id": sent["id"],
                "text": "Tryb ciemny w aplikacji.",
                "topic": None,
                "category": None,
                "location": None,
                "created_at": sent["created_at"],
            }
        ]

    async def test_an_idea_with_category_place_and_topic_never_shows_its_sender(
        self, intake
    ):
        resident = await register_and_sign_in(intake, "pomysl@example.org")
        sent = await send(
            intake,
            resident,
            text="Więcej ławek nad Odrą.",
            topic="city",
            category="damaged_bench",
            location=WROCLAW,
        )
        response = await intake.get(IDEAS, headers=READ | {"Accept-Language": "en"})
        [idea] = response.json()["items"]
        assert idea["id"] == sent["id"]
        assert idea["topic"] == "city"
        assert idea["category"] == {"code": "damaged_bench", "name": "Damaged bench"}
        assert idea["location"] == WROCLAW
        assert set(idea) == {
            "id",
            "text",
            "topic",
            "category",
            "location",
            "created_at",
        }
        csv_export = await intake.get(f"{IDEAS}.csv", headers=READ)
        for text in (response.text, csv_export.text):
            assert "pomysl@example.org" not in text
            assert "Anna" not in text

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"text": "   "}, "text"),
            ({"text": "x" * 2001}, "text"),
            ({"text": "a\x00b"}, "text"),
            ({}, "text"),
            ({"text": "ok", "topic": "weather"}, "topic"),
            ({"text": "ok", "location": {"lat": 91, "lon": 17}}, "location.lat"),
            ({"text": "ok", "sender": "me"}, "sender"),
        ],
    )
    async def test_invalid_ideas_are_field_errors(self, intake, body, field):
        response = await intake.post("/v1/ideas", json=body)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]

    async def test_an_unknown_category_is_refused(self, intake):
        response = await intake.post(
            "/v1/ideas", json={"text": "Pomysł", "category": "unicorns"}
        )
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:unknown-category"

    async def test_a_place_outside_the_city_is_refused(self, intake):
        response = await intake.post(
            "/v1/ideas",
            json={"text": "Pomysł", "location": BERLIN},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:outside-service-area"
        assert "Wrocław" in response.json()["detail"]
        assert (await intake.get(IDEAS, headers=READ)).json()["items"] == []

    async def test_a_bad_token_is_a_401(self, intake):
        response = await intake.post(
            "/v1/ideas",
            json={"text": "Pomysł"},
            headers={"Authorization": "Bearer not-a-token"},
        )
        assert response.status_code == 401


class TestReadingIdeas:
    async def test_operators_need_a_key(self, intake):
        await send(intake, text="Pomysł")
        resident = await register_and_sign_in(intake, "ciekawa@example.org")
        for path in (IDEAS, f"{IDEAS}.csv"):
            for headers in ({}, resident, {"X-API-Key": "mam_op_guess"}):
                response = await intake.get(path, headers=headers)
                assert response.status_code == 401, (path, headers)
            for headers in (READ, MANAGE):
                assert (await intake.get(path, headers=headers)).status_code == 200
        # Reading is not recorded.
        actions = (await intake.get("/v1/operator/actions", headers=MANAGE)).json()
        assert actions["items"] == []

    async def test_newest_first_in_keyset_pages(self, intake):
        sent = [(await send(intake, text=f"Pomysł {i}"))["id"] for i in range(5)]
        seen = []
        cursor = None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await intake.get(IDEAS, params=params, headers=READ)).json()
            seen.append([idea["id"] for idea in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [sent[4:2:-1], sent[2:0:-1], sent[:1]]
        bad = await intake.get(IDEAS, params={"cursor": "x"}, headers=READ)
        assert bad.status_code == 422
        assert bad.json()["type"] == "urn:mam:problem:invalid-cursor"

    async def test_filters(self, intake):
        app = await send(intake, text="Aplikacja", topic="app")
        bench = await send(intake, text="Ławki", topic="city", category="damaged_bench")
        later = await send(
            intake, text="Latarnie", topic="city", category="street_light_out"
        )

        async def ids(**params):
            page = (await intake.get(IDEAS, params=params, headers=READ)).json()
            return [idea["id"] for idea in page["items"]]

        assert await ids(topic="app") == [app["id"]]
        assert await ids(topic="city") == [later["id"], bench["id"]]
        assert await ids(category="damaged_bench") == [bench["id"]]
        assert await ids(since=bench["created_at"]) == [later["id"], bench["id"]]
        assert await ids(topic="app", since=bench["created_at"]) == []
        response = await intake.get(IDEAS, params={"topic": "x"}, headers=READ)
        assert response.status_code == 422
        response = await intake.get(IDEAS, params={"since": "yesterday"}, headers=READ)
        assert response.status_code == 422

    async def test_csv_export(self, intake):
        first = await send(
            intake,
            text="Żółte ławki, proszę",
            topic="city",
            category="damaged_bench",
            location=WROCLAW,
        )
        second = await send(intake, text='=HYPERLINK("http://x")')
        response = await intake.get(f"{IDEAS}.csv", headers=READ)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            'attachment; filename="ideas.csv"'
        )
        header, *rows = read_csv(response.content)
        assert header == ["id", "created_at", "topic", "category", "lat", "lon", "text"]
        assert [row[:1] + row[2:] for row in rows] == [
            [second["id"], "", "", "", "", '\'=HYPERLINK("http://x")'],
            [
                first["id"],
                "city",
                "damaged_bench",
                "51.1097",
                "17.0326",
                "Żółte ławki, proszę",
            ],
        ]
        assert [dt.datetime.fromisoformat(row[1]) for row in rows] == [
            dt.datetime.fromisoformat(second["created_at"]),
            dt.datetime.fromisoformat(first["created_at"]),
        ]
        filtered = await intake.get(f"{IDEAS}.csv?topic=city", headers=READ)
        assert [row[0] for row in read_csv(filtered.content)[1:]] == [first["id"]]
