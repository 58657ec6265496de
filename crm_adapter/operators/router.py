"""GET /admin/actions: the audit log of operators' changes."""

from __future__ import annotations

from crm_adapter.operators.dependencies import require_manage
from crm_adapter.operators.models import OPERATORS
from shared.operator_api import actions_router

router = actions_router(
    prefix="/admin", store=OPERATORS, manage=require_manage, tags=["admin"]
)
