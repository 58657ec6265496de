"""What a command says when it cannot do its work: one line naming the setting to check.

The commands (`migrate`, `worker`, `operator-key`, ...) read the same settings as the
running service. Started without them (another data folder, no database URL) they would
otherwise end in a driver's traceback; a city's operator needs to know which setting.
"""

from __future__ import annotations

import sqlite3

from pydantic import ValidationError
from sqlalchemy import exc
from sqlalchemy.engine import make_url

from shared.db import causes, database_unavailable
from shared.settings import ServiceSettings

_NO_TABLES = ("no such table", "does not exist")
_MISSING_TABLE_STATE = "42P01"
_MISSING_DATABASE_STATE = "3D000"


def _reason(error: BaseException) -> str:
    """The innermost error's first line, without SQLAlchemy's statement and links."""
    innermost = list(causes(error))[-1]
    text = str(innermost).strip().splitlines()
    return text[0] if text else type(innermost).__name__


def _state(error: BaseException) -> str | None:
    for current in causes(error):
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


def explain(error: BaseException, settings: ServiceSettings, prog: str) -> str | None:
    """One line for an error a setting explains; None for any other (a bug: traceback)."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    url = make_url(settings.database_url).render_as_string(hide_password=True)
    where = (
        f"{prefix}DATABASE_URL, or MAM_DATA_DIR (the SQLite file's folder, now "
        f"{settings.data_dir})"
        if settings.database_is_sqlite
        else f"{prefix}DATABASE_URL"
    )
    check = f"check {where}: the commands use the same settings as the running service"
    state = _state(error)
    missing_table = state == _MISSING_TABLE_STATE or (
        isinstance(error, exc.OperationalError | sqlite3.OperationalError)
        and any(text in _reason(error) for text in _NO_TABLES)
    )
    if missing_table:
        return (
            f"{prog}: the database {url} has no tables yet; run `{prog} migrate` "
            f"with the same settings first, or {check}."
        )
    if state == _MISSING_DATABASE_STATE:
        return f"{prog}: the database {url} does not exist ({_reason(error)}); {check}."
    if database_unavailable(error) or isinstance(error, OSError):
        return f"{prog}: cannot open the database {url} ({_reason(error)}); {check}."
    return None


def explain_settings(error: ValidationError, prefix: str, prog: str) -> str:
    """The invalid settings, each by its variable, on as few lines as there are."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper()
        variable = name if name.startswith("MAM_") else prefix + name
        lines.append(f"{prog}: the setting {variable} is not valid: {item['msg']}.")
    return "\n".join(lines)
