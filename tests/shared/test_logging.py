"""What the services' logging lets through: nothing that names a resident."""

from __future__ import annotations

import logging

from shared.logging import configure_logging


def test_uvicorns_repeat_of_an_unexpected_error_is_left_out(capsys):
    # As the services run uvicorn (`log_config=None`): its loggers end at the root's
    # handler. Servers other tests started may have configured them otherwise.
    root, server, errors = (
        logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error")
    )
    saved = [
        (logger, logger.handlers[:], logger.level, logger.propagate)
        for logger in (root, server, errors)
    ]
    server.handlers[:], server.propagate = [], True
    server.setLevel(logging.NOTSET)
    errors.setLevel(logging.NOTSET)
    configure_logging()
    try:
        try:
            raise ValueError('duplicate key (email)=(zofia@example.org) violates "uq"')
        except ValueError:
            errors.error("Exception in ASGI application\n", exc_info=True)
        errors.info("Application startup complete.")
    finally:
        for logger, handlers, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
    logged = capsys.readouterr().err
    assert "Application startup complete." in logged
    assert "zofia@example.org" not in logged
