"""Which passwords are accepted: long enough, not a common one, not the e-mail address's name.

Pure checks; the length is a schema constraint, the rest `password_problem` explains.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from shared.i18n import N_

MIN_LENGTH = 10
MAX_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

TOO_COMMON = N_("This is one of the most common passwords. Choose another one.")
CONTAINS_EMAIL = N_("The password must not contain your e-mail address.")

# Shorter local parts ("jo@…") would refuse half the passwords that merely contain them.
_MIN_LOCAL_PART = 3
_SEPARATORS = re.compile(r"[\W_]+")


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold()
        for line in lines
        if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, email: str | None) -> str | None:
    """What is wrong with `password` (a msgid), or None; the length is checked elsewhere."""
    folded = password.casefold()
    if folded in common_passwords():
        return TOO_COMMON
    if email:
        local = email.rpartition("@")[0].casefold()
        bare_local = _SEPARATORS.sub("", local)
        bare_password = _SEPARATORS.sub("", folded)
        if (len(local) >= _MIN_LOCAL_PART and local in folded) or (
            len(bare_local) >= _MIN_LOCAL_PART and bare_local in bare_password
        ):
            return CONTAINS_EMAIL
    return None
