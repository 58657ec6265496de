"""Nothing accepted is lost and nothing is doubled while the processes are killed.

Residents' phones file reports side by side, retrying with the same `Idempotency-Key` when an
answer does not come (and some once more after it did), while intake and the adapter are
SIGKILLed and started again, the CRM fails 30% of the creations and, on PostgreSQL, the
database server itself crashes and restarts (a server of this test's own). Then the CRM's
unit works on every case while the adapter is killed once more.

The checker (RELIABILITY §7): every report that got a 201 is exactly one CRM case and nothing
else is at the CRM; every change the CRM made is in the report's history once, in order; each
named reporter is told exactly once of each change that was current when it arrived.

`make soak` runs the same with more reports and more kills (`MAM_SOAK_SCALE`).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import os
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared.db import make_engine
from tests.databases import create_postgres, drop_postgres
from tests.e2e.conftest import FAST_RETRIES, Stack, StackOfItsOwn, start_stack
from tests.helpers import POTHOLE, eventually, folder_mailbox, register_and_sign_in
from tests.postgres_server import OwnPostgres, own_postgres

pytestmark = pytest.mark.e2e

SCALE = int(os.environ.get("MAM_SOAK_SCALE", "1"))
REPORTS = 30 * SCALE
PHONES = 6
RESIDENTS = 3
"""Named residents; every other report is anonymous."""
ROUNDS = SCALE
"""How often the whole series of kills is run while reports are filed."""
WITHIN = 60.0 + 30.0 * SCALE
"""Seconds for all reports to reach a status after the last kill."""

FAULTS = {
    "rules": [
        # Two creations fail for sure, then 30% of them.
        {"kind": "error", "count": 2, "operations": ["create"]},
        {"kind": "error", "rate": 0.3, "operations": ["create"]},
        # Some creates take effect at the CRM with the answer lost: found by look-up.
        {"kind": "reset_after_commit", "rate": 0.1, "operations": ["create"]},
    ]
}

RETRYING = 120.0
"""How long a phone keeps sending one report while processes are killed and restarted."""


@dataclass
class Server:
    """The PostgreSQL server under the stack, or None on SQLite."""

    postgres: OwnPostgres | None = None


@dataclass
class KillStack:
    stack: Stack
    server: Server


@pytest.fixture(scope="module")
def kill_stack(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    stack_of_its_own: StackOfItsOwn,
) -> Iterator[KillStack]:
    if backend == "sqlite":
        for stack in stack_of_its_own(backend, "kill", settings=FAST_RETRIES):
            yield KillStack(stack, Server())
        return
    folder = tmp_path_factory.mktemp(f"e2e-kill-{backend}")
    with own_postgres() as postgres:
        databases = asyncio.run(create_postgres(postgres.admin_url(), "kill"))
        try:
            for stack in start_stack(
                backend,
                folder,
                separate_workers=False,
                settings=FAST_RETRIES,
                databases=databases,
            ):
                yield KillStack(stack, Server(postgres))
        finally:
            asyncio.run(drop_postgres(postgres.admin_url(), databases))


@dataclass
class Filing:
    """One report as a phone sends it, until it has its answer."""

    key: str
    body: dict[str, Any]
    headers: dict[str, str]
    resident: int | None
    report_id: str | None = None


@dataclass
class Phones:
    """What the phones saw: every answer by status code (or transport error); how many
    reports they may send (`allowed`, released step by step) and how many were accepted."""

    answers: collections.Counter[int | str] = field(default_factory=collections.Counter)
    allowed: int = 0
    started: int = 0
    accepted: int = 0
    progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def until(self, condition: Callable[[], bool]) -> None:
        async with self.progress:
            await self.progress.wait_for(condition)

    async def release(self, count: int) -> None:
        """Let the phones send `count` more reports."""
        async with self.progress:
            self.allowed += count
            self.progress.notify_all()

    def all_accepted(self) -> bool:
        return self.accepted == self.allowed

    def saw_more(self, answer: int | str, than: int) -> Callable[[], bool]:
        return lambda: self.answers[answer] > than

    async def _start(self) -> None:
        async with self.progress:
            await self.progress.wait_for(lambda: self.started < self.allowed)
            self.started += 1

    async def _saw(self, answer: int | str, *, accepted: bool = False) -> None:
        async with self.progress:
            self.answers[answer] += 1
            self.accepted += accepted
            self.progress.notify_all()

    async def _send(
        self, intake: httpx.AsyncClient, filing: Filing
    ) -> httpx.Response | None:
        """One try; None when no answer came (refused, or cut off by a kill)."""
        headers = filing.headers | {"Idempotency-Key": filing.key}
        try:
            answer = await intake.post("/v1/reports", json=filing.body, headers=headers)
        except httpx.TransportError as exc:
            await self._saw(type(exc).__name__)
            return None
        await self._saw(answer.status_code)
        return answer

    async def file(self, intake: httpx.AsyncClient, filing: Filing) -> None:
        """Once released, send until a 201 comes: a phone retries the same key after a
        lost answer, a conflict (the first try still running) or a service that is
        unavailable."""
        await self._start()

        async def answered() -> httpx.Response | None:
            answer = await self._send(intake, filing)
            if answer is None or answer.status_code in (409, 503):
                return None  # the phone tries again
            return answer

        answer = await eventually(answered, within=RETRYING, what="the report accepted")
        assert answer.status_code == 201, answer.text
        filing.report_id = answer.json()["id"]
        await self._saw("accepted", accepted=True)

    async def send_again(self, intake: httpx.AsyncClient, filing: Filing) -> None:
        """The same report once more after its answer came (a double tap): the same
        report, replayed, nothing new."""

        async def answered() -> httpx.Response | None:
            again = await self._send(intake, filing)
            return None if again is None or again.status_code == 503 else again

        again = await eventually(answered, within=RETRYING, what="the repeat answered")
        assert again.status_code == 201, again.text
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json()["id"] == filing.report_id


async def in_thread(action: Callable[[], None]) -> None:
    await asyncio.to_thread(action)


Action = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Kill:
    what: str
    kill: Action
    restart: Action
    felt: int | str
    """What a phone gets while it is down: ConnectError (nothing listens), 503 (intake
    without its database), or 201 (the adapter is not on the phones' way)."""


async def kills(kill_stack: KillStack, phones: Phones, *, sqlite: bool) -> list[str]:
    """Each round: kill intake, the adapter, the database (or both services at once on
    SQLite), intake again. Before each kill the phones are let send a few reports, to be
    in flight as it lands, and a few more once it has: the process (or the database)
    comes back only after a phone has felt it gone. What was done."""
    local = kill_stack.stack.processes
    postgres = kill_stack.server.postgres

    def process(*names: str) -> tuple[Action, Action]:
        def kill() -> None:
            for name in names:
                local.kill(name)

        def restart() -> None:
            for name in names:
                local.restart(name)

        return (lambda: in_thread(kill)), (lambda: in_thread(restart))

    def database() -> tuple[Action, Action]:
        # As a killed server: no shutdown checkpoint, recovery from the write-ahead log.
        assert postgres is not None
        return (lambda: in_thread(postgres.crash)), (lambda: in_thread(postgres.start))

    series = [
        Kill("intake", *process("intake"), felt="ConnectError"),
        Kill("adapter", *process("adapter"), felt=201),
        (
            Kill("intake+adapter", *process("intake", "adapter"), felt="ConnectError")
            if sqlite
            else Kill("postgresql", *database(), felt=503)
        ),
        Kill("intake", *process("intake"), felt="ConnectError"),
    ]
    batch = REPORTS // (ROUNDS * len(series) * 2 + 1)
    done: list[str] = []
    for _ in range(ROUNDS):
        for step in series:
            await phones.until(phones.all_accepted)
            before = phones.answers[step.felt]
            await phones.release(batch)
            await step.kill()
            await phones.release(batch)
            await phones.until(phones.saw_more(step.felt, than=before))
            await step.restart()
            done.append(step.what)
    await phones.release(REPORTS - phones.allowed)
    return done


async def all_pages(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, str] = {"cursor": cursor} if cursor else {}
        page = (await client.get(path, params=params, headers=headers)).json()
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            return items


def final_crm_status(index: int) -> tuple[str, str]:
    """Every fifth report is refused by the unit, the others are fixed."""
    return ("CANNOT_FIX", "rejected") if index % 5 == 4 else ("DONE", "resolved")


async def superseded_changes(database_url: str) -> set[tuple[str, str]]:
    """(report id, status) of the changes that came after a newer one (history only)."""
    engine = make_engine(database_url, read_only=True)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT report_id, status FROM report_status_changes "
                    "WHERE superseded"
                )
            )
            return {(str(uuid.UUID(str(r[0]))), r[1]) for r in rows}
    finally:
        await engine.dispose()


