"""Public API shapes of categories and units."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from intake_service.categories.models import Category, CategoryGroup, Unit
from shared.i18n import pick
from shared.sla import approximate_hours


class NamedRef(BaseModel):
    code: str = Field(examples=["zdium"])
    name: str = Field(examples=["Zarząd Dróg i Utrzymania Miasta"])

    @classmethod
    def of(cls, item: Unit | CategoryGroup | Category, lang: str) -> NamedRef:
        return cls(code=item.code, name=pick(item.names, lang))


class ChoiceRead(BaseModel):
    code: str = Field(examples=["paper"])
    name: str = Field(examples=["Papier"])


class AttributeRead(BaseModel):
    code: str = Field(
        description="Key in the report's `attributes`.", examples=["waste_type"]
    )
    name: str = Field(
        description="Label in the requested language.", examples=["Rodzaj odpadów"]
    )
    datatype: Literal["string", "integer", "number", "boolean", "choice"]
    required: bool
    max_length: int | None = Field(
        default=None, description="For text: the longest allowed."
    )
    choices: list[ChoiceRead] | None = Field(
        default=None, description="For `choice`: the allowed codes."
    )

    @classmethod
    def of(cls, spec: dict[str, Any], lang: str) -> AttributeRead:
        choices = spec.get("choices")
        return cls(
            code=spec["code"],
            name=pick(spec["names"], lang),
            datatype=spec["datatype"],
            required=bool(spec.get("required")),
            max_length=spec.get("max_length") if spec["datatype"] == "string" else None,
            choices=[
                ChoiceRead(code=c["code"], name=pick(c["names"], lang)) for c in choices
            ]
            if choices
            else None,
        )


class CategoryRead(BaseModel):
    code: str = Field(
        description="Stable code to send when reporting.", examples=["pothole"]
    )
    name: str = Field(
        description="Name in the requested language.", examples=["Dziura w jezdni"]
    )
    group: NamedRef = Field(description="The group the category is listed under.")
    unit: NamedRef | None = Field(
        description="The city unit that usually handles it; null while the city's routing "
        "names none (reports of it are held until it does)."
    )
    attributes: list[AttributeRead] = Field(
        description="Extra fields a report of this category may or must carry."
    )
    expected_resolution_hours: int = Field(
        description="The city's target time from report to resolution, in hours. For a "
        "target in working days, its usual calendar length (5 working days: 168 hours); "
        "a report's `expected_resolution_at` gives the exact time.",
        examples=[168],
    )
    expected_resolution_working_days: int | None = Field(
        description="Set when the target counts working days (Monday to Friday except "
        "the city's public holidays, in its time zone) rather than hours on the clock: a "
        "report filed on Friday afternoon waits over the weekend.",
        examples=[5],
    )

    @classmethod
    def of(cls, category: Category, lang: str) -> CategoryRead:
        return cls(
            code=category.code,
            name=pick(category.names, lang),
            group=NamedRef.of(category.group, lang),
            unit=NamedRef.of(category.unit, lang) if category.unit else None,
            expected_resolution_hours=category.expected_resolution_hours
            or approximate_hours(category.expected_resolution_working_days or 0),
            expected_resolution_working_days=category.expected_resolution_working_days,
            attributes=[AttributeRead.of(spec, lang) for spec in category.attributes],
        )
