"""API shapes of the routing table, its versions and the reports no rule covers."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crm_adapter.routing.models import RoutingVersion, Rule, VersionUnit
from shared.names import NamesWrite
from shared.params import WholeNumber
from shared.text import NOT_BLANK

IDENTIFIER = r"^[a-z][a-z0-9_]{0,49}$"

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER)]
UnitCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,49}$")]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]

DISTRICT: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [
            [17.00, 51.10],
            [17.06, 51.10],
            [17.06, 51.13],
            [17.00, 51.13],
            [17.00, 51.10],
        ]
    ],
}


class UnitWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: UnitCode = Field(
        description="The unit's code, as cases, the CRM and intake name it.",
        examples=["zdium"],
    )
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        NOT_BLANK,
    ] = Field(examples=["Zarząd Dróg i Utrzymania Miasta"])
    connector: Identifier = Field(
        description="The CRM connector the unit's cases go through (one this adapter has "
        "configured, e.g. `rest_json`).",
        examples=["rest_json"],
    )
    names: NamesWrite | None = Field(
        default=None,
        description="What residents see the unit called, in each language (pl, en, "
        "de). Left out: the names the unit had in the version before, or else `name` "
        "in every language. Intake, its Open311 server and the CRM are told at once.",
        examples=[
            {
                "pl": "Zarząd Dróg i Utrzymania Miasta",
                "en": "Roads and City Maintenance Board",
                "de": "Amt für Straßen und Stadtunterhaltung",
            }
        ],
    )


class UnitRead(UnitWrite):
    model_config = ConfigDict(from_attributes=True)

    names: NamesWrite | None = Field(
        description="What residents see the unit called; null: `name` in every language."
    )


class RuleWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Identifier = Field(
        description="The report category's code.", examples=["pothole"]
    )
    unit: UnitCode = Field(
        description="Code of one of the table's units.", examples=["zdium"]
    )
    area: dict[str, Any] | None = Field(
        default=None,
        description="Where the rule applies: a GeoJSON Polygon or MultiPolygon in WGS 84 "
        "([longitude, latitude] positions, closed rings). Null: anywhere. A report whose "
        "point lies inside (or on the edge of) a rule's area goes by that rule rather "
        "than by its category's rule without area.",
        examples=[None, DISTRICT],
    )
    priority: WholeNumber = Field(
        default=0,
        ge=-1000,
        le=1000,
        description="When the areas of several rules of a category hold the point, the "
        "highest priority wins, then the rule listed first. Rules without area ignore it.",
    )
    connector: Identifier | None = Field(
        default=None,
        description="Sends this rule's reports through another connector than the unit's.",
        examples=[None],
    )
    note: Note | None = Field(
        default=None,
        description="What the rule is for, for other operators.",
        examples=["Psie Pole: the district's roads contractor"],
    )


class RuleRead(RuleWrite):
    id: int = Field(description="The rule's id; cases routed by it name it.")
    position: int = Field(description="Its place in the version's rules, from 0.")

    @classmethod
    def of(cls, rule: Rule) -> RuleRead:
        return cls(
            id=rule.id,
            position=rule.position,
            category=rule.category,
            unit=rule.unit_code,
            area=rule.area,
            priority=rule.priority,
            connector=rule.connector,
            note=rule.note,
        )


class RoutingTableWrite(BaseModel):
    """A whole routing table, to become the next version."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "comment": "Roads in the district go to its contractor.",
                    "units": [
                        {
                            "code": "zdium",
                            "name": "Zarząd Dróg i Utrzymania Miasta",
                            "connector": "rest_json",
                        },
                        {
                            "code": "czk",
                            "name": "Centrum Zarządzania Kryzysowego",
                            "connector": "rest_json",
                        },
                    ],
                    "rules": [
                        {"category": "pothole", "unit": "zdium"},
                        {
                            "category": "pothole",
                            "unit": "czk",
                            "area": DISTRICT,
                            "note": "The district's contractor",
                        },
                        {"category": "fallen_tree", "unit": "czk"},
                    ],
                }
            ]
        },
    )

    comment: Note | None = Field(
        default=None, description="Why the table changes, for the versions' history."
    )
    units: list[UnitWrite] = Field(min_length=1, max_length=200)
    rules: list[RuleWrite] = Field(min_length=1, max_length=5000)


