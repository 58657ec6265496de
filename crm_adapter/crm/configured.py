"""The CRM connectors as the settings configure them, built once per process and shared by
its API (webhooks, operators' calls) and its loops (pushing, polling)."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.config import Settings
from crm_adapter.crm.connector import CrmConnector
from crm_adapter.crm.open311 import Open311Connector
from crm_adapter.crm.open311_tokens import DatabaseTokens
from crm_adapter.crm.photos import PhotoLinks
from crm_adapter.crm.rest_json import RestJsonConnector


def connectors(
    settings: Settings,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> dict[str, CrmConnector]:
    """The CRM connectors by name, as units refer to them in the routing table."""
    photo_links = PhotoLinks(
        intake_url=settings.intake_public_url,
        secret=settings.photo_url_secret.get_secret_value(),
        ttl=settings.photo_url_ttl(),
    )
    rest = RestJsonConnector(
        client=client,
        base_url=settings.crm_url,
        api_key=settings.crm_api_key.get_secret_value(),
        timeout=settings.crm_timeout_seconds,
        photo_links=photo_links,
    )
    open311 = Open311Connector(
        client=client,
        base_url=settings.open311_url,
        tokens=DatabaseTokens(sessionmaker),
        api_key=settings.open311_api_key.get_secret_value()
        if settings.open311_api_key
        else None,
        jurisdiction_id=settings.open311_jurisdiction_id,
        fmt=settings.open311_format,
        timeout=settings.open311_timeout_seconds,
        service_codes=settings.open311_service_codes,
        photo_links=photo_links,
        token_polls=settings.open311_token_polls,
        token_poll_seconds=settings.open311_token_poll_seconds,
        poll_source=settings.open311_poll_source,
        poll_overlap=dt.timedelta(seconds=settings.open311_poll_overlap_seconds),
    )
    return {rest.name: rest, open311.name: open311}


def poll_intervals(settings: Settings) -> dict[str, float]:
    """The connectors polled, with their intervals (seconds)."""
    polled = {
        RestJsonConnector.name: (settings.crm_poll, settings.crm_poll_seconds),
        Open311Connector.name: (settings.open311_poll, settings.open311_poll_seconds),
    }
    intervals = {name: seconds for name, (on, seconds) in polled.items() if on}
    if not settings.crm_poll and settings.crm_reconcile_hours > 0:
        # Webhooks are the REST JSON CRM's primary path; a daily read backs them up.
        intervals[RestJsonConnector.name] = settings.crm_reconcile_hours * 3600
    return intervals
