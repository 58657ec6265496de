"""GET /v1/operator/actions: the audit log of operators' changes."""

from __future__ import annotations

from intake_service.operators.dependencies import require_manage
from intake_service.operators.models import OPERATORS
from shared.operator_api import actions_router

router = actions_router(
    prefix="/v1/operator", store=OPERATORS, manage=require_manage, tags=["operator"]
)
