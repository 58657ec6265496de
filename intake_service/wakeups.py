"""Names of the wake-ups (`shared.wakeup`) that more than one of intake's packages sends."""

from __future__ import annotations

NOTIFICATIONS = "notifications"
"""Wake-up of open notification streams."""
