"""Errors of the operators' catalog API."""

from __future__ import annotations

from shared.errors import AppError
from shared.i18n import N_


class CategoryNotFound(AppError):
    status_code = 404
    code = "category-not-found"
    title = N_("No such category")
    detail = N_("There is no category {category}.")


class GroupNotFound(AppError):
    status_code = 404
    code = "category-group-not-found"
    title = N_("No such group of categories")
    detail = N_("There is no group {group}.")


class GroupUnknown(AppError):
    status_code = 422
    code = "category-group-unknown"
    title = N_("The group does not exist")
    detail = N_(
        "There is no group {group}: make it first (PUT /v1/operator/category-groups/"
        "{group}); nothing was changed."
    )


class RevisionRequired(AppError):
    status_code = 428
    code = "revision-required"
    title = N_("State which revision you change")
    detail = N_(
        "Send the ETag you read in the If-Match header, so that nobody's change is "
        "overwritten unseen."
    )


class RevisionChanged(AppError):
    status_code = 412
    code = "revision-changed"
    title = N_("It has changed since you read it")
    detail = N_(
        "Someone changed it after you read it (or made it, or it does not exist). Read "
        "it again, make your change on it and send it with its ETag."
    )


class CatalogFull(AppError):
    status_code = 422
    code = "catalog-full"
    title = N_("There are as many categories as there can be")
    detail = N_(
        "The catalog holds at most {most} categories, retired ones included; nothing "
        "was changed. Change a retired one into the new one instead."
    )
