"""`python -m devtools.run`: migrate, then run intake, adapter and CRM simulator until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import time

from dotenv import dotenv_values

from devtools.stack import LocalStack, Ports


def main() -> int:
    # `.env` counts as the services' own settings do, with the real environment winning.
    env = {k: v for k, v in dotenv_values(".env").items() if v is not None} | dict(
        os.environ
    )
    stack = LocalStack(Ports.from_env(env), env)
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, _frame: received.append(signum))
    try:
        stack.start()
    except RuntimeError as exc:
        sys.stderr.write(f"{exc}\n")
        stack.stop()
        return 1
    sys.stdout.write(
        f"MAM is running: intake {stack.url('intake')}/docs, adapter {stack.url('adapter')}/docs, "
        f"CRM simulator {stack.url('crm-simulator')}/docs. Ctrl-C stops all three.\n"
    )
    sys.stdout.flush()
    exited = None
    while not received and exited is None:
        exited = stack.exited()
        time.sleep(0.2)
    if exited is not None:
        sys.stderr.write(f"{exited} exited; stopping the rest\n")
    # Ctrl-C in a terminal reaches the whole process group: the servers are already shutting
    # down, and a second SIGINT would make uvicorn abandon its graceful shutdown. Anything
    # still running after a grace period (or a SIGTERM to us alone) gets a SIGTERM.
    stack.stop(grace=5.0 if received == [signal.SIGINT] else 0.0)
    return 1 if exited is not None else 0


if __name__ == "__main__":
    sys.exit(main())
