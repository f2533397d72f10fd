"""Cron slots in a time zone, across DST changes, and the scheduler loop with injected time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from totalrecall.daemon import CronSchedule, Scheduler
from totalrecall.errors import ConfigError


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def slots(expression: str, zone: str, after: str, count: int) -> list[str]:
    moments = CronSchedule(expression, zone).upcoming(utc(after), count)
    return [moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for moment in moments]


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        # Every six hours in UTC: no zone games.
        ("0 */6 * * *", "UTC", "2026-11-25 13:00", ["2026-11-25 18:00", "2026-11-26 00:00", "2026-11-26 06:00"]),
        # Berlin springs forward 02:00 -> 03:00 on 2026-03-29: the skipped 02:30 runs once, at 03:30 CEST.
        ("30 2 * * *", "Europe/Berlin", "2026-03-28 00:00",
         ["2026-03-28 01:30", "2026-03-29 01:30", "2026-03-30 00:30"]),
        # Berlin falls back 03:00 -> 02:00 on 2026-10-25: 02:30 happens twice; a daily job runs once.
        ("30 2 * * *", "Europe/Berlin", "2026-10-24 00:00",
         ["2026-10-24 00:30", "2026-10-25 00:30", "2026-10-26 01:30"]),
        # An every-30-minutes job stays every 30 real minutes through the repeated hour ...
        ("*/30 * * * *", "Europe/Berlin", "2026-10-24 23:15",
         ["2026-10-24 23:30", "2026-10-25 00:00", "2026-10-25 00:30", "2026-10-25 01:00", "2026-10-25 01:30",
          "2026-10-25 02:00"]),
        # ... and through the spring gap, without running anything twice.
        ("*/30 * * * *", "Europe/Berlin", "2026-03-29 00:15",
         ["2026-03-29 00:30", "2026-03-29 01:00", "2026-03-29 01:30", "2026-03-29 02:00"]),
        # Monday 09:00 in New York stays 09:00 local across its DST start (2026-03-08): 14:00Z, then 13:00Z.
        ("0 9 * * 1", "America/New_York", "2026-03-01 00:00", ["2026-03-02 14:00", "2026-03-09 13:00"]),
        # Southern hemisphere: Sydney leaves DST on 2026-04-05 (UTC+11 -> UTC+10).
        ("0 3 * * *", "Australia/Sydney", "2026-04-03 12:00", ["2026-04-03 16:00", "2026-04-04 17:00", "2026-04-05 17:00"]),
        # A half-hour offset zone.
        ("0 0 * * *", "Asia/Kolkata", "2026-06-01 00:00", ["2026-06-01 18:30", "2026-06-02 18:30"]),
        # Yearly.
        ("0 0 1 1 *", "UTC", "2026-11-25 00:00", ["2027-01-01 00:00", "2028-01-01 00:00"]),
    ],
)
def test_next_runs_across_dst(expression: str, zone: str, after: str, expected: list[str]) -> None:
    assert slots(expression, zone, after, len(expected)) == expected


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"])
@pytest.mark.parametrize("expression", ["*/7 * * * *", "15 1-3 * * *", "0 */6 * * *", "45 2 * * 0"])
def test_slots_strictly_increase_through_a_year(expression: str, zone: str) -> None:
    schedule = CronSchedule(expression, zone)
    moment = utc("2026-01-01 00:00")
    end = moment + timedelta(days=400 if not expression.startswith("*/7") else 7)
    seen = 0
    while moment < end:
        following = schedule.next_after(moment)
        assert following > moment
        assert following - moment <= timedelta(days=8)
        moment = following
        seen += 1
    assert seen > 4


def test_slot_is_in_the_schedule_zone() -> None:
    slot = CronSchedule("0 9 * * *", "Europe/Berlin").next_after(utc("2026-07-01 00:00"))
    assert (slot.hour, slot.utcoffset()) == (9, timedelta(hours=2))


@pytest.mark.parametrize(("expression", "zone", "message"), [
    ("every day", "UTC", "not a valid cron expression"),
    ("0 */6 * * *", "Mars/Olympus", "not a known time zone"),
])
def test_bad_schedule_is_a_config_error(expression: str, zone: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CronSchedule(expression, zone)


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment


def test_one_minute_schedule_runs_each_minute_and_logs_next_run(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock(utc("2026-11-25 10:00:30"))
    ran: list[datetime] = []
    scheduler = Scheduler(CronSchedule("* * * * *", "UTC"), lambda: ran.append(clock()) or 0, clock=clock,
                          threaded=False)
    with caplog.at_level("INFO", logger="totalrecall.daemon"):
        for _ in range(8):
            delay = scheduler.tick()  # the sync runs inline; the clock moves only between ticks
            clock.moment += timedelta(seconds=delay)
    assert [moment.strftime("%H:%M:%S") for moment in ran] == ["10:00:30", "10:01:00", "10:02:00", "10:03:00",
                                                              "10:04:00", "10:05:00", "10:06:00", "10:07:00"]
    assert "sync finished; next run at 2026-11-25 10:01:00 UTC" in caplog.text
    assert "next run at 2026-11-25 10:08:00 UTC" in caplog.text


def test_without_startup_run_the_first_sync_waits_for_the_slot(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock(utc("2026-11-25 10:00:30"))
    ran: list[datetime] = []
    scheduler = Scheduler(CronSchedule("*/5 * * * *", "UTC"), lambda: ran.append(clock()) or 0, clock=clock,
                          run_on_startup=False, threaded=False)
    with caplog.at_level("INFO", logger="totalrecall.daemon"):
        assert scheduler.tick() == 60.0  # wakes at least each minute
    assert ran == []
    assert "next run at 2026-11-25 10:05:00 UTC" in caplog.text


def test_a_failed_sync_is_logged_and_the_schedule_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock(utc("2026-11-25 10:00:00"))
    calls: list[datetime] = []

    def job() -> int:
        calls.append(clock())
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return 1 if len(calls) == 2 else 0

    scheduler = Scheduler(CronSchedule("* * * * *", "UTC"), job, clock=clock, threaded=False)
    with caplog.at_level("INFO", logger="totalrecall.daemon"):
        for _ in range(3):
            delay = scheduler.tick()
            clock.moment += timedelta(seconds=delay)
    assert len(calls) == 3
    assert "sync failed unexpectedly" in caplog.text and "disk on fire" in caplog.text
    assert "sync finished with exit code 1" in caplog.text


def test_slots_that_pass_while_a_sync_runs_are_skipped_not_queued(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock(utc("2026-11-25 10:00:00"))
    ran: list[datetime] = []

    def slow_job() -> int:
        ran.append(clock())
        clock.moment += timedelta(seconds=150)  # runs through the 10:01 and 10:02 slots
        return 0

    scheduler = Scheduler(CronSchedule("* * * * *", "UTC"), slow_job, clock=clock, threaded=False)
    delay = scheduler.tick()
    clock.moment += timedelta(seconds=delay)
    assert clock.moment == utc("2026-11-25 10:03:00")
    scheduler.tick()
    assert [moment.strftime("%H:%M") for moment in ran] == ["10:00", "10:03"]
    assert [slot.strftime("%H:%M") for slot in scheduler.skipped] == ["10:01", "10:02", "10:04", "10:05"]
    assert "skipped 2 run(s) due while the sync ran" in caplog.text


def test_threaded_sync_still_running_at_the_next_slot_is_not_started_twice(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock(utc("2026-11-25 10:00:00"))
    release = threading.Event()
    started: list[datetime] = []

    def blocking_job() -> int:
        started.append(clock())
        release.wait(10)
        return 0

    scheduler = Scheduler(CronSchedule("* * * * *", "UTC"), blocking_job, clock=clock, threaded=True)
    scheduler.tick()  # startup run begins and blocks
    clock.moment = utc("2026-11-25 10:01:00")
    scheduler.tick()  # its slot comes while it still runs
    assert len(started) == 1
    assert "skipping the run due at 2026-11-25 10:01:00 UTC" in caplog.text
    release.set()
    assert scheduler.finish(5)
    clock.moment = utc("2026-11-25 10:02:00")
    scheduler.tick()
    assert scheduler.finish(5)
    assert len(started) == 2


def test_finish_abandons_a_sync_that_outlives_the_grace(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock(utc("2026-11-25 10:00:00"))
    release = threading.Event()
    scheduler = Scheduler(CronSchedule("* * * * *", "UTC"), lambda: release.wait(10) and 0, clock=clock)
    scheduler.tick()
    assert scheduler.finish(0.2) is False
    assert "abandoning the running sync" in caplog.text
    release.set()
