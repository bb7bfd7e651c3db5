"""Queue figures on a small scripted day, checked against values worked out by hand.

The day (Europe/Madrid, 10 March 2026, UTC+1; "now" is 12:00 local; T = 20 s; short
abandons under 5 s):

    Y  queued 9 Mar 23:59:50, answered 00:00:15, ended 00:05:15, done 00:06:15  (the 9th's)
    0  queued 00:30:00, abandoned 00:31:00                (60 s: counts; 23:30 UTC the day before)
    1  queued 09:00:00, answered 09:00:10 (10 s), ended 09:05:10, done 09:06:10  (handle 360 s)
    2  queued 09:10:00, answered 09:10:30 (30 s), ended 09:14:30, done 09:15:30  (handle 300 s)
    3  queued 09:20:00, abandoned 09:20:03                (short abandon)
    4  queued 09:30:00, abandoned 09:30:45                (counts)
    5  queued 10:00:00, answered 10:00:20 (20 s: within), ended 10:03:20, still in wrap-up
    6  queued 11:59:00, waiting                           (60 s: past T)
    7  queued 11:59:50, waiting                           (10 s)
    8  queued 11:58:00, ringing at ben since 11:59:55     (120 s: past T)

By hand: offered 9 (0-8); answered 3 (1, 2, 5), 2 of them within 20 s (1, 5); abandoned 3
(0, 3, 4), 1 short (3); waiting now 3 (6, 7, 8), 2 of them past 20 s (6, 8).
Service level = 2 / (3 answered + 2 counted abandons + 2 late waiting) = 2/7.
ASA = (10 + 30 + 20) / 3 = 20 s.  AHT = (360 + 300) / 2 = 330 s (5 is still in wrap-up).
Abandonment rate = 2 / (3 + 2) = 0.4.  Longest wait 120 s.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.calls.events import CallEvents, EventRequest
from core.calls.metrics import CallTimes, Threshold, compute_day, thresholds, waiting_series
from core.calls.queue import QueueService
from core.config import Settings, SettingsError, parse_settings
from core.models import Agent, AgentState, CallEventKind

MADRID = ZoneInfo("Europe/Madrid")
UTC = ZoneInfo("UTC")


def local(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 3, day, hh, mm, ss, tzinfo=MADRID)


NOW = local(10, 12, 0)

# (label, queued, answered, ended, done, abandoned, state)
SCRIPT = [
    (
        "Y",
        local(9, 23, 59, 50),
        local(10, 0, 0, 15),
        local(10, 0, 5, 15),
        local(10, 0, 6, 15),
        None,
    ),
    ("0", local(10, 0, 30), None, None, None, local(10, 0, 31)),
    ("1", local(10, 9, 0), local(10, 9, 0, 10), local(10, 9, 5, 10), local(10, 9, 6, 10), None),
    ("2", local(10, 9, 10), local(10, 9, 10, 30), local(10, 9, 14, 30), local(10, 9, 15, 30), None),
    ("3", local(10, 9, 20), None, None, None, local(10, 9, 20, 3)),
    ("4", local(10, 9, 30), None, None, None, local(10, 9, 30, 45)),
    ("5", local(10, 10, 0), local(10, 10, 0, 20), local(10, 10, 3, 20), None, None),
    ("6", local(10, 11, 59), None, None, None, None),
    ("7", local(10, 11, 59, 50), None, None, None, None),
    ("8", local(10, 11, 58), None, None, None, None),
]


def _times() -> list[CallTimes]:
    calls = []
    for n, (label, queued, answered, ended, done, abandoned) in enumerate(SCRIPT):
        if abandoned:
            state = "abandoned"
        elif done:
            state = "completed"
        elif ended:
            state = "wrap_up"
        elif label == "8":
            state = "offered"
        else:
            state = "queued"
        calls.append(CallTimes(n, state, queued, answered, abandoned, ended, done))
    return calls


def test_the_scripted_day_by_hand() -> None:
    f = compute_day(_times(), NOW, MADRID, service_level_seconds=20, short_abandon_seconds=5)
    assert f.day.isoformat() == "2026-03-10"
    assert (f.offered, f.answered, f.abandoned, f.short_abandoned) == (9, 3, 3, 1)
    assert f.answered_within_target == 2
    assert f.service_level == pytest.approx(2 / 7)
    assert f.asa == pytest.approx(20.0)
    assert f.aht == pytest.approx(330.0)
    assert f.abandonment_rate == pytest.approx(0.4)
    assert f.waiting == 3
    assert f.longest_wait == pytest.approx(120.0)


def test_today_is_the_local_day() -> None:
    # In UTC the day starts an hour later: call 0 (23:30 UTC on the 9th) is yesterday's, and
    # the day has 8 calls, 2 abandons (1 short): SL = 2 / (3 + 1 + 2), abandonment 1/4.
    f = compute_day(_times(), NOW, UTC, service_level_seconds=20, short_abandon_seconds=5)
    assert (f.offered, f.abandoned, f.short_abandoned) == (8, 2, 1)
    assert f.service_level == pytest.approx(2 / 6)
    assert f.abandonment_rate == pytest.approx(0.25)


def test_a_call_crossing_midnight_counts_on_the_day_it_arrived() -> None:
    y = _times()[0]
    # Ten seconds after midnight, Y (queued 23:59:50) is still waiting: it shows in the live
    # queue, but it is not one of the new day's calls.
    waiting_y = CallTimes(0, "queued", y.queued_at)
    just_after = compute_day([waiting_y], local(10, 0, 0, 10), MADRID)
    assert just_after.offered == 0
    assert (just_after.waiting, just_after.longest_wait) == (1, pytest.approx(20.0))
    # Answered at 00:00:15 (after 25 s, outside T) and done by 00:06:15, it counts once, in
    # the 9th's figures: answered late, handle time 360 s.
    ninth = compute_day([y], local(9, 23, 59, 59), MADRID)
    assert (ninth.offered, ninth.answered, ninth.answered_within_target) == (1, 1, 0)
    assert ninth.service_level == 0.0
    assert ninth.aht == pytest.approx(360.0)
    # and not in the 10th's (the scripted day has 9 calls without it)
    assert compute_day([y], NOW, MADRID).offered == 0


def test_service_level_with_a_different_target() -> None:
    # T = 30 s: calls 1, 2 and 5 are all within; only call 8 (120 s) and 6 (60 s) are late.
    f = compute_day(_times(), NOW, MADRID, service_level_seconds=30, short_abandon_seconds=5)
    assert f.answered_within_target == 3
    assert f.service_level == pytest.approx(3 / 7)


def test_no_calls_gives_no_figures_rather_than_zero() -> None:
    f = compute_day([], NOW, MADRID)
    assert f.service_level is None and f.asa is None and f.aht is None
    assert f.abandonment_rate is None and f.longest_wait is None and f.waiting == 0


def test_waiting_series_counts_each_minute() -> None:
    series = waiting_series(_times(), NOW, minutes=60)
    assert len(series) == 60
    # 11:58 -> call 8; 11:59 -> 8 and 6; 12:00 -> 8, 6 and 7
    assert series[-3:] == [1, 2, 3]
    assert sum(series[:-3]) == 0


def test_thresholds_come_from_configuration() -> None:
    settings = parse_settings({"FRONTLINE_THRESHOLD_LONGEST_WAIT": "30,90"})
    th = thresholds(settings)
    assert th["longest_wait"] == Threshold(30.0, 90.0, True)
    assert [th["longest_wait"].level(v) for v in (10, 30, 95)] == ["ok", "warn", "alert"]
    # lower is worse for the service level: 80 % target, alert under 60 %
    assert [th["service_level"].level(v) for v in (0.9, 0.7, 0.5)] == ["ok", "warn", "alert"]
    with pytest.raises(SettingsError, match="FRONTLINE_THRESHOLD_ASA"):
        parse_settings({"FRONTLINE_THRESHOLD_ASA": "soon"})


async def test_the_scripted_day_through_stored_events(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        session.add(Agent(user_name="ana", state=AgentState.AVAILABLE))
        session.add(Agent(user_name="ben", state=AgentState.AVAILABLE))
    events = CallEvents(sessions)
    who = {"Y": "ana", "1": "ana", "2": "ben", "5": "ana"}
    timeline: list[tuple[datetime, str, CallEventKind]] = []
    for label, queued, answered, ended, done, abandoned in SCRIPT:
        timeline.append((queued, label, CallEventKind.QUEUED))
        for at, kind in [
            (answered, CallEventKind.ANSWERED),
            (ended, CallEventKind.ENDED),
            (done, CallEventKind.COMPLETED),
            (abandoned, CallEventKind.ABANDONED),
        ]:
            if at is not None:
                timeline.append((at, label, kind))
    timeline.append((local(10, 11, 59, 55), "8", CallEventKind.OFFERED))
    for at, label, kind in sorted(timeline):
        agent = ""
        if kind == CallEventKind.ANSWERED:
            agent = who[label]
        elif kind == CallEventKind.OFFERED:
            agent = "ben"
        await events.apply(
            EventRequest(
                kind=kind,
                external_id=f"pbx-{label}",
                caller_number=f"60000000{label}" if kind == CallEventKind.QUEUED else "",
                agent=agent,
                at=at,
                idempotency_key=f"{label}-{kind.value}",
            )
        )

    service = QueueService(sessions, Settings(timezone="Europe/Madrid"))
    snap = await service.snapshot(now=NOW)
    f = snap.figures
    assert (f.offered, f.answered, f.abandoned, f.short_abandoned) == (9, 3, 3, 1)
    assert f.service_level == pytest.approx(2 / 7)
    assert f.asa == pytest.approx(20.0)
    assert f.aht == pytest.approx(330.0)
    assert f.abandonment_rate == pytest.approx(0.4)
    assert [w.caller_number for w in snap.waiting] == ["600000008", "600000006", "600000007"]
    assert snap.waiting[0].state == "offered" and snap.waiting[0].agent == "ben"
    assert snap.waiting[0].wait_seconds == pytest.approx(120.0)
    assert snap.series[-3:] == [1, 2, 3]
    # 2/7 is under the 60 % alert line; 120 s is at the longest-wait alert line
    assert snap.levels["service_level"] == "alert"
    assert snap.levels["longest_wait"] == "alert"
    assert snap.levels["asa"] == "warn"

    team = await service.team(now=NOW)
    rows = {r.user_name: r for r in team.agents}
    ana, ben = rows["ana"], rows["ben"]
    assert ana.state == "wrap_up"
    assert ana.seconds_in_state == pytest.approx(7000.0)  # since 10:03:20: 1 h 56 min 40 s
    assert ana.call_state == "wrap_up" and ana.call_seconds == pytest.approx(7180.0)
    assert ana.handled_today == 2  # 1 and 5; Y was the 9th's
    assert ana.aht_today == pytest.approx(360.0)
    assert ben.state == "available" and ben.call_state == "offered"
    assert ben.customer == "600000008"
    assert ben.handled_today == 1 and ben.aht_today == pytest.approx(300.0)
    assert team.occupancy == pytest.approx(0.5)
    assert [r.user_name for r in team.agents] == ["ana", "ben"]  # busiest first
