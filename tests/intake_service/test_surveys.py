"""Surveys: operators make, change and close them; residents answer once; results and CSV."""

import csv
import datetime as dt
import io
import re
import uuid

import pytest

from tests.helpers import MANAGE, READ, register_and_sign_in

SURVEYS = "/v1/operator/surveys"
ACTIONS = "/v1/operator/actions"
DEVICE = {"X-Device-Id": "install-3b1f2c9e-7d7a"}


def at(hours: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


def texts(pl: str, en: str, de: str) -> dict[str, str]:
    return {"pl": pl, "en": en, "de": de}


def option(code: str, pl: str, en: str, de: str) -> dict:
    return {"code": code, "label": texts(pl, en, de)}


def survey_body(**changes) -> dict:
    body = {
        "title": texts("Park Południowy", "Southern Park", "Südpark"),
        "intro": texts("Pomóż nam.", "Help us.", "Helfen Sie uns."),
        "starts_at": at(-1),
        "ends_at": at(24),
        "questions": [
            {
                "type": "single_choice",
                "text": texts("Jak często?", "How often?", "Wie oft?"),
                "required": True,
                "options": [
                    option("often", "Często", "Often", "Oft"),
                    option("rarely", "Rzadko", "Rarely", "Selten"),
                ],
            },
            {
                "type": "multiple_choice",
                "text": texts("Czego brakuje?", "What is missing?", "Was fehlt?"),
                "options": [
                    option("benches", "Ławki", "Benches", "Bänke"),
                    option("shade", "Cień", "Shade", "Schatten"),
                    option("toilets", "Toalety", "Toilets", "Toiletten"),
                ],
            },
            {
                "type": "rating",
                "text": texts("Ocena ławek", "Rate the benches", "Bewertung der Bänke"),
                "required": True,
            },
            {
                "type": "free_text",
                "text": texts("Co zmienić?", "What should change?", "Was ändern?"),
            },
        ],
    }
    return body | changes


async def create(intake, **changes) -> dict:
    response = await intake.post(SURVEYS, json=survey_body(**changes), headers=MANAGE)
    assert response.status_code == 201, response.text
    return response.json()


def answers_for(survey: dict, single="often", multiple=None, rating=4, text=None):
    single_q, multiple_q, rating_q, text_q = (q["id"] for q in survey["questions"])
    answers = [
        {"question_id": single_q, "choices": [single]},
        {"question_id": rating_q, "rating": rating},
    ]
    if multiple:
        answers.append({"question_id": multiple_q, "choices": multiple})
    if text is not None:
        answers.append({"question_id": text_q, "text": text})
    return {"answers": answers}


async def answer(intake, survey: dict, headers: dict, **kwargs):
    return await intake.post(
        f"/v1/surveys/{survey['id']}/responses",
        json=answers_for(survey, **kwargs),
        headers=headers,
    )


async def audit_log(intake) -> list[tuple[str, str, str | None]]:
    items = (await intake.get(ACTIONS, headers=MANAGE)).json()["items"]
    return [(a["operator_name"], a["action"], a["target_id"]) for a in items]


class TestMakingSurveys:
    async def test_an_operator_makes_a_survey_and_reads_it_back(self, intake):
        survey = await create(intake)
        assert survey["status"] == "open"
        assert survey["responses"] == 0
        assert survey["title"] == texts("Park Południowy", "Southern Park", "Südpark")
        assert [q["type"] for q in survey["questions"]] == [
            "single_choice",
            "multiple_choice",
            "rating",
            "free_text",
        ]
        assert [o["code"] for o in survey["questions"][1]["options"]] == [
            "benches",
            "shade",
            "toilets",
        ]
        assert survey["questions"][2]["options"] == []

        listed = (await intake.get(SURVEYS, headers=READ)).json()
        assert [s["id"] for s in listed] == [survey["id"]]
        read = await intake.get(f"{SURVEYS}/{survey['id']}", headers=READ)
        assert read.json() == survey
        assert await audit_log(intake) == [
            ("city-manager", "survey.create", survey["id"])
        ]

    async def test_invalid_surveys_are_field_errors_in_the_operators_language(
        self, intake
    ):
        body = survey_body()
        del body["title"]["de"]
        body["ends_at"] = at(-2)
        body["questions"][0]["options"] = body["questions"][0]["options"][:1]
        body["questions"][2]["options"] = [option("x", "x", "x", "x")]
        body["questions"][1]["options"].append(option("shade", "a", "b", "c"))
        response = await intake.post(
            SURVEYS, json=body, headers=MANAGE | {"Accept-Language": "en"}
        )
        assert response.status_code == 422
        errors = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert errors == {
            "title.de": "This field is required.",
            "ends_at": "The survey must end after it starts.",
            "questions.0.options": "A choice question needs 2 to 20 options.",
            "questions.1.options": "Each option code may appear only once.",
            "questions.2.options": "Only choice questions have options.",
        }
        polish = await intake.post(
            SURVEYS, json=survey_body(ends_at=at(-2)), headers=MANAGE
        )
        assert polish.json()["errors"][0]["message"] == (
            "Ankieta musi kończyć się po swoim rozpoczęciu."
        )
        assert await audit_log(intake) == []

    async def test_the_document_says_labels_are_more_than_blanks(self, intake):
        """They are trimmed before their length is checked: the pattern says so."""
        spec = (await intake.get("/openapi.json")).json()
        schemas = spec["components"]["schemas"]
        for name in ("LocalizedLabel", "LocalizedQuestion", "LocalizedLongText"):
            for language in ("pl", "en", "de"):
                pattern = schemas[name]["properties"][language]["pattern"]
                # re.ASCII: a `\s` as narrow as ECMA-262's would not do.
                assert not re.search(pattern, " \x85", re.ASCII)
                assert re.search(pattern, " a ")
        blank = await intake.post(
            SURVEYS, json=survey_body(title=texts("\x85", "b", "c")), headers=MANAGE
        )
        assert blank.status_code == 422

    async def test_the_document_says_which_questions_have_options(self, intake):
        """Choice questions have 2 or more, the others none: the schema says it too."""
        spec = (await intake.get("/openapi.json")).json()
        choice, other = spec["components"]["schemas"]["QuestionIn"]["oneOf"]
        assert choice == {
            "properties": {
                "type": {"enum": ["single_choice", "multiple_choice"]},
                "options": {"minItems": 2},
            },
            "required": ["options"],
        }
        assert other == {
            "properties": {
                "type": {"enum": ["rating", "free_text"]},
                "options": {"maxItems": 0},
            }
        }

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),
            ({"starts_at": 0}, "starts_at"),  # a number is not seconds since 1970
            ({"questions": []}, "questions"),
            ({"title": {"pl": "a", "en": "b", "de": "c", "fr": "d"}}, "title.fr"),
            ({"title": texts("  ", "b", "c")}, "title.pl"),
        ],
    )
    async def test_more_invalid_surveys(self, intake, change, field):
        response = await intake.post(
            SURVEYS, json=survey_body(**change), headers=MANAGE
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]


