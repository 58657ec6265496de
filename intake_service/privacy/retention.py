"""Retention: personal data is not kept longer than it serves the resident.

`python -m intake_service retention`, run daily by a scheduler (cron, a Kubernetes CronJob):
- accounts with no sign-in (nor token refresh) and no report for `retention_inactive_account_days` are erased
  exactly as if the resident had asked (`DELETE /v1/me`);
- reports closed more than `retention_closed_report_days` ago lose every link to a person (the
  reporter, the supporters' accounts, a shown name, contact data shared with the CRM), and
  keep what the city needs (category, place, description, photos, history);
- idempotency records past their expiry are deleted;
- photo files older than a day that no report refers to (left by a crash between storing
  a photo and committing its report, or by a store that failed while a request cleaned up
  after itself) are deleted, from the local folder or the S3 bucket.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import sys
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.config import Settings
from intake_service.photos.service import sweep_orphans
from intake_service.photos.storage import PhotoStorage, photo_storage
from intake_service.privacy import repository
from intake_service.privacy.service import detach_reporter, erase
from shared.cli import Command
from shared.contracts import ReportStatus
from shared.db import make_engine, make_sessionmaker, utcnow

logger = logging.getLogger(__name__)

CLOSED = [status.value for status in ReportStatus if status.is_closed]
BATCH = 200


@dataclass(frozen=True)
class RetentionResult:
    accounts_erased: int
    reports_anonymized: int
    idempotency_records_deleted: int
    orphan_photos_deleted: int = 0


async def run_retention(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    inactive_account_days: int,
    closed_report_days: int,
    photos: PhotoStorage | None = None,
    now: dt.datetime | None = None,
) -> RetentionResult:
    """One pass, in short transactions (a batch at a time), safe to run again."""
    now = now or utcnow()
    accounts = await _erase_inactive_accounts(
        sessionmaker, now - dt.timedelta(days=inactive_account_days)
    )
    reports = await _anonymize_closed_reports(
        sessionmaker, now - dt.timedelta(days=closed_report_days), now
    )
    async with sessionmaker() as session:
        purged = await repository.delete_expired_idempotency_records(session, now)
        await session.commit()
    orphans = 0
    if photos is not None:
        async with sessionmaker() as session:
            # A day's grace: a report may be committing with its photos right now.
            orphans = await sweep_orphans(
                session, photos, before=now - dt.timedelta(days=1)
            )
    result = RetentionResult(
        accounts,
        reports,
        purged,
        orphans,
    )
    logger.info("retention.done", extra=result.__dict__)
    return result


async def _erase_inactive_accounts(
    sessionmaker: async_sessionmaker[AsyncSession], cutoff: dt.datetime
) -> int:
    erased = 0
    while True:
        async with sessionmaker() as session:
            accounts = await repository.inactive_accounts(session, cutoff, BATCH)
            for account in accounts:
                await erase(session, account)
            await session.commit()
        erased += len(accounts)
        if len(accounts) < BATCH:
            return erased


async def _anonymize_closed_reports(
    sessionmaker: async_sessionmaker[AsyncSession],
    cutoff: dt.datetime,
    now: dt.datetime,
) -> int:
    anonymized = 0
    while True:
        async with sessionmaker() as session:
            reports = await repository.reports_tied_to_people(
                session, statuses=CLOSED, updated_before=cutoff, limit=BATCH
            )
            for report in reports:
                await detach_reporter(session, report, now)
                await repository.untie_people(session, report.id)
            await session.commit()
        anonymized += len(reports)
        if len(reports) < BATCH:
            return anonymized


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        result = await run_retention(
            make_sessionmaker(engine),
            inactive_account_days=settings.retention_inactive_account_days,
            closed_report_days=settings.retention_closed_report_days,
            # The store the API writes to (an S3 client is closed with the event loop).
            photos=photo_storage(settings),
        )
    finally:
        await engine.dispose()
    sys.stdout.write(json.dumps(dataclasses.asdict(result)) + "\n")
    return 0


COMMAND = Command(
    name="retention",
    help="erase inactive accounts and detach old closed reports from people "
    "(run daily by a scheduler)",
    configure=lambda parser: None,
    run=_run,
)
