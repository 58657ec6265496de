"""Wake-ups reach loops in the same process at commit, and on PostgreSQL in other processes."""

import asyncio

import pytest

from shared.db import make_engine, make_sessionmaker
from shared.wakeup import INFO_KEY, Wakeups, listen, wake_after_commit


async def test_same_process_wakes_on_commit_only(intake_settings):
    wakeups = Wakeups()
    engine = make_engine(intake_settings.database_url)
    sessionmaker = make_sessionmaker(engine, info={INFO_KEY: wakeups})
    try:
        async with sessionmaker() as session:
            wake_after_commit(session, "outbox")
            await session.rollback()
        assert not wakeups.event("outbox").is_set()
        async with sessionmaker() as session:
            wake_after_commit(session, "outbox")
            await session.commit()
        assert wakeups.event("outbox").is_set()
    finally:
        await engine.dispose()


async def test_another_process_is_woken_through_postgresql(backend, intake_settings):
    listener_engine = make_engine(intake_settings.database_url)
    writer_engine = make_engine(intake_settings.database_url)
    # The writer stands for another process: its sessions carry no Wakeups of ours.
    writer = make_sessionmaker(writer_engine)
    wakeups = Wakeups()
    started = wakeups.event("started")
    task = asyncio.create_task(listen(listener_engine, wakeups))
    try:
        if backend == "sqlite":
            await asyncio.wait_for(
                task, 5
            )  # nothing to listen to: other processes poll
            assert not started.is_set()
            return
        await asyncio.wait_for(started.wait(), 10)  # listening: it wakes everyone once
        async with writer() as session:
            wake_after_commit(session, "outbox")
            await session.rollback()
        async with writer() as session:
            wake_after_commit(session, "cases")
            await session.commit()
        await asyncio.wait_for(wakeups.event("cases").wait(), 10)
        # Notifications arrive in commit order: the rolled-back one would have come first.
        assert not wakeups.event("outbox").is_set()
    finally:
        if not task.done():
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        await listener_engine.dispose()
        await writer_engine.dispose()


async def test_every_subscriber_hears_each_wakeup_and_leaves_cleanly():
    wakeups = Wakeups()
    with wakeups.subscription("notifications") as first:
        with wakeups.subscription("notifications") as second:
            wakeups.notify("notifications")
            assert first.is_set()
            assert second.is_set()
            # A loop's own event is set too, and clearing one listener leaves the rest.
            assert wakeups.event("notifications").is_set()
            first.clear()
            assert second.is_set()
        wakeups.notify("notifications")
        assert first.is_set()
    first.clear()
    wakeups.notify("notifications")
    assert not first.is_set()