class TestOperatorRoles:
    async def test_every_operator_survey_endpoint_needs_a_key_of_its_role(self, intake):
        survey = await create(intake)
        resident = await register_and_sign_in(intake, "ankieta@example.org")
        base = f"{SURVEYS}/{survey['id']}"
        reads = [("GET", SURVEYS), ("GET", base)]
        reads += [("GET", f"{base}/results"), ("GET", f"{base}/results.csv")]
        changes = [("POST", SURVEYS), ("PATCH", base), ("POST", f"{base}/close")]
        bodies = {SURVEYS: survey_body(), base: {"ends_at": at(48)}}
        for method, path in reads + changes:
            for headers in ({}, resident):
                response = await intake.request(
                    method, path, json=bodies.get(path), headers=headers
                )
                assert response.status_code == 401, (method, path)
        for method, path in changes:
            response = await intake.request(
                method, path, json=bodies.get(path), headers=READ
            )
            assert response.status_code == 403, (method, path)
            assert response.json()["type"] == "urn:mam:problem:operator-role-missing"
        for method, path in reads:
            response = await intake.request(method, path, headers=READ)
            assert response.status_code == 200, (method, path)
        # Nothing changed, and reading is not recorded.
        assert await audit_log(intake) == [
            ("city-manager", "survey.create", survey["id"])
        ]
        assert (await intake.get(base, headers=READ)).json() == survey

    async def test_an_unknown_survey_is_a_404_everywhere(self, intake):
        base = f"{SURVEYS}/{uuid.uuid4()}"
        for method, path, body in (
            ("GET", base, None),
            ("PATCH", base, {"ends_at": at(48)}),
            ("POST", f"{base}/close", None),
            ("GET", f"{base}/results", None),
            ("GET", f"{base}/results.csv", None),
        ):
            response = await intake.request(method, path, json=body, headers=MANAGE)
            assert response.status_code == 404, (method, path)
            assert response.json()["type"] == "urn:mam:problem:survey-not-found"


