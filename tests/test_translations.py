"""Every text a resident can see exists in Polish, English and German."""

import importlib
import pkgutil

import crm_adapter
import intake_service
import shared
from intake_service.status.texts import STATUS_CHANGED, STATUS_NAMES, UNIT_NOTE
from shared.contracts import ReportStatus
from shared.errors import _HTTP_TITLES, AppError
from shared.i18n import missing_languages


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def import_everything():
    for package in (shared, intake_service, crm_adapter):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in module.name and not module.name.endswith(
                "__main__"
            ):
                importlib.import_module(module.name)


def test_every_error_is_translated():
    import_everything()
    errors = [AppError, *all_subclasses(AppError)]
    assert len(errors) > 5
    for error in errors:
        assert missing_languages(error.title) == set(), error.__name__
        if error.detail is not None:
            assert missing_languages(error.detail) == set(), error.__name__
    for status, title in _HTTP_TITLES.items():
        assert missing_languages(title) == set(), status


def test_every_status_and_notification_text_is_translated():
    assert set(STATUS_NAMES) == set(ReportStatus)
    for text in [*STATUS_NAMES.values(), STATUS_CHANGED, UNIT_NOTE]:
        assert missing_languages(text) == set()
