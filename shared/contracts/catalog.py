"""Catalog events: what residents can report (intake's) and who handles it (the adapter's).

Intake owns the categories and their groups; the adapter's routing table owns the units. Each
side tells the other of every change through the signed events, so that the resident, the
Open311 clients and the CRM always name the same unit and the same categories. Both events
carry the whole catalog as it stands after the change, with an increasing `version`: a
receiver applies one only when it is newer than the last it applied, so a lost or repeated
event is mended by the next.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StrictBool

from shared.contracts.reports import ResolutionTarget, _Contract, _Event
from shared.params import Timestamp, WholeNumber
from shared.text import Text

CATALOG_AGGREGATE = uuid.UUID("6f1c0d2e-3a4b-5c6d-8e7f-0a1b2c3d4e5f")
"""The outbox aggregate of catalog events: they go out in the order they were written."""

ROUTING_AGGREGATE = uuid.UUID("7a2d1e3f-4b5c-6d7e-8f90-1a2b3c4d5e6f")
"""The outbox aggregate of routing events: they go out in the order they were written."""


MAX_CATEGORIES = 500
"""The most categories a catalog holds (so that one event tells all of them)."""

Code = Annotated[Text, Field(min_length=1, max_length=50)]
"""A category's or a unit's code."""


class Names(_Contract):
    """A name in every language residents are answered in."""

    pl: Text = Field(min_length=1, max_length=200, description="Polish.")
    en: Text = Field(min_length=1, max_length=200, description="English.")
    de: Text = Field(min_length=1, max_length=200, description="German.")


class CatalogCategory(_Contract):
    """One category as intake offers it (or offered it: `active` false when retired)."""

    code: Text = Field(min_length=1, max_length=50, description="e.g. `pothole`.")
    group: Text = Field(min_length=1, max_length=50, description="Its group's code.")
    names: Names = Field(description="What residents see it called.")
    active: StrictBool = Field(
        description="False once retired: no new reports, old ones keep it."
    )
    resolution_target: ResolutionTarget = Field(
        description="The city's target from report to resolution."
    )


class CatalogChangedV1(_Event):
    """Intake's categories changed (or intake tells the adapter what they are at start)."""

    type: Literal["catalog.changed.v1"] = "catalog.changed.v1"
    version: WholeNumber = Field(
        ge=1,
        lt=2**63,
        description="Increases with each change; a receiver ignores one not above the last "
        "it applied.",
    )
    categories: list[CatalogCategory] = Field(
        max_length=MAX_CATEGORIES, description="Every category, active or retired."
    )
    changed_at: Timestamp = Field(description="When the catalog changed (UTC).")


class RoutingUnit(_Contract):
    """A unit as the routing table in effect names it."""

    code: Text = Field(min_length=1, max_length=50, description="e.g. `zdium`.")
    names: Names = Field(description="What residents see it called.")


class RoutingChangedV1(_Event):
    """A version of the routing table took effect: its units and who handles what."""

    type: Literal["routing.changed.v1"] = "routing.changed.v1"
    version: WholeNumber = Field(
        ge=1,
        lt=2**31,
        description="The routing table's version; a receiver ignores one not above the "
        "last it applied.",
    )
    units: list[RoutingUnit] = Field(
        max_length=200, description="The units of the version in effect."
    )
    category_units: dict[Code, Code] = Field(
        max_length=MAX_CATEGORIES,
        description="Each category's usual unit (its rule without area, or else its "
        "first rule), by category code. A category without rules is left out.",
    )
    changed_at: Timestamp = Field(description="When the version took effect (UTC).")
