"""The API docs pages work without the internet: their scripts and styles come from the
service itself, as a city network without access to a CDN needs."""

from __future__ import annotations

import re

import httpx
import pytest

from crm_adapter.app import create_app as create_adapter
from crm_adapter.config import Settings as AdapterSettings
from devtools.crm_simulator.app import create_app as create_simulator
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings

APPS = {
    "intake": lambda: create_intake(IntakeSettings()),
    "adapter": lambda: create_adapter(AdapterSettings()),
    "crm-simulator": create_simulator,
}


@pytest.mark.parametrize("service", APPS)
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_a_docs_page_loads_everything_from_the_service(service, page):
    transport = httpx.ASGITransport(app=APPS[service]())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        html = await client.get(page)
        assert html.status_code == 200
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
        assets += re.findall(r"""url: ?["']([^"']+)["']""", html.text)
        assert any(a.endswith(".js") for a in assets), html.text
        elsewhere = [a for a in assets if not a.startswith("/")]
        assert elsewhere == []
        for asset in assets:
            loaded = await client.get(asset)
            assert loaded.status_code == 200, asset
            assert loaded.content, asset
