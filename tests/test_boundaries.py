"""Neither service imports the other; shared/ imports neither; the simulator knows no service."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "shared": {"intake_service", "crm_adapter", "devtools"},
    "intake_service": {"crm_adapter", "devtools"},
    "crm_adapter": {"intake_service", "devtools"},
    "devtools/crm_simulator": {"intake_service", "crm_adapter"},
}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(("package", "forbidden"), FORBIDDEN.items())
def test_package_imports_nothing_it_must_not(package, forbidden):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_top_levels(path) & forbidden)
        for path in (ROOT / package).rglob("*.py")
    }
    assert {p: n for p, n in offenders.items() if n} == {}
