"""`python -m devtools.run`: migrate, then run intake, adapter and CRM simulator until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

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
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                sys.stderr.write(
                    f"{name} exited with {process.returncode}; stopping the rest\n"
                )
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.2)
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
