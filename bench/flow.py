"""B4 and B5: a steady load through the whole path, and the adapter killed under it.

Both start the three processes (`bench.harness.stack`) and file named reports from one
verified resident (so that status changes make notifications) at a steady rate with wrk
(`lua/paced_reports.lua`, paced by `lua/pace.lua`): 50 reports/s for 60 s, or 10/s for
10 s with `--quick`.

B4 measures two trips, each from times the processes record themselves on the machine's
one clock, read over the HTTP APIs after the load:

- to the CRM: a report's `created_at` at intake (`GET /v1/me/reports`) to its case's
  `created_at` at the CRM simulator (`GET /api/cases`; the first case of that
  `external_ref`);
- to the resident: once every case exists, each case's status is changed to IN_PROGRESS at
  the same steady rate (`lua/paced_status.lua`, the case ids in a file); from the change's
  `changed_at` at the simulator (`GET /api/updates`) to the notification's `created_at` at
  intake (`GET /v1/me/notifications`). A notification's `created_at` is taken in the
  transaction that writes it, a few milliseconds before it commits and can be read.

A short round at the same rate warms the stack up first; its reports are left out.

B5 runs the same load on PostgreSQL, SIGKILLs the adapter after 10 s (4 s with `--quick`)
and starts it again 5 s later with the same command and environment. The moment the
adapter is back is when it first answers `GET /healthz`, which is polled every 20 ms (the
only time here not recorded by a process; it can be late by up to 20 ms plus one answer
time, which makes the recovery times look shorter by as much). For the reports accepted
before the adapter was back whose case was not at the CRM when it was killed (accepted
during the outage, or in flight at the kill) it gives the time from then until their case
was created (0 for any created before). Lost: reports with no case once every report has
had 60 s. Doubled: reports with more than one case at the simulator (which, like many
CRMs, does not deduplicate by `external_ref`), counted once the adapter's case lease has
run out since the kill, when an attempt the killed adapter left unfinished is made again
(not waited for with `--quick`).

wrk's own answer times (of `POST /v1/reports` and of the status changes) are in the
details as `filing` and `changing`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import email
import email.policy
import math
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from bench.harness import BENCH_DIR, Figure, Load, Options, databases, stack, wrk
from crm_adapter.config import Settings as AdapterSettings
from devtools.stack import LocalStack
from shared.settings import DEV_SECRETS

CONNECTIONS = 32
"""wrk's connections at most: at 50/s the rate holds while answers take up to 0.6 s."""
SETTLE_SECONDS = 60.0
"""How long each report (or status change) has to arrive after the load."""
LOAD_BAR_SECONDS = 1.0
KILL_AFTER_SECONDS = 10.0
OUTAGE_SECONDS = 5.0
RECOVERY_BAR_SECONDS = 10.0
HEALTH_POLL_SECONDS = 0.02
ANSWER_GRACE_SECONDS = 3.0
"""How long wrk runs on after the last request is due, for the last answers.

The servers close a connection idle for 5 s (uvicorn's keep-alive), which wrk counts as an
error: a connection's time between slots (at most 1.5 s) and this stay under it.
"""
CASE_LEASE_SECONDS: float = AdapterSettings.model_fields["case_lease_seconds"].default
"""How long the adapter's claim on a case lasts unless renewed (its default): a claim the
killed adapter held is taken up again after it."""
CRM_HEADERS = {"Authorization": f"Bearer {DEV_SECRETS['crm_api_key']}"}
CRM_STATUS = "IN_PROGRESS"
REPORT_STATUS = "in_progress"  # what CRM_STATUS means at intake


@dataclass(frozen=True)
class Pace:
    rate: float  # requests per second
    seconds: float

    @property
    def count(self) -> int:
        return round(self.rate * self.seconds)


def _pace(options: Options) -> Pace:
    return Pace(10.0, 10.0) if options.quick else Pace(50.0, 60.0)


