"""Dependencies shared by the adapter's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from crm_adapter.crm.connector import CrmConnector


def get_crm_connector(request: Request) -> CrmConnector:
    connector: CrmConnector = request.app.state.crm_connector
    return connector


CrmConnectorDep = Annotated[CrmConnector, Depends(get_crm_connector)]
