"""Queue figures computed from the stored call times, with each figure's exact definition.

Definitions (the supervisor's help screen shows the same text, from `DEFINITIONS`):

- **Today** is the local calendar day (Settings.timezone, or the machine's zone when empty),
  from local midnight to now. A call belongs to the day it was *queued*: a call queued at
  23:59:50 and answered at 00:00:10 counts once, in the figures of the day it arrived (its
  wait, its answer and its handle time), and not in the new day's. Calls waiting right now
  count in *waiting* and *longest wait* whatever day they arrived.
- **Offered**: calls queued today (every call that reached the queue).
- **Answered**: calls queued today and answered by an agent.
- **Abandoned**: calls queued today whose caller hung up before an agent answered (while
  waiting or while ringing at an agent). A **short abandon** is one that waited less than
  `short_abandon_seconds` (default 5): a misdial or an instant change of mind. Short
  abandons are counted, but left out of the service level and the abandonment rate.
- **Service level** = calls answered within T seconds of being queued ÷ (answered calls +
  abandoned calls other than short abandons + calls still waiting that have already waited
  longer than T). T is `service_level_seconds` (default 20). Shown as "—" with no calls.
- **ASA** (average speed of answer) = mean of (answered − queued) over answered calls.
- **AHT** (average handle time) = mean of talk + hold + wrap-up = (wrap-up finished −
  answered) over answered calls whose wrap-up has finished.
- **Abandonment rate** = abandoned calls other than short abandons ÷ (answered calls +
  abandoned calls other than short abandons).
- **Waiting**: calls queued or ringing at an agent and not answered yet; **longest wait**
  is now − queued for the oldest of them.
- **Occupancy (now)** = agents on a call or in wrap-up ÷ agents signed in and not on a
  break (available + on a call + wrap-up).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from statistics import fmean
from zoneinfo import ZoneInfo

from core.config import Settings
from core.i18n import N_
from core.models import CallState

DEFINITIONS: dict[str, str] = {
    "today": N_(
        "The local calendar day, midnight to now. A call counts on the day it was "
        "queued, once: a call crossing midnight belongs to the day it arrived."
    ),
    "offered": N_("Calls queued today."),
    "answered": N_("Calls queued today that an agent answered."),
    "abandoned": N_(
        "Calls queued today whose caller hung up before an agent answered "
        "(waiting or ringing). Short abandons (waited under {short}s) are counted here but left "
        "out of service level and abandonment rate."
    ),
    "service_level": N_(
        "Answered within {t}s ÷ (answered + abandoned other than short abandons "
        "+ calls still waiting past {t}s). Colour below the target."
    ),
    "asa": N_("Average speed of answer: mean time from queued to answered, answered calls."),
    "aht": N_(
        "Average handle time: mean talk + hold + wrap-up (answered → wrap-up finished), "
        "calls whose wrap-up has finished."
    ),
    "abandonment_rate": N_(
        "Abandoned (other than short abandons) ÷ (answered + abandoned other than short abandons)."
    ),
    "waiting": N_("Calls queued or ringing and not answered yet."),
    "longest_wait": N_("Now − queued time of the oldest waiting call."),
    "occupancy": N_("Agents on a call or in wrap-up ÷ agents available, on a call or in wrap-up."),
    "sparkline": N_("Calls waiting at each minute of the last hour."),
}

WAITING_STATES = (CallState.QUEUED, CallState.OFFERED)


@dataclass(frozen=True)
class CallTimes:
    """The times of one call that the figures need."""

    call_id: int
    state: str
    queued_at: datetime | None
    answered_at: datetime | None = None
    abandoned_at: datetime | None = None
    ended_at: datetime | None = None
    wrap_up_ended_at: datetime | None = None
    agent_id: int | None = None

    @property
    def wait_ended_at(self) -> datetime | None:
        """When the caller stopped waiting (answered or hung up); None while waiting."""
        if self.answered_at is not None:
            return self.answered_at
        if self.abandoned_at is not None:
            return self.abandoned_at
        if self.state in WAITING_STATES:
            return None
        return self.ended_at or self.wrap_up_ended_at or self.queued_at

    @property
    def handle_seconds(self) -> float | None:
        """Talk + hold + wrap-up, once the wrap-up has finished."""
        if self.answered_at is None or self.wrap_up_ended_at is None:
            return None
        return (self.wrap_up_ended_at - self.answered_at).total_seconds()


@dataclass(frozen=True)
class DayFigures:
    """Today's queue figures (see the module docstring for each definition)."""

    day: date
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    answered_within_target: int
    waiting: int
    longest_wait: float | None
    """Seconds; None when nobody waits."""
    service_level: float | None
    """0..1; None when no call counts yet."""
    asa: float | None
    aht: float | None
    abandonment_rate: float | None


