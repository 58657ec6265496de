"""The routing table's own rules: what makes a table valid, and which rule a report takes
(pure, no I/O).

Choosing. Among the rules of the report's category, those whose area holds the point (its
edge included) win over the rule without area; among several such areas the highest
`priority` wins, then the rule listed first. No rule of the category: the report is held as
unroutable for an operator.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol, TypeVar

from crm_adapter.routing.geo import (
    AreaInvalid,
    Bounds,
    check_area,
    covers,
    same_area,
)
from crm_adapter.routing.schemas import RoutingTableWrite
from shared.i18n import N_


class RuleLike(Protocol):
    @property
    def position(self) -> int: ...
    @property
    def area(self) -> Mapping[str, Any] | None: ...
    @property
    def priority(self) -> int: ...


R = TypeVar("R", bound=RuleLike)


def choose_rule(rules: Iterable[R], *, lat: float, lon: float) -> R | None:
    """The rule a report at (lat, lon) goes by, out of the rules of its category."""
    everywhere: R | None = None
    best: R | None = None
    for rule in sorted(rules, key=lambda r: r.position):
        if rule.area is None:
            everywhere = everywhere or rule
        elif covers(rule.area, lat=lat, lon=lon) and (
            best is None or rule.priority > best.priority
        ):
            best = rule
    return best or everywhere


def _error(field: str, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "in": "body", "code": code, "message": message, **extra}


def check_table(
    table: RoutingTableWrite, *, connectors: Collection[str], bounds: Bounds
) -> list[dict[str, Any]]:
    """Every entry that keeps `table` from being used, as problem-details `errors`.

    Each names its entry by its place in the body (`rules.3.area`); the messages are msgids,
    where `{connectors}` stands for the configured connectors' names and `{bounds}` for
    the region areas must lie in.
    """
    errors: list[dict[str, Any]] = []
    units: set[str] = set()
    for i, unit in enumerate(table.units):
        if unit.code in units:
            errors.append(
                _error(
                    f"units.{i}.code",
                    "unit-duplicate",
                    N_("Another unit of the table has this code."),
                )
            )
        units.add(unit.code)
        if unit.connector not in connectors:
            errors.append(_unknown_connector(f"units.{i}.connector"))
    seen: dict[str, list[tuple[int, Mapping[str, Any] | None]]] = {}
    for i, rule in enumerate(table.rules):
        if rule.unit not in units:
            errors.append(
                _error(
                    f"rules.{i}.unit",
                    "unit-unknown",
                    N_("The table's units have no unit with this code."),
                )
            )
        if rule.connector is not None and rule.connector not in connectors:
            errors.append(_unknown_connector(f"rules.{i}.connector"))
        if rule.area is not None:
            try:
                check_area(rule.area, bounds)
            except AreaInvalid as exc:
                errors.append(_error(f"rules.{i}.area", "area-invalid", exc.args[0]))
                continue
        for j, area in seen.get(rule.category, []):
            if (area is None) == (rule.area is None) and (
                area is None or (rule.area is not None and same_area(area, rule.area))
            ):
                errors.append(
                    _error(
                        f"rules.{i}",
                        "rule-duplicate",
                        N_(
                            "An earlier rule has the same category and the same area "
                            "(or both have none)."
                        ),
                        duplicate_of=f"rules.{j}",
                    )
                )
                break
        seen.setdefault(rule.category, []).append((i, rule.area))
    return errors


def _unknown_connector(field: str) -> dict[str, Any]:
    return _error(
        field,
        "connector-unknown",
        N_("No CRM connector of this name is configured here ({connectors})."),
    )
