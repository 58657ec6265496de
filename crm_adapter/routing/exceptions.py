"""Errors of the routing table's operator API."""

from __future__ import annotations

from shared.errors import AppError
from shared.i18n import N_


class RoutingTableInvalid(AppError):
    status_code = 422
    code = "routing-table-invalid"
    title = N_("The routing table is not valid")
    detail = N_(
        "Correct the listed entries of the table and send it again; nothing was changed."
    )


class RoutingVersionNotFound(AppError):
    status_code = 404
    code = "routing-version-not-found"
    title = N_("No such routing version")
    detail = N_("The routing table has no version {version}.")


class RoutingVersionRequired(AppError):
    status_code = 428
    code = "routing-version-required"
    title = N_("State which version you change")
    detail = N_(
        "Send the ETag of the version you read (GET /admin/routing) in the If-Match "
        "header, so that nobody's change is overwritten unseen."
    )


class RoutingVersionChanged(AppError):
    status_code = 412
    code = "routing-version-changed"
    title = N_("The routing table has changed")
    detail = N_(
        "Version {version} is in effect now, not the one you read. Read it again, make "
        "your change on it and send it with its ETag."
    )