class TestChangingSurveys:
    async def test_fields_sent_change_and_the_audit_log_names_them(self, intake):
        survey = await create(intake)
        new_end = at(72)
        response = await intake.patch(
            f"{SURVEYS}/{survey['id']}",
            json={"ends_at": new_end, "intro": None},
            headers=MANAGE,
        )
        assert response.status_code == 200
        changed = response.json()
        assert changed["intro"] is None
        assert dt.datetime.fromisoformat(
            changed["ends_at"]
        ) == dt.datetime.fromisoformat(new_end)
        assert changed["title"] == survey["title"]
        assert changed["questions"] == survey["questions"]
        log = (await intake.get(ACTIONS, headers=MANAGE)).json()["items"]
        assert (log[0]["action"], log[0]["details"]) == (
            "survey.update",
            {"fields": ["ends_at", "intro"]},
        )

    async def test_questions_change_only_until_someone_answers(self, intake):
        survey = await create(intake)
        rating_only = [survey_body()["questions"][2]]
        replaced = await intake.patch(
            f"{SURVEYS}/{survey['id']}", json={"questions": rating_only}, headers=MANAGE
        )
        assert replaced.status_code == 200
        [question] = replaced.json()["questions"]
        assert question["type"] == "rating"
        assert question["id"] not in {q["id"] for q in survey["questions"]}

        answered = await intake.post(
            f"/v1/surveys/{survey['id']}/responses",
            json={"answers": [{"question_id": question["id"], "rating": 5}]},
            headers=DEVICE,
        )
        assert answered.status_code == 201
        refused = await intake.patch(
            f"{SURVEYS}/{survey['id']}",
            json={"questions": survey_body()["questions"]},
            headers=MANAGE,
        )
        assert refused.status_code == 409
        assert refused.json()["type"] == "urn:mam:problem:survey-has-responses"
        retitled = await intake.patch(
            f"{SURVEYS}/{survey['id']}",
            json={"title": texts("Nowy", "New", "Neu")},
            headers=MANAGE,
        )
        assert retitled.status_code == 200
        assert retitled.json()["questions"] == [question]

    async def test_the_window_stays_valid(self, intake):
        survey = await create(intake)
        for change, field in (
            ({"ends_at": at(-5)}, "ends_at"),
            ({"starts_at": at(100)}, "starts_at"),
            ({"title": None}, "title"),
            ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),
            ({"questions": []}, "questions"),
            ({"title": texts("  ", "b", "c")}, "title.pl"),
        ):
            response = await intake.patch(
                f"{SURVEYS}/{survey['id']}", json=change, headers=MANAGE
            )
            assert response.status_code == 422, change
            assert [e["field"] for e in response.json()["errors"]] == [field]

    async def test_the_document_offers_null_only_where_it_is_taken(self, intake):
        """A change refuses null for every field but `intro` (which removes it)."""
        survey = await create(intake)
        spec = (await intake.get("/openapi.json")).json()
        fields = spec["components"]["schemas"]["SurveyUpdate"]["properties"]
        nullable = {
            name
            for name, schema in fields.items()
            if {"type": "null"} in schema.get("anyOf", [])
        }
        assert nullable == {"intro"}
        for name in fields:
            response = await intake.patch(
                f"{SURVEYS}/{survey['id']}", json={name: None}, headers=MANAGE
            )
            assert (response.status_code == 200) == (name in nullable), name

    async def test_a_closed_survey_takes_no_answers_and_no_changes(self, intake):
        survey = await create(intake)
        closed = await intake.post(f"{SURVEYS}/{survey['id']}/close", headers=MANAGE)
        assert closed.status_code == 200
        assert closed.json()["status"] == "closed"
        again = await intake.post(f"{SURVEYS}/{survey['id']}/close", headers=MANAGE)
        assert again.json()["closed_at"] == closed.json()["closed_at"]

        response = await answer(intake, survey, DEVICE)
        assert response.status_code == 409
        assert response.json()["type"] == "urn:mam:problem:survey-not-open"
        patch = await intake.patch(
            f"{SURVEYS}/{survey['id']}", json={"ends_at": at(48)}, headers=MANAGE
        )
        assert patch.status_code == 409
        assert patch.json()["type"] == "urn:mam:problem:survey-closed"
        assert await audit_log(intake) == [
            ("city-manager", "survey.close", survey["id"]),
            ("city-manager", "survey.create", survey["id"]),
        ]