class VersionSummary(BaseModel):
    version: int = Field(description="The version's number, from 1.", examples=[2])
    created_at: dt.datetime
    created_by: str = Field(
        description="The operator key's name; `defaults` for the seeded table, "
        "`migration` for the table carried over from before versions.",
        examples=["city-manager"],
    )
    comment: str | None = Field(
        examples=["Roads in the district go to its contractor."]
    )
    replaced_at: dt.datetime | None = Field(
        description="When the next version took over; null on the version in effect."
    )

    @classmethod
    def of(cls, version: RoutingVersion) -> VersionSummary:
        return cls(
            version=version.number,
            created_at=version.created_at,
            created_by=version.created_by,
            comment=version.comment,
            replaced_at=version.replaced_at,
        )


class CatalogCoverage(BaseModel):
    """How the version's rules meet intake's categories, as intake last told them."""

    catalog_version: int = Field(
        description="The version of intake's catalog known here."
    )
    uncovered: list[str] = Field(
        description="Active categories no rule covers: their reports are held as "
        "unroutable until a rule does.",
        examples=[["graffiti"]],
    )
    unknown: list[str] = Field(
        description="Categories the rules name that intake does not have (a typo, or "
        "one intake has not made yet): those rules match no report.",
        examples=[[]],
    )


class RoutingVersionRead(VersionSummary):
    units: list[UnitRead] = Field(description="By code.")
    rules: list[RuleRead] = Field(description="In their order.")
    coverage: CatalogCoverage | None = Field(
        default=None,
        description="Against intake's categories; null until intake has told its "
        "categories (it does with each change of them).",
    )

    @classmethod
    def full(
        cls,
        version: RoutingVersion,
        units: Sequence[VersionUnit],
        rules: Sequence[Rule],
    ) -> RoutingVersionRead:
        return cls(
            **VersionSummary.of(version).model_dump(),
            units=[UnitRead.model_validate(unit) for unit in units],
            rules=[RuleRead.of(rule) for rule in rules],
        )


class VersionPage(BaseModel):
    items: list[VersionSummary] = Field(description="Newest first.")
    next_before: int | None = Field(
        description="Pass as `before` for the next page; null on the last page."
    )


class Resolution(BaseModel):
    """Where a report of the category at the point would go under the version in effect."""

    version: int
    rule: RuleRead | None = Field(description="The rule that matches; null: none does.")
    unit: UnitRead | None
    connector: str | None = Field(
        description="The connector the case would go through (the rule's or the unit's)."
    )


class Location(BaseModel):
    lat: float = Field(examples=[51.1097])
    lon: float = Field(examples=[17.0326])


class UnroutableCaseRead(BaseModel):
    report_id: uuid.UUID
    report_number: str = Field(examples=["WRO-2026-000042"])
    category: str = Field(examples=["noise_complaint"])
    location: Location
    submitted_at: dt.datetime
    held_since: dt.datetime = Field(description="When the adapter received the report.")
    routing_version: int | None = Field(
        description="The version of the table under which no rule matched."
    )
    reason: str | None = Field(examples=["no route for category 'noise_complaint'"])


class UnroutablePage(BaseModel):
    items: list[UnroutableCaseRead] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class RerouteResult(BaseModel):
    version: int = Field(description="The version the held reports were routed by.")
    routed: int = Field(description="Reports now on their way to the CRM.")
    still_unroutable: int = Field(description="Reports no rule of it covers either.")