def local_zone(settings: Settings) -> tzinfo:
    """The zone figures and times are shown in: Settings.timezone, or the machine's."""
    if settings.timezone:
        return ZoneInfo(settings.timezone)
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def day_start(now: datetime, zone: tzinfo) -> datetime:
    """Local midnight of `now`'s local day, as an aware datetime."""
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def compute_day(
    calls: Iterable[CallTimes],
    now: datetime,
    zone: tzinfo,
    service_level_seconds: int = 20,
    short_abandon_seconds: int = 5,
) -> DayFigures:
    """Today's figures from the calls' times.

    Args:
        calls: every call queued today, plus every call still waiting.
        now: the moment the figures are for (aware).
        zone: the local zone that decides where "today" starts.
        service_level_seconds: T in "answered within T seconds".
        short_abandon_seconds: abandons that waited less than this are short abandons.

    Returns:
        The figures.
    """
    start = day_start(now, zone)
    target = timedelta(seconds=service_level_seconds)
    short = timedelta(seconds=short_abandon_seconds)
    offered = answered = abandoned = short_abandoned = within = late_waiting = 0
    speeds: list[float] = []
    handles: list[float] = []
    waits_now: list[float] = []
    for call in calls:
        if call.queued_at is None:
            continue  # an outbound or agent-started call never waited in the queue
        if call.state in WAITING_STATES and call.queued_at <= now:
            waits_now.append((now - call.queued_at).total_seconds())
        if not (start <= call.queued_at <= now):
            continue
        offered += 1
        if call.answered_at is not None:
            answered += 1
            speed = call.answered_at - call.queued_at
            speeds.append(speed.total_seconds())
            if speed <= target:
                within += 1
            handle = call.handle_seconds
            if handle is not None:
                handles.append(handle)
        elif call.state == CallState.ABANDONED:
            abandoned += 1
            ended = call.abandoned_at or call.queued_at
            if ended - call.queued_at < short:
                short_abandoned += 1
        elif call.state in WAITING_STATES and now - call.queued_at > target:
            late_waiting += 1
    counted_abandons = abandoned - short_abandoned
    sl_base = answered + counted_abandons + late_waiting
    ab_base = answered + counted_abandons
    return DayFigures(
        day=start.date(),
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short_abandoned,
        answered_within_target=within,
        waiting=len(waits_now),
        longest_wait=max(waits_now) if waits_now else None,
        service_level=within / sl_base if sl_base else None,
        asa=fmean(speeds) if speeds else None,
        aht=fmean(handles) if handles else None,
        abandonment_rate=counted_abandons / ab_base if ab_base else None,
    )


def waiting_series(calls: Iterable[CallTimes], now: datetime, minutes: int = 60) -> list[int]:
    """How many calls were waiting at each whole minute of the last `minutes`, oldest first.

    Args:
        calls: every call that may have waited in the period.
        now: the end of the period; the last value is the count at `now`.
        minutes: how many samples.

    Returns:
        `minutes` counts.
    """
    instants = [now - timedelta(minutes=minutes - 1 - i) for i in range(minutes)]
    counts = [0] * minutes
    for call in calls:
        if call.queued_at is None:
            continue
        ended = call.wait_ended_at
        for i, instant in enumerate(instants):
            if call.queued_at <= instant and (ended is None or ended > instant):
                counts[i] += 1
    return counts


def occupancy(states: Sequence[str]) -> float | None:
    """Agents on a call or in wrap-up ÷ agents available, on a call or in wrap-up."""
    busy = sum(1 for s in states if s in ("on_call", "wrap_up"))
    staffed = busy + sum(1 for s in states if s == "available")
    return busy / staffed if staffed else None


@dataclass(frozen=True)
class Threshold:
    """When a figure turns colour: `warn` then `alert`; `higher_is_worse` says which way."""

    warn: float
    alert: float
    higher_is_worse: bool = True

    def level(self, value: float | None) -> str:
        """ "ok", "warn" or "alert" for the value ("ok" when there is none)."""
        if value is None:
            return "ok"
        if self.higher_is_worse:
            return "alert" if value >= self.alert else "warn" if value >= self.warn else "ok"
        return "alert" if value <= self.alert else "warn" if value <= self.warn else "ok"


# name -> (default warn, default alert, higher is worse); FRONTLINE_THRESHOLD_<NAME>=warn,alert
_THRESHOLDS: dict[str, tuple[float, float, bool]] = {
    "service_level": (0.80, 0.60, False),
    "longest_wait": (60.0, 120.0, True),
    "waiting": (5.0, 10.0, True),
    "asa": (20.0, 40.0, True),
    "aht": (420.0, 600.0, True),
    "abandonment_rate": (0.05, 0.10, True),
    "occupancy": (0.90, 0.97, True),
    "time_in_state": (600.0, 900.0, True),
}


def thresholds(settings: Settings) -> dict[str, Threshold]:
    """Colour thresholds, from `FRONTLINE_THRESHOLD_<NAME>=warn,alert` or the defaults.

    Args:
        settings: the configuration.

    Returns:
        Threshold per figure name (service_level, longest_wait, waiting, asa, aht,
        abandonment_rate, occupancy, time_in_state).
    """
    found: dict[str, Threshold] = {}
    for name, (warn, alert, worse) in _THRESHOLDS.items():
        warn, alert = settings.calls.thresholds.get(name, (warn, alert))
        found[name] = Threshold(warn, alert, worse)
    return found