class TestOpenSurveys:
    async def test_residents_see_open_surveys_in_their_language(self, intake):
        survey = await create(intake)
        await create(intake, starts_at=at(24), ends_at=at(48))  # not yet
        closed = await create(intake)
        await intake.post(f"{SURVEYS}/{closed['id']}/close", headers=MANAGE)

        german = (await intake.get("/v1/surveys/active?lang=de")).json()
        assert [s["id"] for s in german] == [survey["id"]]
        [listed] = german
        assert (listed["title"], listed["intro"]) == ("Südpark", "Helfen Sie uns.")
        assert [q["text"] for q in listed["questions"]] == [
            "Wie oft?",
            "Was fehlt?",
            "Bewertung der Bänke",
            "Was ändern?",
        ]
        assert listed["questions"][0]["options"] == [
            {"code": "often", "label": "Oft"},
            {"code": "rarely", "label": "Selten"},
        ]
        assert listed["questions"][0]["required"] is True
        english = await intake.get(
            "/v1/surveys/active", headers={"Accept-Language": "en-GB"}
        )
        assert english.json()[0]["questions"][1]["options"][2]["label"] == "Toilets"
        polish = (await intake.get("/v1/surveys/active")).json()[0]
        assert polish["title"] == "Park Południowy"


class TestAnswering:
    async def test_once_per_account(self, intake):
        survey = await create(intake)
        anna = await register_and_sign_in(intake, "anna@example.org")
        first = await answer(intake, survey, anna)
        assert first.status_code == 201
        assert first.json()["survey_id"] == survey["id"]
        again = await answer(intake, survey, anna | {"X-Device-Id": "other-device-1"})
        assert again.status_code == 409
        assert again.json()["type"] == "urn:mam:problem:survey-already-answered"
        jan = await register_and_sign_in(intake, "jan@example.org")
        assert (await answer(intake, survey, jan)).status_code == 201
        # The device of a signed-in answer does not count: it may answer anonymously.
        assert (
            await answer(intake, survey, {"X-Device-Id": "other-device-1"})
        ).status_code == 201
        read = await intake.get(f"{SURVEYS}/{survey['id']}", headers=READ)
        assert read.json()["responses"] == 3

    async def test_once_per_device(self, intake):
        survey = await create(intake)
        assert (await answer(intake, survey, DEVICE)).status_code == 201
        again = await answer(intake, survey, DEVICE, single="rarely")
        assert again.status_code == 409
        other = await answer(intake, survey, {"X-Device-Id": "another-device-01"})
        assert other.status_code == 201
        for headers in ({}, {"X-Device-Id": "short"}):
            response = await answer(intake, survey, headers)
            assert response.status_code == 400
            assert response.json()["type"] == "urn:mam:problem:device-id-required"

    async def test_an_unknown_or_unopened_survey_takes_no_answers(self, intake):
        later = await create(intake, starts_at=at(24), ends_at=at(48))
        response = await answer(intake, later, DEVICE)
        assert response.status_code == 409
        assert response.json()["type"] == "urn:mam:problem:survey-not-open"
        unknown = await intake.post(
            f"/v1/surveys/{uuid.uuid4()}/responses",
            json={"answers": [{"question_id": str(uuid.uuid4()), "rating": 3}]},
            headers=DEVICE,
        )
        assert unknown.status_code == 404
        assert unknown.json()["type"] == "urn:mam:problem:survey-not-found"

    async def test_answers_are_checked_against_the_questions(self, intake):
        survey = await create(intake)
        single_q, multiple_q, rating_q, text_q = (q["id"] for q in survey["questions"])
        body = {
            "answers": [
                {"question_id": single_q, "choices": ["often", "rarely"]},
                {"question_id": multiple_q, "choices": ["benches", "swings"]},
                {"question_id": text_q, "rating": 3},
                {"question_id": str(uuid.uuid4()), "text": "?"},
                {"question_id": multiple_q, "choices": ["shade"]},
            ]
        }
        response = await intake.post(
            f"/v1/surveys/{survey['id']}/responses",
            json=body,
            headers=DEVICE | {"Accept-Language": "en"},
        )
        assert response.status_code == 422
        assert [
            (e["field"], e["code"], e["message"]) for e in response.json()["errors"]
        ] == [
            ("answers.0.choices", "single_choice", "Choose exactly one option."),
            (
                "answers.1.choices",
                "unknown_option",
                "Not one of this question's options.",
            ),
            ("answers.2", "text_expected", "Answer this question with text."),
            (
                "answers.3.question_id",
                "unknown_question",
                "This survey has no such question.",
            ),
            (
                "answers.4.question_id",
                "duplicate_question",
                "This question is answered more than once.",
            ),
            ("answers", "required", "This question must be answered."),
        ]
        assert response.json()["errors"][-1]["question_id"] == rating_q
        # Nothing was stored: the device may still answer.
        assert (await answer(intake, survey, DEVICE)).status_code == 201

    async def test_the_document_says_an_answer_is_of_one_kind(self, intake):
        """Exactly one of choices, rating and text, not null: the schema says it too."""
        spec = (await intake.get("/openapi.json")).json()
        branches = spec["components"]["schemas"]["AnswerIn"]["oneOf"]
        kinds = ["choices", "rating", "text"]
        assert [branch["required"] for branch in branches] == [[k] for k in kinds]
        for kind, branch in zip(kinds, branches, strict=True):
            assert branch["properties"] == {
                other: {"not": {"type": "null"}} if other == kind else {"type": "null"}
                for other in kinds
            }

    @pytest.mark.parametrize(
        ("answer_", "field"),
        [
            ({"rating": 6}, "answers.0.rating"),
            ({"rating": 0}, "answers.0.rating"),
            ({"text": "x" * 2001}, "answers.0.text"),
            ({"text": "   "}, "answers.0.text"),
            ({"text": "nul\x00"}, "answers.0.text"),
            ({"rating": 3, "text": "both"}, "answers.0"),
            ({"rating": None, "text": None}, "answers.0"),
            ({"choices": []}, "answers.0.choices"),
            ({}, "answers.0"),
        ],
    )
    async def test_malformed_answers(self, intake, answer_, field):
        survey = await create(intake)
        response = await intake.post(
            f"/v1/surveys/{survey['id']}/responses",
            json={
                "answers": [{"question_id": survey["questions"][2]["id"], **answer_}]
            },
            headers=DEVICE,
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]

    async def test_a_rating_written_as_4_point_0_is_a_whole_number(self, intake):
        """JSON Schema's `integer`, as the document says, takes 4.0 as well as 4."""
        survey = await create(intake)
        assert (await answer(intake, survey, DEVICE, rating=4.0)).status_code == 201
        results = await intake.get(f"{SURVEYS}/{survey['id']}/results", headers=READ)
        rating = results.json()["questions"][2]["rating"]
        assert rating["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}

    async def test_a_rating_answered_with_choices_is_refused(self, intake):
        survey = await create(intake)
        single_q, _, rating_q, _ = (q["id"] for q in survey["questions"])
        response = await intake.post(
            f"/v1/surveys/{survey['id']}/responses",
            json={
                "answers": [
                    {"question_id": single_q, "rating": 2},
                    {"question_id": rating_q, "choices": ["often"]},
                ]
            },
            headers=DEVICE,
        )
        assert [e["code"] for e in response.json()["errors"]] == [
            "choices_expected",
            "rating_expected",
        ]


class TestResults:
    async def fill(self, intake, survey):
        given = [
            ("device-aaaaaaaa", "often", ["benches", "shade"], 5, "  Więcej cienia  "),
            ("device-bbbbbbbb", "often", ["shade"], 4, None),
            ("device-cccccccc", "rarely", None, 4, '=HYPERLINK("http://x")'),
            ("device-dddddddd", "often", ["shade", "toilets"], 2, "Żółte ławki"),
        ]
        for device, single, multiple, rating, text in given:
            response = await answer(
                intake,
                survey,
                {"X-Device-Id": device},
                single=single,
                multiple=multiple,
                rating=rating,
                text=text,
            )
            assert response.status_code == 201

    async def test_results_are_counted_per_question(self, intake):
        survey = await create(intake)
        await self.fill(intake, survey)
        response = await intake.get(
            f"{SURVEYS}/{survey['id']}/results?lang=en", headers=READ
        )
        assert response.status_code == 200
        results = response.json()
        assert (results["title"], results["status"], results["responses"]) == (
            "Southern Park",
            "open",
            4,
        )
        single, multiple, rating, text = results["questions"]
        assert single["answered"] == 4
        assert single["options"] == [
            {"code": "often", "label": "Often", "count": 3},
            {"code": "rarely", "label": "Rarely", "count": 1},
        ]
        assert multiple["answered"] == 3
        assert [(o["code"], o["count"]) for o in multiple["options"]] == [
            ("benches", 1),
            ("shade", 3),
            ("toilets", 1),
        ]
        assert rating["rating"] == {
            "distribution": {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1},
            "average": 3.75,
        }
        assert (rating["options"], rating["texts"]) == (None, None)
        assert text["answered"] == 3
        assert [t["text"] for t in text["texts"]] == [
            "Żółte ławki",
            '=HYPERLINK("http://x")',
            "Więcej cienia",
        ]
        assert "device" not in response.text

    async def test_results_of_a_survey_nobody_answered(self, intake):
        survey = await create(intake)
        results = (
            await intake.get(f"{SURVEYS}/{survey['id']}/results", headers=READ)
        ).json()
        assert results["responses"] == 0
        assert results["questions"][2]["rating"]["average"] is None
        assert results["questions"][3]["texts"] == []
        assert [o["count"] for o in results["questions"][0]["options"]] == [0, 0]

    async def test_csv_has_a_row_per_response_and_is_safe_in_a_spreadsheet(
        self, intake
    ):
        survey = await create(intake)
        await self.fill(intake, survey)
        response = await intake.get(
            f"{SURVEYS}/{survey['id']}/results.csv", headers=READ
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="survey-{survey["id"]}-results.csv"'
        )
        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(
            csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline=""))
        )
        assert rows[0] == [
            "submitted_at",
            "1. Jak często?",
            "2. Czego brakuje?",
            "3. Ocena ławek",
            "4. Co zmienić?",
        ]
        assert [row[1:] for row in rows[1:]] == [
            ["Często", "Ławki; Cień", "5", "Więcej cienia"],
            ["Często", "Cień", "4", ""],
            ["Rzadko", "", "4", '\'=HYPERLINK("http://x")'],
            ["Często", "Cień; Toalety", "2", "Żółte ławki"],
        ]
        for row in rows[1:]:
            assert dt.datetime.fromisoformat(row[0]).tzinfo is not None
        german = await intake.get(
            f"{SURVEYS}/{survey['id']}/results.csv?lang=de", headers=READ
        )
        assert (
            german.content.decode("utf-8-sig")
            .splitlines()[0]
            .endswith("4. Was ändern?")
        )
        assert "device" not in response.text


