"""Dependencies shared by the adapter's routers: its settings and CRM connector (an operator's
key is checked by `crm_adapter.operators.dependencies`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from crm_adapter.config import Settings
from crm_adapter.crm.connector import CrmConnector


async def get_crm_connector(request: Request) -> CrmConnector:
    connector: CrmConnector = request.app.state.crm_connector
    return connector


CrmConnectorDep = Annotated[CrmConnector, Depends(get_crm_connector)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