def _summary(seconds: Iterable[float]) -> dict[str, Any]:
    """p50, p99 and max in ms (nearest rank), and the count."""
    ordered = sorted(seconds)
    if not ordered:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}

    def rank(p: float) -> float:
        return round(ordered[max(math.ceil(p * len(ordered)) - 1, 0)] * 1000, 1)

    return {
        "count": len(ordered),
        "p50_ms": rank(0.50),
        "p99_ms": rank(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _load(load: Load) -> dict[str, Any]:
    return {
        "answered": load.requests,
        "answer_p50_ms": round(load.p50_ms, 1),
        "answer_p99_ms": round(load.p99_ms, 1),
        "answer_max_ms": round(load.max_ms, 1),
        "errors": load.errors,
    }


def _instant(text: str) -> dt.datetime:
    """An API's date-time; one without a zone is UTC."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Load -----------------------------------------------------------------------------------


def _connections(pace: Pace) -> int:
    """How many connections share the slots: a connection waits its turn for no more than
    1.5 s (see ANSWER_GRACE_SECONDS), which also gives each its first slot before wrk's
    first check for timeouts (at 2 s; one that has sent nothing yet counts as timed out).
    """
    return max(min(CONNECTIONS, int(pace.rate * 1.5), pace.count), 1)


def _paced(url: str, script: str, pace: Pace, env: dict[str, str]) -> Load:
    """`pace.count` requests at `pace.rate` per second with a script from `bench/lua`."""
    seconds = pace.seconds + ANSWER_GRACE_SECONDS
    return wrk(
        url,
        script,
        seconds=seconds,
        connections=_connections(pace),
        # wrk counts a connection waiting for its next slot as timed out once its last
        # request is older than this: no answer at all shows as a request not answered.
        timeout=seconds,
        env={
            "BENCH_RATE": str(pace.rate),
            "BENCH_COUNT": str(pace.count),
            "BENCH_LUA_DIR": str(BENCH_DIR / "lua"),
            **env,
        },
    )


# The resident and what the APIs say --------------------------------------------------------


def _code_mailed_to(mail_dir: Path, address: str) -> str | None:
    """The code in the newest mail to `address` that the folder mailer wrote."""
    for path in sorted(mail_dir.glob("*.eml"), reverse=True):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if mail["To"] == address and isinstance(mail, EmailMessage):
            found = re.search(r"^\s*(\d{6})\s*$", mail.get_content(), re.MULTILINE)
            if found:
                return found.group(1)
    return None


async def _resident(intake: httpx.AsyncClient, mail_dir: Path) -> str:
    """A new resident with a verified address, signed in: their bearer token."""
    address = f"bench-{uuid.uuid4().hex[:12]}@example.org"
    password = "benchmark-password-1"
    created = await intake.post(
        "/v1/accounts",
        json={
            "email": address,
            "password": password,
            "display_name": "Bench",
            "lang": "en",
        },
    )
    created.raise_for_status()
    # Only a verified address hears about its reports: read the code from the mail.
    deadline = time.monotonic() + 30
    while (code := _code_mailed_to(mail_dir, address)) is None:
        if time.monotonic() > deadline:
            raise LookupError(f"no code mailed to {address} in {mail_dir}")
        await asyncio.sleep(0.1)
    verified = await intake.post(
        "/v1/accounts/verification", json={"email": address, "code": code}
    )
    verified.raise_for_status()
    token = await intake.post(
        "/v1/auth/token", json={"email": address, "password": password}
    )
    token.raise_for_status()
    return str(token.json()["access_token"])


async def _pages(
    client: httpx.AsyncClient, path: str, token: str
) -> AsyncIterator[dict[str, Any]]:
    """Every item of one of intake's keyset-paged lists."""
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(
            path, params=params, headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        page = response.json()
        for item in page["items"]:
            yield item
        cursor = page["next_cursor"]
        if not cursor:
            return


async def _reports(intake: httpx.AsyncClient, token: str) -> dict[str, dt.datetime]:
    """The resident's reports: id → `created_at` at intake."""
    return {
        item["id"]: _instant(item["created_at"])
        async for item in _pages(intake, "/v1/me/reports", token)
    }


async def _notifications(
    intake: httpx.AsyncClient, token: str
) -> dict[str, dt.datetime]:
    """Report id → `created_at` of the resident's first notification of REPORT_STATUS."""
    found: dict[str, dt.datetime] = {}
    async for item in _pages(intake, "/v1/me/notifications", token):
        if item["kind"] == "status_changed" and item["status"] == REPORT_STATUS:
            at = _instant(item["created_at"])
            found[item["report_id"]] = min(at, found.get(item["report_id"], at))
    return found


async def _unread(intake: httpx.AsyncClient, token: str) -> int:
    response = await intake.get(
        "/v1/me/notifications",
        params={"limit": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return int(response.json()["unread_count"])


async def _cases(crm: httpx.AsyncClient) -> dict[str, list[tuple[str, dt.datetime]]]:
    """The simulator's cases: external ref → (case id, `created_at`), oldest first.

    The simulator lists all its cases in one answer (it has no pages for them).
    """
    response = await crm.get("/api/cases")
    response.raise_for_status()
    found: dict[str, list[tuple[str, dt.datetime]]] = {}
    for case in response.json():
        found.setdefault(case["external_ref"], []).append(
            (case["case_id"], _instant(case["created_at"]))
        )
    for cases in found.values():
        cases.sort(key=lambda case: case[1])
    return found


async def _changes(crm: httpx.AsyncClient) -> dict[str, dt.datetime]:
    """External ref → `changed_at` of its case's first change to CRM_STATUS (paged)."""
    found: dict[str, dt.datetime] = {}
    after = 0
    while True:
        response = await crm.get("/api/updates", params={"after": after, "limit": 1000})
        response.raise_for_status()
        updates = response.json()
        for update in updates:
            if update["status"] == CRM_STATUS:
                found.setdefault(update["external_ref"], _instant(update["changed_at"]))
        if not updates:
            return found
        after = updates[-1]["seq"]


async def _await_cases(
    crm: httpx.AsyncClient, report_ids: Iterable[str], seconds: float
) -> dict[str, list[tuple[str, dt.datetime]]]:
    """The cases once every report has one, or after `seconds` (checked every second)."""
    wanted = set(report_ids)
    deadline = time.monotonic() + seconds
    while True:
        cases = await _cases(crm)
        if wanted <= cases.keys() or time.monotonic() > deadline:
            return cases
        await asyncio.sleep(1.0)


async def _await_unread(
    intake: httpx.AsyncClient, token: str, count: int, seconds: float
) -> None:
    """Until the resident has `count` unread notifications, or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        if await _unread(intake, token) >= count or time.monotonic() > deadline:
            return
        await asyncio.sleep(1.0)


@contextlib.asynccontextmanager
async def _clients(
    local: LocalStack,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    timeout = httpx.Timeout(30.0)
    async with (
        httpx.AsyncClient(base_url=local.url("intake"), timeout=timeout) as intake,
        httpx.AsyncClient(
            base_url=local.url("crm-simulator"), headers=CRM_HEADERS, timeout=timeout
        ) as crm,
    ):
        yield intake, crm


# B4 -------------------------------------------------------------------------------------


@dataclass
class Round:
    reports: dict[str, dt.datetime]  # id → accepted at intake
    to_crm: list[float]
    changed: dict[str, dt.datetime]  # report id → its case's status change at the CRM
    to_resident: list[float]
    filing: Load
    changing: Load | None  # None: no case to change


def _per_second(instants: Iterable[dt.datetime]) -> float | None:
    """The rate at which the instants came, first to last."""
    ordered = sorted(instants)
    if len(ordered) < 2 or ordered[-1] == ordered[0]:
        return None
    return round((len(ordered) - 1) / (ordered[-1] - ordered[0]).total_seconds(), 1)


async def _round(
    local: LocalStack,
    intake: httpx.AsyncClient,
    crm: httpx.AsyncClient,
    token: str,
    pace: Pace,
    folder: Path,
) -> Round:
    """File reports at `pace`, then change their cases' status at `pace`: the latencies.

    Only the reports filed in this round count (the resident may have older ones).
    """
    before = set(await _reports(intake, token))
    filing = await asyncio.to_thread(
        _paced,
        local.url("intake"),
        "paced_reports.lua",
        pace,
        {"BENCH_TOKEN": token},
    )
    reports = {
        id_: at
        for id_, at in (await _reports(intake, token)).items()
        if id_ not in before
    }
    cases = await _await_cases(crm, reports, SETTLE_SECONDS)
    to_crm = [
        (cases[id_][0][1] - at).total_seconds()
        for id_, at in reports.items()
        if id_ in cases
    ]
    # Each case once, in the order the reports were filed.
    case_ids = [
        cases[id_][0][0]
        for id_ in sorted(reports, key=reports.__getitem__)
        if id_ in cases
    ]
    if not case_ids:
        return Round(reports, to_crm, {}, [], filing, None)
    cases_file = folder / f"cases-{uuid.uuid4().hex[:6]}.txt"
    cases_file.write_text("".join(f"{case_id}\n" for case_id in case_ids))
    unread = await _unread(intake, token)
    changing = await asyncio.to_thread(
        _paced,
        local.url("crm-simulator"),
        "paced_status.lua",
        Pace(pace.rate, len(case_ids) / pace.rate),
        {
            "BENCH_CASES": str(cases_file),
            "BENCH_CRM_KEY": DEV_SECRETS["crm_api_key"],
            "BENCH_STATUS": CRM_STATUS,
        },
    )
    await _await_unread(intake, token, unread + len(case_ids), SETTLE_SECONDS)
    changed = {ref: at for ref, at in (await _changes(crm)).items() if ref in reports}
    told = await _notifications(intake, token)
    to_resident = [
        (told[ref] - at).total_seconds() for ref, at in changed.items() if ref in told
    ]
    return Round(reports, to_crm, changed, to_resident, filing, changing)


async def b4(options: Options) -> list[Figure]:
    pace = _pace(options)
    async with databases(options, "b4") as dbs:
        with stack(dbs, options.work_dir) as local:
            async with _clients(local) as (intake, crm):
                token = await _resident(
                    intake, Path(local.env["MAM_DATA_DIR"]) / "mail"
                )
                warm = Pace(pace.rate, 1.0 if options.quick else 3.0)
                await _round(local, intake, crm, token, warm, options.work_dir)
                measured = await _round(
                    local, intake, crm, token, pace, options.work_dir
                )
    to_crm = _summary(measured.to_crm) | {
        "reports": len(measured.reports),
        "filed_per_second": _per_second(measured.reports.values()),
        "missing": len(measured.reports) - len(measured.to_crm),
        "filing": _load(measured.filing),
    }
    to_resident = _summary(measured.to_resident) | {
        "changes": len(measured.changed),
        "changed_per_second": _per_second(measured.changed.values()),
        "missing": len(measured.changed) - len(measured.to_resident),
        "changing": None if measured.changing is None else _load(measured.changing),
    }
    bars = not options.quick
    load = f"{pace.rate:g} named reports/s for {pace.seconds:g} s, {options.database}"

    def passed(summary: dict[str, Any], made: int, load: Load | None) -> bool | None:
        if not bars:
            return None
        return (
            made == pace.count
            and load is not None
            and load.errors == 0
            and summary["missing"] == 0
            and summary["p99_ms"] is not None
            and summary["p99_ms"] < LOAD_BAR_SECONDS * 1000
        )

    return [
        Figure(
            "B4 to CRM",
            f"report accepted → case at the CRM, p99; {load}",
            to_crm["p99_ms"],
            "ms",
            "p99 < 1 s, none missing",
            passed=passed(to_crm, len(measured.reports), measured.filing),
            details=to_crm,
        ),
        Figure(
            "B4 to resident",
            "CRM status change → notification readable, p99; "
            f"{pace.rate:g} changes/s, {options.database}",
            to_resident["p99_ms"],
            "ms",
            "p99 < 1 s, none missing",
            passed=passed(to_resident, len(measured.changed), measured.changing),
            details=to_resident,
        ),
    ]


# B5 -------------------------------------------------------------------------------------


def _respawn(local: LocalStack, name: str) -> None:
    """Start process `name` of `local` again, with the command and environment it had.

    The log of the one before is kept as `<name>-before.log`.
    """
    if local.log_dir is not None:
        log = local.log_dir / f"{name}.log"
        if log.exists():
            log.rename(local.log_dir / f"{name}-before.log")
    local._spawn(name, local.commands[name])


async def _healthy_at(url: str, seconds: float = 60.0) -> dt.datetime:
    """When `url` first answers 200 (polled every HEALTH_POLL_SECONDS)."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return _now()
            await asyncio.sleep(HEALTH_POLL_SECONDS)
    raise RuntimeError(f"{url} not healthy in {seconds} s")


async def b5(options: Options) -> list[Figure]:
    pace = _pace(options)
    kill_after = 4.0 if options.quick else KILL_AFTER_SECONDS
    on_postgres = dataclasses.replace(options, database="postgresql")
    async with databases(on_postgres, "b5") as dbs:
        with stack(dbs, options.work_dir) as local:
            async with _clients(local) as (intake, crm):
                token = await _resident(
                    intake, Path(local.env["MAM_DATA_DIR"]) / "mail"
                )
                filing = asyncio.create_task(
                    asyncio.to_thread(
                        _paced,
                        local.url("intake"),
                        "paced_reports.lua",
                        pace,
                        {"BENCH_TOKEN": token},
                    )
                )
                await asyncio.sleep(kill_after)
                adapter = local.processes["adapter"]
                killed_at = _now()
                adapter.send_signal(signal.SIGKILL)
                await asyncio.to_thread(adapter.wait)
                await asyncio.sleep(OUTAGE_SECONDS)
                restarted_at = _now()
                _respawn(local, "adapter")
                back_at = await _healthy_at(local.url("adapter") + "/healthz")
                load = await filing
                reports = await _reports(intake, token)
                cases = await _await_cases(crm, reports, SETTLE_SECONDS)
                lost = [id_ for id_ in reports if id_ not in cases]
                # A case the killed adapter created but did not record is created again
                # once its lease has run out: look for doubles only after that.
                watch = 0.0 if options.quick else CASE_LEASE_SECONDS + 10
                wait = watch - (_now() - killed_at).total_seconds()
                if wait > 0:
                    await asyncio.sleep(wait)
                    cases = await _cases(crm)
                checked_at = _now()
    # Accepted before the adapter was back, and not at the CRM when it was killed.
    caught = {
        id_
        for id_, at in reports.items()
        if at <= back_at and (id_ not in cases or cases[id_][0][1] > killed_at)
    }
    recovery = _summary(
        max((cases[id_][0][1] - back_at).total_seconds(), 0.0)
        for id_ in caught
        if id_ in cases
    )
    recovery |= {
        "caught": len(caught),
        "missing": len(caught - cases.keys()),
        "killed_after_s": kill_after,
        "down_s": round((restarted_at - killed_at).total_seconds(), 2),
        "restart_to_healthy_s": round((back_at - restarted_at).total_seconds(), 2),
    }
    doubled = {id_: len(cases[id_]) for id_ in reports if len(cases.get(id_, ())) > 1}
    bars = not options.quick
    worst = recovery["max_ms"]
    load_text = f"{pace.rate:g} reports/s for {pace.seconds:g} s, postgresql"
    return [
        Figure(
            "B5 recovery",
            f"adapter killed {kill_after:g} s in, restarted {OUTAGE_SECONDS:g} s later: "
            f"healthy again → each report it missed at the CRM, max; {load_text}",
            None if worst is None else worst / 1000,
            "s",
            "every one ≤ 10 s",
            passed=(
                worst is not None
                and recovery["missing"] == 0
                and worst <= RECOVERY_BAR_SECONDS * 1000
            )
            if bars
            else None,
            details=recovery,
        ),
        Figure(
            "B5 lost",
            "reports accepted but not at the CRM 60 s after the load; postgresql",
            len(lost),
            "reports",
            "0",
            passed=not lost if bars else None,
            details={
                "reports": len(reports),
                "filed_per_second": _per_second(reports.values()),
                "lost": lost[:20],
                "filing": _load(load),
            },
        ),
        Figure(
            "B5 doubled",
            "reports with more than one case at the CRM; postgresql",
            len(doubled),
            "reports",
            "0",
            passed=not doubled if bars else None,
            details={
                "reports": len(reports),
                "extra_cases": sum(doubled.values()) - len(doubled),
                "checked_after_kill_s": round((checked_at - killed_at).total_seconds()),
                "case_lease_s": CASE_LEASE_SECONDS,
                "doubled": dict(list(doubled.items())[:20]),
            },
        ),
    ]
