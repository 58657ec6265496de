"""Dependencies shared by the adapter's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from crm_adapter.config import Settings
from crm_adapter.crm.connector import CrmConnector
from crm_adapter.operators.models import OPERATORS
from shared.deps import SessionDep
from shared.operators import Operator, OperatorKeys, Role, require_operator


async def get_crm_connector(request: Request) -> CrmConnector:
    connector: CrmConnector = request.app.state.crm_connector
    return connector


CrmConnectorDep = Annotated[CrmConnector, Depends(get_crm_connector)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_operator_keys(session: SessionDep, settings: SettingsDep) -> OperatorKeys:
    return OPERATORS.keys(session, settings.operator_keys)


require_read = require_operator(Role.READ, get_operator_keys)
require_manage = require_operator(Role.MANAGE, get_operator_keys)
ReadOperator = Annotated[Operator, Depends(require_read)]
"""The operator acting with a key of any role (`X-API-Key`); 401 without a valid one."""
ManageOperator = Annotated[Operator, Depends(require_manage)]
"""The operator acting with a `manage` key; 403 for a `read` key."""
