"""API shapes of the status mappings and the held changes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts import ReportStatus
from shared.text import Text

CrmCode = Annotated[Text, Field(min_length=1, max_length=50, pattern=r"^\S(.*\S)?$")]
"""A CRM status code as the CRM spells it (no surrounding spaces)."""

ConnectorName = Annotated[Text, Field(min_length=1, max_length=50)]


class StatusMappingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    connector: str = Field(
        description="The CRM connector the code belongs to.", examples=["rest_json"]
    )
    crm_code: str = Field(
        description="The CRM's own status code.", examples=["ON_HOLD"]
    )
    status: ReportStatus = Field(
        description="The canonical status residents see.", examples=["in_progress"]
    )
    changed_by: str | None = Field(
        description="The operator key's name that set it last; null for an entry from the "
        "connector's default mapping.",
        examples=["city-manager"],
    )
    changed_at: dt.datetime


class StatusMappingWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "in_progress"}]}
    )

    status: ReportStatus = Field(description="The canonical status the code means.")


class StatusMappingSet(StatusMappingRead):
    reapplied: int = Field(
        description="Held changes with this code applied now (each through the usual "
        "rules: one older than what its case has is dropped).",
        examples=[3],
    )


class HeldChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(examples=[17])
    connector: str = Field(examples=["rest_json"])
    crm_code: str = Field(
        description="The code nobody mapped yet.", examples=["ON_HOLD"]
    )
    report_id: uuid.UUID = Field(examples=["0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10"])
    crm_case_id: str = Field(examples=["CRM-000042"])
    update_id: str = Field(
        description="The CRM's id of the change.",
        examples=["3f0c2a9e-0f7c-4c53-9a2e-5b1d7f6e8a90"],
    )
    version: int | None = Field(
        description="The case's version in the CRM.", examples=[3]
    )
    note: str | None = Field(
        description="The unit's note with the change.", examples=["Czeka na część"]
    )
    changed_at: dt.datetime = Field(description="When the CRM made the change.")
    held_at: dt.datetime = Field(description="When it arrived and was held.")


class UnmappedCode(BaseModel):
    connector: str = Field(examples=["rest_json"])
    crm_code: str = Field(examples=["ON_HOLD"])
    held: int = Field(description="How many changes with it are held.", examples=[4])
    first_held_at: dt.datetime = Field(description="When the oldest of them arrived.")
    last_held_at: dt.datetime = Field(description="When the newest of them arrived.")


class UnmappedOverview(BaseModel):
    codes: list[UnmappedCode] = Field(
        description="Each connector's unmapped codes with the count of held changes, the "
        "longest waiting first."
    )
    items: list[HeldChangeRead] = Field(
        description="The held changes, oldest first (up to `limit`)."
    )


class ReapplyResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reapplied": 3, "still_held": 1}]}
    )

    reapplied: int = Field(
        description="Held changes whose code is mapped now, applied in the order they came."
    )
    still_held: int = Field(
        description="Held changes of the selection whose code is still not mapped."
    )
