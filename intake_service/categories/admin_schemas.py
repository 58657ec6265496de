"""Operators' shapes of categories, their groups and units: every language at once."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from intake_service.categories.models import Category, CategoryGroup, Unit
from shared.contracts import Names, ResolutionTarget
from shared.i18n import N_
from shared.names import NamesWrite
from shared.params import WholeNumber

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
NAMES_EXAMPLE: dict[str, Any] = {
    "pl": "Dziura w jezdni",
    "en": "Pothole",
    "de": "Schlagloch",
}


class ChoiceWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code = Field(description="The value reports send.", examples=["paper"])
    names: NamesWrite


class AttributeWrite(BaseModel):
    """An extra field reports of the category carry, e.g. the lamp-post number."""

    model_config = ConfigDict(extra="forbid")

    code: Code = Field(
        description="Key in a report's `attributes`.", examples=["lamp_post_number"]
    )
    names: NamesWrite = Field(description="The field's label.")
    datatype: Literal["string", "integer", "number", "boolean", "choice"]
    required: StrictBool = False
    max_length: WholeNumber | None = Field(
        default=None, ge=1, le=2000, description="For `string`: the longest allowed."
    )
    choices: list[ChoiceWrite] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="For `choice`: the allowed values.",
    )

    @model_validator(mode="after")
    def _choices_for_choice(self) -> AttributeWrite:
        if (self.datatype == "choice") != bool(self.choices):
            raise ValueError(N_("Give choices for a choice field, and only for one."))
        if self.max_length is not None and self.datatype != "string":
            raise ValueError(N_("A longest length is for text fields only."))
        if self.choices and len({c.code for c in self.choices}) != len(self.choices):
            raise ValueError(N_("Two choices have the same code."))
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude_defaults=False)


class CategoryWrite(BaseModel):
    """A category as an operator makes it: the whole of it, each time."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "group": "roads",
                    "names": NAMES_EXAMPLE,
                    "expected_resolution": {"working_days": 5},
                    "duplicate_radius_m": 250,
                    "attributes": [],
                    "active": True,
                    "position": 0,
                }
            ]
        },
    )

    group: Code = Field(description="The code of the group it is listed under.")
    names: NamesWrite = Field(description="What residents see it called.")
    expected_resolution: ResolutionTarget = Field(
        description="The city's target from report to resolution: `hours` on the clock, "
        "or `working_days`."
    )
    duplicate_radius_m: WholeNumber = Field(
        default=250,
        ge=0,
        le=5000,
        description="How close another open report of the category must be to be shown "
        "as a likely duplicate.",
    )
    attributes: list[AttributeWrite] = Field(
        default_factory=list,
        max_length=20,
        description="Extra fields its reports carry. Changing them affects new reports "
        "only.",
    )
    active: StrictBool = Field(
        default=True,
        description="False retires it: residents can no longer choose it; its reports "
        "keep it.",
    )
    position: WholeNumber = Field(
        default=0, ge=0, le=10_000, description="Its place in the lists residents see."
    )

    @model_validator(mode="after")
    def _attribute_codes_unique(self) -> CategoryWrite:
        codes = [attribute.code for attribute in self.attributes]
        if len(set(codes)) != len(codes):
            raise ValueError(N_("Two attributes have the same code."))
        return self


class GroupWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "names": {
                        "pl": "Zieleń",
                        "en": "Green spaces",
                        "de": "Grünflächen",
                    },
                    "position": 3,
                }
            ]
        },
    )

    names: NamesWrite = Field(description="What residents see it called.")
    position: WholeNumber = Field(
        default=0, ge=0, le=10_000, description="Its place among the groups."
    )


class UnitRead(BaseModel):
    code: str = Field(examples=["zdium"])
    names: Names = Field(description="As the adapter's routing table names it.")

    @classmethod
    def of(cls, unit: Unit) -> UnitRead:
        return cls(code=unit.code, names=Names.model_validate(unit.names))


class GroupRead(GroupWrite):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "green",
                    "names": {
                        "pl": "Zieleń",
                        "en": "Green spaces",
                        "de": "Grünflächen",
                    },
                    "position": 3,
                    "revision": 1,
                }
            ]
        }
    )

    code: str = Field(examples=["roads"])
    revision: int = Field(description='Send it back as `If-Match: "<revision>"`.')

    @classmethod
    def of(cls, group: CategoryGroup) -> GroupRead:
        return cls(
            code=group.code,
            names=NamesWrite.model_validate(group.names),
            position=group.position,
            revision=group.revision,
        )


class CategoryAdminRead(CategoryWrite):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "pothole",
                    "group": "roads",
                    "names": NAMES_EXAMPLE,
                    "expected_resolution": {"working_days": 5},
                    "duplicate_radius_m": 250,
                    "attributes": [],
                    "active": True,
                    "position": 0,
                    "unit": "zdium",
                    "revision": 2,
                }
            ]
        }
    )

    code: str = Field(examples=["pothole"])
    unit: str | None = Field(
        description="The unit that usually handles it, as the adapter's routing table in "
        "effect says (changed there, not here); null while no rule covers it.",
        examples=["zdium"],
    )
    revision: int = Field(description='Send it back as `If-Match: "<revision>"`.')

    @classmethod
    def of(cls, category: Category) -> CategoryAdminRead:
        return cls(
            code=category.code,
            group=category.group_code,
            names=NamesWrite.model_validate(category.names),
            expected_resolution=category.resolution_target,
            duplicate_radius_m=category.duplicate_radius_m,
            attributes=[AttributeWrite.model_validate(a) for a in category.attributes],
            active=category.active,
            position=category.position,
            unit=category.unit_code,
            revision=category.revision,
        )


class CatalogRead(BaseModel):
    """Everything residents choose from, as operators see it."""

    version: int = Field(
        description="Increases with each change of a category; the adapter has been told "
        "of each."
    )
    routing_version: int = Field(
        description="The adapter's routing version the units below come from."
    )
    groups: list[GroupRead]
    categories: list[CategoryAdminRead] = Field(
        description="Every category, active and retired."
    )
    units: list[UnitRead]
