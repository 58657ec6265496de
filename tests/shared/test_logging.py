"""What the services' logging lets through: nothing that names a resident."""

from __future__ import annotations

import logging

from shared.logging import configure_logging


def test_uvicorns_repeat_of_an_unexpected_error_is_left_out(capsys):
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging()
    try:
        try:
            raise ValueError('duplicate key (email)=(zofia@example.org) violates "uq"')
        except ValueError:
            logging.getLogger("uvicorn.error").error(
                "Exception in ASGI application\n", exc_info=True
            )
        logging.getLogger("uvicorn.error").info("Application startup complete.")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    logged = capsys.readouterr().err
    assert "zofia@example.org" not in logged
    assert "Application startup complete." in logged