class TestAuditLog:
    async def test_newest_first_in_pages(self, intake):
        made = [(await create(intake))["id"] for _ in range(3)]
        first = (await intake.get(f"{ACTIONS}?limit=2", headers=MANAGE)).json()
        assert [a["target_id"] for a in first["items"]] == made[:0:-1]
        assert first["items"][0]["operator_name"] == "city-manager"
        second = (
            await intake.get(
                ACTIONS,
                params={"limit": 2, "cursor": first["next_cursor"]},
                headers=MANAGE,
            )
        ).json()
        assert [a["target_id"] for a in second["items"]] == [made[0]]
        assert second["next_cursor"] is None

    async def test_the_request_id_is_kept(self, intake):
        await intake.post(
            SURVEYS,
            json=survey_body(),
            headers=MANAGE | {"X-Request-ID": "req-42:abc"},
        )
        await intake.post(
            SURVEYS, json=survey_body(), headers=MANAGE | {"X-Request-ID": "bad id!"}
        )
        items = (await intake.get(ACTIONS, headers=MANAGE)).json()["items"]
        assert [a["request_id"] for a in items] == [None, "req-42:abc"]

    async def test_a_bad_cursor_is_a_422(self, intake):
        response = await intake.get(f"{ACTIONS}?cursor=nonsense", headers=MANAGE)
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:invalid-cursor"

    async def test_changes_are_logged_by_name_without_residents_data(
        self, intake, caplog
    ):
        caplog.set_level("INFO", logger="shared.operator_store")
        survey = await create(intake)
        await answer(intake, survey, DEVICE, text="Mój adres: ul. Prosta 1")
        await intake.post(f"{SURVEYS}/{survey['id']}/close", headers=MANAGE)
        records = [r for r in caplog.records if r.getMessage() == "operator.action"]
        assert [(r.operator, r.action, r.target_id) for r in records] == [
            ("city-manager", "survey.create", survey["id"]),
            ("city-manager", "survey.close", survey["id"]),
        ]
        assert "Prosta" not in caplog.text