async def test_nothing_is_lost_or_doubled_while_processes_are_killed(
    kill_stack: KillStack, backend: str
):
    stack = kill_stack.stack
    random.seed(f"kill-{backend}")
    timeout = httpx.Timeout(10.0)
    async with (
        httpx.AsyncClient(base_url=stack.intake, timeout=timeout) as intake,
        stack.crm_client() as crm,
    ):
        assert (await crm.put("/_sim/faults", json=FAULTS)).status_code == 200
        residents = [
            await register_and_sign_in(
                intake,
                f"kill-{n}-{uuid.uuid4().hex[:8]}@example.org",
                mailbox=folder_mailbox(stack.mail_dir),
            )
            for n in range(RESIDENTS)
        ]
        filings = [
            Filing(
                key=f"kill-{uuid.uuid4()}",
                body=POTHOLE
                | {
                    "location": {"lat": 51.09 + index * 0.0007, "lon": 17.0326},
                    "description": f"Dziura numer {index}",
                },
                headers=residents[index % RESIDENTS] if index % 2 == 0 else {},
                resident=index % RESIDENTS if index % 2 == 0 else None,
            )
            for index in range(REPORTS)
        ]

        # Filing, while the processes (and the database) are killed.
        phones = Phones()

        async def phone(mine: list[Filing]) -> None:
            for filing in mine:
                await phones.file(intake, filing)
                if random.random() < 0.2:
                    await phones.send_again(intake, filing)

        killed = asyncio.create_task(
            kills(kill_stack, phones, sqlite=backend == "sqlite")
        )
        await asyncio.gather(*(phone(filings[n::PHONES]) for n in range(PHONES)))
        done = await killed
        assert len(done) == 4 * ROUNDS
        report_ids = [str(f.report_id) for f in filings]
        assert len(set(report_ids)) == REPORTS

        async def every_report(
            done: Callable[[int, dict[str, Any]], bool], what: str
        ) -> list[dict[str, Any]]:
            """The reports once each is `done`; else the failure names those behind."""
            behind: list[str] = []

            async def probe() -> list[dict[str, Any]] | None:
                reports = [
                    (await intake.get(f"/v1/reports/{r}")).json() for r in report_ids
                ]
                behind[:] = [
                    f"{r['number']} {[h['status'] for h in r['status_history']]}"
                    for index, r in enumerate(reports)
                    if not done(index, r)
                ]
                return None if behind else reports

            try:
                return await eventually(probe, within=WITHIN, what=what)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; behind: {behind[:10]}") from None

        await every_report(
            lambda _, r: r["status"] == "submitted", "every report submitted"
        )

        # Exactly one case per accepted report, and nothing else at the CRM.
        cases = (await crm.get("/api/cases")).json()
        assert sorted(c["external_ref"] for c in cases) == sorted(report_ids)
        case_of = {c["external_ref"]: c["case_id"] for c in cases}

        # The unit works on every case; the adapter is killed half way through.
        async def change(index: int, status: str, note: str | None) -> None:
            changed = await crm.post(
                f"/api/cases/{case_of[report_ids[index]]}/status",
                json={"status": status, "note": note},
            )
            assert changed.status_code == 200, changed.text

        half = REPORTS // 2
        for index in range(half):
            await change(index, "IN_PROGRESS", f"Ekipa {index} w drodze")
        adapter_killed = asyncio.create_task(
            in_thread(lambda: stack.processes.kill("adapter"))
        )
        for index in range(half, REPORTS):
            await change(index, "IN_PROGRESS", f"Ekipa {index} w drodze")
        await adapter_killed
        for index in range(REPORTS):
            await change(index, final_crm_status(index)[0], None)
        await in_thread(lambda: stack.processes.restart("adapter"))

        def every_change_in(index: int, report: dict[str, Any]) -> bool:
            statuses = [h["status"] for h in report["status_history"]]
            final = final_crm_status(index)[1]
            return report["status"] == final and "in_progress" in statuses

        reports = await every_report(every_change_in, "every change in every history")
        for index, report in enumerate(reports):
            history = report["status_history"]
            assert [h["status"] for h in history] == [
                "received",
                "submitted",
                "in_progress",
                final_crm_status(index)[1],
            ], history
            assert history[2]["note"] == f"Ekipa {index} w drodze"
            times = [dt.datetime.fromisoformat(h["changed_at"]) for h in history]
            assert times == sorted(times)

        # No more than the CRM's cases, still; and the faults did happen.
        assert len((await crm.get("/api/cases")).json()) == REPORTS
        injected = (await crm.get("/_sim/faults")).json()["injected"]
        assert injected["error"] >= 2

        # Each named reporter is told once of each change current when it arrived.
        superseded = await superseded_changes(stack.databases.intake)
        for resident, headers in enumerate(residents):
            told = collections.Counter(
                (n["report_id"], n["kind"], n["status"])
                for n in await all_pages(intake, "/v1/me/notifications", headers)
            )
            expected: collections.Counter[tuple[str, str, str]] = collections.Counter()
            for index, filing in enumerate(filings):
                if filing.resident != resident:
                    continue
                report_id = str(filing.report_id)
                final = final_crm_status(index)[1]
                for status in ("in_progress", final):
                    if (report_id, status) not in superseded:
                        expected[(report_id, "status_changed", status)] += 1
                expected[(report_id, "feedback_requested", final)] += 1
            assert told == expected

    # Nobody saw a server error; the kills were felt, and told as such.
    assert 500 not in phones.answers, phones.answers
    assert phones.answers["ConnectError"] > 0, phones.answers
    if backend == "postgresql":
        assert phones.answers[503] > 0, phones.answers
