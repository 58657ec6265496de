"""`python -m devtools.run`: migrate, then run intake, adapter and CRM simulator until Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable

from devtools.stack import Ports, migrate_commands, serve_commands, stack_env


def main() -> int:
    ports = Ports.from_env(os.environ)
    env = stack_env(ports, os.environ)
    for command in migrate_commands():
        subprocess.run(command, env=env, check=True)
    processes = {
        name: subprocess.Popen(cmd, env=env) for name, cmd in serve_commands().items()
    }
    sys.stdout.write(
        f"MAM is running: intake http://127.0.0.1:{ports.intake}/docs, "
        f"adapter http://127.0.0.1:{ports.adapter}/docs, "
        f"CRM simulator http://127.0.0.1:{ports.crm}/docs. Ctrl-C stops all three.\n"
    )
    sys.stdout.flush()
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, _frame: received.append(signum))
    exit_code = 0
    while not received and exit_code == 0:
        for name, process in processes.items():
            if process.poll() is not None:
                sys.stderr.write(
                    f"{name} exited with {process.returncode}; stopping the rest\n"
                )
                exit_code = process.returncode or 1
        time.sleep(0.2)
    # Ctrl-C in a terminal reaches the whole process group: the servers are already shutting
    # down, and a second SIGINT would make uvicorn abandon its graceful shutdown. Anything
    # still running after a grace period (or a SIGTERM to us alone) gets a SIGTERM.
    grace = 5.0 if received == [signal.SIGINT] else 0.0
    _wait(processes.values(), grace)
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    _wait(processes.values(), 10.0)
    for process in processes.values():
        if process.poll() is None:
            process.kill()
    return exit_code


def _wait(processes: Iterable[subprocess.Popen[bytes]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(deadline - time.monotonic(), 0.01))


if __name__ == "__main__":
    sys.exit(main())
