"""The body of every service's Alembic `env.py`: online migrations on a given connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, MetaData

from shared.db import UtcDateTime, make_engine


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations stay plain SQLAlchemy: the UTC handling is Python-side only.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def on_dialect(dialect: str) -> Callable[..., bool]:
    """An Alembic `include_object` leaving out what the models declare only for another
    database (`Index(...).ddl_if(dialect="postgresql")`)."""

    def include(
        obj: Any, _name: Any, _type: str, _reflected: bool, _other: Any
    ) -> bool:
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return only is None or only == dialect

    return include


def _run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_object=on_dialect(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str, metadata: MetaData) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run, metadata)
    finally:
        await engine.dispose()


def run_migrations(metadata: MetaData) -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (SQL script) migrations are not supported")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection, metadata)
    else:  # the alembic command line
        asyncio.run(
            _run_async(context.config.get_main_option("sqlalchemy.url") or "", metadata)
        )
