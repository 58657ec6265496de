from intake_service.categories.service import load_defaults
from shared.i18n import missing_languages

EXPECTED_UNITS = {
    "zdium": {
        "pothole",
        "damaged_pavement",
        "damaged_road_sign",
        "traffic_signal_fault",
        "street_light_out",
        "damaged_bench",
        "damaged_bus_shelter",
        "vandalism",
    },
    "ekosystem": {"overflowing_container", "illegal_dumping", "missed_collection"},
    "czk": {"fallen_tree", "flooding", "other_hazard"},
}


class TestDefaults:
    def test_every_text_exists_in_three_languages(self):
        data = load_defaults()
        for kind in ("units", "groups", "categories"):
            for item in data[kind]:
                assert missing_languages(item["names"]) == set(), (kind, item["code"])

    def test_every_category_has_one_target(self):
        for item in load_defaults()["categories"]:
            targets = {"expected_resolution_hours", "expected_resolution_working_days"}
            assert len(targets & item.keys()) == 1, item["code"]


class TestListCategories:
    async def test_lists_the_default_categories_with_their_units(self, intake):
        response = await intake.get("/v1/categories", params={"lang": "en"})
        assert response.status_code == 200
        by_unit: dict[str, set[str]] = {}
        for category in response.json():
            by_unit.setdefault(category["unit"]["code"], set()).add(category["code"])
            assert category["expected_resolution_hours"] > 0
            assert category["group"]["code"] in {"roads", "waste", "failures"}
        assert by_unit == EXPECTED_UNITS

    async def test_short_targets_in_hours_long_ones_in_working_days(self, intake):
        response = await intake.get("/v1/categories")
        targets = {
            c["code"]: (
                c["expected_resolution_hours"],
                c["expected_resolution_working_days"],
            )
            for c in response.json()
        }
        assert targets["traffic_signal_fault"] == (4, None)
        assert targets["fallen_tree"] == (6, None)
        # Clients that know only hours get a working-day target's calendar length.
        assert targets["pothole"] == (168, 5)
        assert targets["vandalism"] == (720, 21)

    async def test_names_follow_accept_language(self, intake):
        names = {}
        for lang in ("pl", "en", "de"):
            response = await intake.get(
                "/v1/categories", headers={"Accept-Language": lang}
            )
            names[lang] = {c["code"]: c["name"] for c in response.json()}
        assert names["pl"]["pothole"] == "Dziura w jezdni"
        assert names["en"]["pothole"] == "Pothole"
        assert names["de"]["pothole"] == "Schlagloch"

    async def test_lang_parameter_wins_over_the_header(self, intake):
        response = await intake.get(
            "/v1/categories", params={"lang": "de"}, headers={"Accept-Language": "en"}
        )
        fallen = next(c for c in response.json() if c["code"] == "fallen_tree")
        assert fallen["name"] == "Umgestürzter Baum"
        assert fallen["unit"]["name"] == "Krisenmanagementzentrum"

    async def test_polish_by_default(self, intake):
        response = await intake.get("/v1/categories")
        assert {c["code"]: c["name"] for c in response.json()}[
            "flooding"
        ] == "Podtopienie"
