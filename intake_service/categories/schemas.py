"""Public API shapes of categories and units."""

from __future__ import annotations

from pydantic import BaseModel, Field

from intake_service.categories.models import Category, CategoryGroup, Unit
from shared.i18n import pick


class NamedRef(BaseModel):
    code: str = Field(examples=["zdium"])
    name: str = Field(examples=["Zarząd Dróg i Utrzymania Miasta"])

    @classmethod
    def of(cls, item: Unit | CategoryGroup | Category, lang: str) -> NamedRef:
        return cls(code=item.code, name=pick(item.names, lang))


class CategoryRead(BaseModel):
    code: str = Field(
        description="Stable code to send when reporting.", examples=["pothole"]
    )
    name: str = Field(
        description="Name in the requested language.", examples=["Dziura w jezdni"]
    )
    group: NamedRef = Field(description="The group the category is listed under.")
    unit: NamedRef = Field(description="The city unit that usually handles it.")
    expected_resolution_hours: int = Field(
        description="The city's target time from report to resolution.", examples=[168]
    )

    @classmethod
    def of(cls, category: Category, lang: str) -> CategoryRead:
        return cls(
            code=category.code,
            name=pick(category.names, lang),
            group=NamedRef.of(category.group, lang),
            unit=NamedRef.of(category.unit, lang),
            expected_resolution_hours=category.expected_resolution_hours,
        )
