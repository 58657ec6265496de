"""Dependencies shared by the adapter's routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.crm.connector import CrmConnector


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


def get_crm_connector(request: Request) -> CrmConnector:
    connector: CrmConnector = request.app.state.crm_connector
    return connector


SessionDep = Annotated[AsyncSession, Depends(get_session)]
CrmConnectorDep = Annotated[CrmConnector, Depends(get_crm_connector)]
