"""GET /v1/categories."""

from __future__ import annotations

from intake_service.categories import service
from intake_service.categories.schemas import CategoryRead
from intake_service.deps import LangDep
from shared.deps import SessionDep
from shared.routes import Router

router = Router(prefix="/v1/categories", tags=["categories"])


@router.get(
    "",
    summary="List report categories",
    description="The active categories residents can report, with names in the language chosen "
    "by `?lang=` or `Accept-Language` (pl, en, de; Polish by default), their group, the unit "
    "that usually handles them and the city's target resolution time.",
)
async def list_categories(session: SessionDep, lang: LangDep) -> list[CategoryRead]:
    return [CategoryRead.of(c, lang) for c in await service.list_active(session)]
