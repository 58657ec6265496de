"""The operator acting with a key kept in intake's database (Annotated aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from intake_service.deps import SettingsDep
from intake_service.operators.models import OPERATORS
from shared.deps import SessionDep
from shared.operators import Operator, OperatorKeys, Role, require_operator


async def get_operator_keys(session: SessionDep, settings: SettingsDep) -> OperatorKeys:
    return OPERATORS.keys(session, settings.operator_keys)


require_manage = require_operator(Role.MANAGE, get_operator_keys)
require_read = require_operator(Role.READ, get_operator_keys)
OperatorReadDep = Annotated[Operator, Depends(require_read)]
"""The operator acting with a key of any role (`X-API-Key`); 401 without a valid one."""
OperatorManageDep = Annotated[Operator, Depends(require_manage)]
"""The operator acting with a `manage` key; 403 for a `read` key."""
