"""A realistic, deterministic demo customer base, generated in chunks with numpy.

Customers differ the way real ones do: each has a purchase rate (a gamma mixture of Poisson
processes) and a lifetime after which they stop buying (exponential, with a gamma-distributed
dropout rate), so recency, frequency and value really vary. Loyalty points are the sum of the
generated spend (1 point per 1.00) and the tier follows from them.

Timestamps are int64 seconds since the Unix epoch (UTC) and dates int64 days; `NULL` marks a
missing value. Writers turn the columns into their database's types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from core.demo import contacts, names, vocabulary
from core.demo.catalogue import CATALOGUE, LINES, LOYALTY_TIERS

NULL = np.iinfo(np.int64).min
"""The missing value in timestamp, date and id columns."""

DAY = 86_400
YEAR_DAYS = 365.25
HISTORY_YEARS = 3
CHUNK_SIZE = 20_000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]
T = TypeVar("T")


@dataclass
class TableRows:
    """Rows for one table, column by column. `kinds` says how to store each column:
    int, str, bool, money, ts (seconds), date (days); a `?` suffix allows NULL."""

    table: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    data: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.data[0]) if self.data else 0


@dataclass(frozen=True)
class DemoPlan:
    """What to build: how many customers, from which seed, with history up to which day."""

    customers: int
    seed: int = 42
    as_of: date = field(default_factory=lambda: datetime.now(UTC).date())
    chunk_size: int = CHUNK_SIZE

    @property
    def end_ts(self) -> int:
        """Midnight UTC at the start of `as_of`: every generated event is before it."""
        return int(
            datetime(self.as_of.year, self.as_of.month, self.as_of.day, tzinfo=UTC).timestamp()
        )

    @property
    def chunks(self) -> int:
        return (self.customers + self.chunk_size - 1) // self.chunk_size


def _weights(weighted: Sequence[tuple[Any, float]]) -> FloatArray:
    w = np.array([weight for _, weight in weighted], dtype=np.float64)
    normalised: FloatArray = w / w.sum()
    return normalised


def _pick(rng: np.random.Generator, weighted: Sequence[tuple[Any, float]], size: int) -> IntArray:
    return rng.choice(len(weighted), size=size, p=_weights(weighted)).astype(np.int64)


def _labels(weighted: Sequence[tuple[T, float]]) -> ObjArray:
    out = np.empty(len(weighted), dtype=object)
    out[:] = [label for label, _ in weighted]
    return out


def products() -> TableRows:
    """The agreed catalogue, with ids 1..16 in catalogue order."""
    rows = TableRows("product", ("id", "code", "name", "line", "price"),
                     ("int", "str", "str", "str", "money"))  # fmt: skip
    rows.data = [
        np.arange(1, len(CATALOGUE) + 1, dtype=np.int64),
        [p.code for p in CATALOGUE],
        [p.name for p in CATALOGUE],
        [p.line for p in CATALOGUE],
        np.array([float(p.price) for p in CATALOGUE]),
    ]
    return rows


def agents(plan: DemoPlan) -> TableRows:
    """A team of agents and one supervisor, all offline until they open the console."""
    rows = TableRows(
        "agent",
        ("id", "user_name", "display_name", "role", "state", "state_reason", "state_since",
         "created_at"),
        ("int", "str", "str", "str", "str", "str", "ts", "ts"),
    )  # fmt: skip
    n = len(names.AGENTS)
    joined = plan.end_ts - 400 * DAY
    rows.data = [
        np.arange(1, n + 1, dtype=np.int64),
        [a[0] for a in names.AGENTS],
        [a[1] for a in names.AGENTS],
        [a[2] for a in names.AGENTS],
        ["offline"] * n,
        [""] * n,
        np.full(n, plan.end_ts, dtype=np.int64),
        np.full(n, joined, dtype=np.int64),
    ]
    return rows


def generate(plan: DemoPlan) -> Iterator[tuple[int, list[TableRows]]]:
    """Every chunk of customers with everything they own, as (customers in chunk, tables)."""
    for index in range(plan.chunks):
        start = index * plan.chunk_size
        stop = min(plan.customers, start + plan.chunk_size)
        yield stop - start, _Chunk(plan, index, start, stop).tables()


# Holding probabilities per product line, and product weights within the line.
LINE_SHARE = {"mobile": 0.85, "fibre": 0.55, "tv": 0.30, "energy": 0.22, "insurance": 0.18,
              "devices": 0.30}  # fmt: skip
PRODUCT_WEIGHT = {"MOBILE_BASIC": 3, "MOBILE_PLUS": 4, "MOBILE_UNLIMITED": 2, "FIBRE_300": 4,
                  "FIBRE_600": 3, "FIBRE_1G": 2, "TV_ESSENTIAL": 3, "TV_SPORTS": 2,
                  "TV_CINEMA": 2, "ENERGY_LIGHT": 3, "ENERGY_GAS": 2, "INSURE_HOME": 2,
                  "INSURE_DEVICE": 3, "DEVICE_PHONE": 4, "DEVICE_TABLET": 1,
                  "DEVICE_ROUTER": 2}  # fmt: skip


class _Chunk:
    """Customers [start, stop) and their contacts, holdings, purchases, history and loyalty."""

    def __init__(self, plan: DemoPlan, index: int, start: int, stop: int) -> None:
        self.plan = plan
        self.rng = np.random.default_rng([plan.seed, index])
        self.n = stop - start
        self.ids = np.arange(start + 1, stop + 1, dtype=np.int64)
        self.end = plan.end_ts

    def tables(self) -> list[TableRows]:
        customers = self._people()
        contact_points = self._contact_points()
        holdings = self._holdings()
        purchases = self._purchases()
        interactions = self._interactions()
        nps = self._nps()
        loyalty = self._loyalty()
        self._set_last_activity(customers)
        return [customers, contact_points, holdings, purchases, interactions, nps, loyalty]

    # --- people ---------------------------------------------------------------------------

    def _people(self) -> TableRows:
        rng, n = self.rng, self.n
        origin = _pick(rng, [(o.key, o.share) for o in names.ORIGINS], n)
        female = rng.random(n) < 0.51
        first = np.empty(n, dtype=object)
        surname1 = np.empty(n, dtype=object)
        last = np.empty(n, dtype=object)
        country = np.empty(n, dtype=object)
        for o_index, o in enumerate(names.ORIGINS):
            in_origin = origin == o_index
            for is_female, pool in ((True, o.female), (False, o.male)):
                mask = in_origin & (female == is_female)
                first[mask] = _labels(pool)[_pick(rng, pool, int(mask.sum()))]
            size = int(in_origin.sum())
            s1 = _labels(o.surnames)[_pick(rng, o.surnames, size)]
            surname1[in_origin] = s1
            if o.two_surnames:
                s2 = _labels(o.surnames)[_pick(rng, o.surnames, size)]
                last[in_origin] = s1 + " " + s2
            else:
                last[in_origin] = s1
            country[in_origin] = _labels(o.countries)[_pick(rng, o.countries, size)]
        city = np.empty(n, dtype=object)
        for code, pool in names.CITIES.items():
            mask = country == code
            city[mask] = _labels(pool)[_pick(rng, pool, int(mask.sum()))]

        age_days = (np.clip(rng.normal(47, 15, n), 18.2, 93) * YEAR_DAYS).astype(np.int64)
        end_day = self.end // DAY
        birth = end_day - age_days
        tenure_days = np.clip(rng.exponential(5.0, n) * YEAR_DAYS, 20, 22 * YEAR_DAYS)
        tenure_days = np.minimum(tenure_days, age_days - 18 * YEAR_DAYS).astype(np.int64)
        since_day = end_day - np.maximum(tenure_days, 1)
        created = since_day * DAY + rng.integers(8 * 3600, 20 * 3600, n)
        consent = rng.random(n) < 0.72
        dnc = rng.random(n) < np.where(consent, 0.02, 0.15)

        # Purchase behaviour: rate per year, and when (if ever) the customer stops buying.
        self.rate = rng.gamma(0.9, 5.5 / 0.9, n)
        dropout = rng.gamma(0.8, 0.30 / 0.8, n)
        lifetime = rng.exponential(1.0, n) / dropout * YEAR_DAYS * DAY
        self.alive_until = np.minimum(created + lifetime, self.end).astype(np.int64)
        self.churned = self.alive_until < self.end
        self.window_start = np.maximum(created, self.end - int(HISTORY_YEARS * YEAR_DAYS * DAY))
        self.spend_mean = rng.lognormal(np.log(125), 0.8, n)
        self.created = created
        self.since_day = since_day
        self.english = origin == 2
        self.first, self.surname1, self.country = first, surname1, country
        self.consent = consent

        rows = TableRows(
            "customer",
            ("id", "external_id", "first_name", "last_name", "city", "country", "birth_date",
             "customer_since", "marketing_consent", "do_not_call", "created_at", "updated_at",
             "last_activity_at"),
            ("int", "str", "str", "str", "str", "str", "date", "date", "bool", "bool", "ts",
             "ts", "ts?"),
        )  # fmt: skip
        rows.data = [
            self.ids,
            [f"C{i:08d}" for i in self.ids.tolist()],
            first.tolist(),
            last.tolist(),
            city.tolist(),
            country.tolist(),
            birth,
            since_day,
            consent,
            dnc,
            created,
            np.full(n, self.end, dtype=np.int64),
            np.full(n, NULL, dtype=np.int64),  # set once purchases and history exist
        ]
        return rows

    def _contact_points(self) -> TableRows:
        rng, n = self.rng, self.n
        has_mobile = rng.random(n) < 0.96
        has_landline = rng.random(n) < 0.42
        has_mobile2 = rng.random(n) < 0.12
        shares_home = has_landline & (rng.random(n) < 0.06)
        shares_home[0] = False
        has_email = rng.random(n) < 0.88
        has_work = rng.random(n) < 0.15
        digits = rng.integers(0, 10**9, (n, 3))
        variants = rng.integers(0, 1000, (n, 4))
        domains = _labels(names.EMAIL_DOMAINS)[_pick(rng, names.EMAIL_DOMAINS, n)]
        work = rng.integers(0, len(names.WORK_DOMAINS), n)
        shouty = rng.random(n) < 0.06
        styles = rng.integers(0, 5, n)

        cid: list[int] = []
        kind: list[str] = []
        value: list[str] = []
        norm: list[str] = []
        label: list[str] = []
        primary: list[bool] = []

        seen: set[str] = set()

        def add(c: int, k: str, v: str, nm: str, lb: str, p: bool) -> None:
            if nm in seen:  # the (customer, kind, normalized) key is unique
                return
            seen.add(nm)
            cid.append(c)
            kind.append(k)
            value.append(v)
            norm.append(nm)
            label.append(lb)
            primary.append(p)

        countries = self.country.tolist()
        firsts = self.first.tolist()
        surnames = self.surname1.tolist()
        ids = self.ids.tolist()
        d = digits.tolist()
        var = variants.tolist()
        previous_home: tuple[str, str, str] | None = None
        for i in range(n):
            c, country = ids[i], countries[i]
            seen.clear()
            mobile_prefix = contacts.MOBILE_PREFIX[country]
            if country == "ES" and d[i][0] % 7 == 0:
                mobile_prefix = "7"
            first_phone = True
            if has_mobile[i] or not has_landline[i]:
                national = contacts.national_number(country, mobile_prefix, d[i][0])
                v, nm = contacts.format_phone(country, national, var[i][0])
                add(c, "phone", v, nm, "mobile", True)
                first_phone = False
                if has_mobile2[i]:
                    other = d[i][0] + 1 + d[i][2] % 999_999
                    national2 = contacts.national_number(country, mobile_prefix, other)
                    v, nm = contacts.format_phone(country, national2, var[i][1])
                    add(c, "phone", v, nm, "mobile", False)
            if has_landline[i]:
                if shares_home[i] and previous_home is not None and previous_home[0] == country:
                    _, v, nm = previous_home  # a household sharing one home number
                else:
                    prefix = contacts.LANDLINE_PREFIX[country]
                    national = contacts.national_number(country, prefix, d[i][1])
                    v, nm = contacts.format_phone(country, national, var[i][2])
                add(c, "phone", v, nm, "home", first_phone)
                previous_home = (country, v, nm)
            if has_email[i]:
                local = contacts.email_local(firsts[i], surnames[i], c, styles[i])
                address = f"{local}@{domains[i]}"
                if shouty[i]:
                    address = address.title()
                add(c, "email", address, address.lower(), "personal", True)
            if has_work[i]:
                local = contacts.email_local(firsts[i], surnames[i], c, styles[i] + 1)
                address = f"{local}@{names.WORK_DOMAINS[work[i]]}"
                add(c, "email", address, address.lower(), "work", not has_email[i])
        rows = TableRows(
            "contact_point",
            ("customer_id", "kind", "value", "normalized", "label", "is_primary"),
            ("int", "str", "str", "str", "str", "bool"),
        )
        rows.data = [np.array(cid, dtype=np.int64), kind, value, norm, label, np.array(primary)]
        return rows

    # --- products and purchases -----------------------------------------------------------

    def _holdings(self) -> TableRows:
        rng, n = self.rng, self.n
        by_line: dict[str, list[int]] = {line: [] for line in LINES}
        for product_id, item in enumerate(CATALOGUE, start=1):
            by_line[item.line].append(product_id)
        holder: list[IntArray] = []
        product: list[IntArray] = []
        any_line = np.zeros(n, dtype=bool)
        for line in LINES:
            has = rng.random(n) < LINE_SHARE[line]
            if line == LINES[-1]:
                has |= ~any_line  # everyone holds something
            any_line |= has
            ids = by_line[line]
            weights = [(pid, float(PRODUCT_WEIGHT[CATALOGUE[pid - 1].code])) for pid in ids]
            chosen = np.array(ids, dtype=np.int64)[_pick(rng, weights, int(has.sum()))]
            holder.append(np.flatnonzero(has))
            product.append(chosen)
        who = np.concatenate(holder)
        order = np.argsort(who, kind="stable")
        who = who[order]
        what = np.concatenate(product)[order]
        self.holding_product = what
        self.holding_offset = np.searchsorted(who, np.arange(n + 1))

        # Taken some time after joining; ended when the customer left, or when they switched.
        created = self.created[who]
        last = self.alive_until[who]
        since = created + (rng.random(len(who)) * 0.5 * (last - created)).astype(np.int64)
        switched = rng.random(len(who)) < 0.07
        ended = np.where(
            self.churned[who] & (rng.random(len(who)) < 0.9),
            last + rng.integers(0, 60, len(who)) * DAY,
            np.where(
                switched, since + (rng.random(len(who)) * (self.end - since)).astype(np.int64), NULL
            ),
        )
        ended = np.where((ended != NULL) & (ended >= self.end), NULL, ended)
        rows = TableRows(
            "holding",
            ("customer_id", "product_id", "since", "ended_on"),
            ("int", "int", "date", "date?"),
        )
        rows.data = [
            self.ids[who],
            what,
            since // DAY,
            np.where(ended == NULL, NULL, ended // DAY),
        ]
        return rows

    def _purchases(self) -> TableRows:
        rng, n = self.rng, self.n
        active = np.maximum(self.alive_until - self.window_start, 0)
        counts = rng.poisson(self.rate * active / (YEAR_DAYS * DAY))
        who = np.repeat(np.arange(n), counts)
        at = self.window_start[who] + (rng.random(len(who)) * active[who]).astype(np.int64)
        order = np.lexsort((at, who))
        who, at = who[order], at[order]
        held = self.holding_offset[who] + (
            rng.random(len(who)) * (self.holding_offset[who + 1] - self.holding_offset[who])
        ).astype(np.int64)
        product_id = self.holding_product[held]
        prices = np.array([float(p.price) for p in CATALOGUE])[product_id - 1]
        factor = np.clip(prices / 30.0, 0.5, 4.0)
        amount = np.round(
            np.maximum(self.spend_mean[who] * factor * rng.gamma(4.0, 0.25, len(who)), 1.0), 2
        )
        channel = _labels(vocabulary.PURCHASE_CHANNELS)[
            _pick(rng, vocabulary.PURCHASE_CHANNELS, len(who))
        ]
        self.purchase_who, self.purchase_at, self.purchase_amount = who, at, amount
        rows = TableRows(
            "purchase",
            ("customer_id", "at", "amount", "product_id", "channel"),
            ("int", "ts", "money", "int", "str"),
        )
        rows.data = [self.ids[who], at, amount, product_id, channel.tolist()]
        return rows

    def _loyalty(self) -> TableRows:
        rng, n = self.rng, self.n
        who, at, amount = self.purchase_who, self.purchase_at, self.purchase_amount
        total = np.bincount(who, weights=amount, minlength=n)
        points = np.floor(total + 1e-6).astype(np.int64)
        thresholds = np.array([t for _, t in LOYALTY_TIERS], dtype=np.int64)
        tier_index = np.searchsorted(thresholds, points, side="right") - 1
        # The tier was reached with the purchase that took the running total past its threshold.
        start = np.searchsorted(who, np.arange(n))
        running = np.cumsum(amount) - np.concatenate(([0.0], np.cumsum(amount)))[start[who]]
        reached = running + 1e-6 >= thresholds[tier_index[who]]
        first_reach = np.full(n, NULL, dtype=np.int64)
        hit = np.flatnonzero(reached & (tier_index[who] > 0))
        if len(hit):
            customers, first = np.unique(who[hit], return_index=True)
            first_reach[customers] = at[hit[first]]
        tier_since_ts = np.where(tier_index > 0, first_reach, self.window_start)
        enrolled = rng.random(n) < 0.92
        tier_names = np.array([name for name, _ in LOYALTY_TIERS], dtype=object)
        rows = TableRows(
            "loyalty_account",
            ("customer_id", "tier", "points", "tier_since", "updated_at"),
            ("int", "str", "int", "date?", "ts"),
        )
        rows.data = [
            self.ids[enrolled],
            tier_names[tier_index[enrolled]].tolist(),
            points[enrolled],
            tier_since_ts[enrolled] // DAY,
            np.full(int(enrolled.sum()), self.end, dtype=np.int64),
        ]
        self.last_purchase = np.full(n, NULL, dtype=np.int64)
        if len(who):
            np.maximum.at(self.last_purchase, who, at)
        return rows

    # --- history --------------------------------------------------------------------------

    def _interactions(self) -> TableRows:
        rng, n = self.rng, self.n
        rate = rng.gamma(1.1, 3.0 / 1.1, n)
        last = np.minimum(self.alive_until + 90 * DAY, self.end - 3600)
        span = np.maximum(last - self.window_start, 0)
        counts = rng.poisson(rate * span / (YEAR_DAYS * DAY))
        who = np.repeat(np.arange(n), counts)
        m = len(who)
        day = (self.window_start[who] + (rng.random(m) * span[who]).astype(np.int64)) // DAY
        at = day * DAY + rng.integers(7 * 3600, 20 * 3600, m)
        at = np.minimum(at, self.end - 60)
        channel_index = _pick(rng, vocabulary.CHANNELS, m)
        channel_names = _labels(vocabulary.CHANNELS)
        channel = channel_names[channel_index]
        inbound_share = np.array([vocabulary.INBOUND_SHARE[c] for c, _ in vocabulary.CHANNELS])
        inbound = rng.random(m) < inbound_share[channel_index]
        english = self.english[who]
        subject = np.empty(m, dtype=object)
        outcome = np.empty(m, dtype=object)
        for c_index, (name, _) in enumerate(vocabulary.CHANNELS):
            in_channel = channel_index == c_index
            for direction, is_in in (("inbound", True), ("outbound", False)):
                mask = in_channel & (inbound == is_in)
                size = int(mask.sum())
                if not size:
                    continue
                options = vocabulary.SUBJECTS[(name, direction)]
                spanish = np.array([s for s, _ in options], dtype=object)
                other = np.array([e for _, e in options], dtype=object)
                pick = rng.integers(0, len(options), size)
                subject[mask] = np.where(english[mask], other[pick], spanish[pick])
            outcomes = vocabulary.OUTCOMES[name]
            outcome[in_channel] = _labels(outcomes)[_pick(rng, outcomes, int(in_channel.sum()))]
        team = np.array([a[0] for a in names.AGENTS if a[2] == "agent"], dtype=object)
        former = np.array(names.FORMER_AGENTS, dtype=object)
        recent = at >= self.end - 540 * DAY
        agent = np.where(
            recent, team[rng.integers(0, len(team), m)], former[rng.integers(0, len(former), m)]
        )
        agent[channel == "web"] = ""
        has_note = (rng.random(m) < 0.25) & (channel != "web")
        note_pick = rng.integers(0, len(vocabulary.NOTES), m)
        notes_es = np.array([s for s, _ in vocabulary.NOTES], dtype=object)
        notes_en = np.array([e for _, e in vocabulary.NOTES], dtype=object)
        notes = np.where(has_note, np.where(english, notes_en[note_pick], notes_es[note_pick]), "")
        self.interaction_who, self.interaction_at = who, at
        rows = TableRows(
            "interaction",
            ("customer_id", "at", "channel", "direction", "subject", "outcome", "agent", "notes"),
            ("int", "ts", "str", "str", "str", "str", "str", "str"),
        )
        rows.data = [
            self.ids[who],
            at,
            channel.tolist(),
            np.where(inbound, "inbound", "outbound").tolist(),
            subject.tolist(),
            outcome.tolist(),
            agent.tolist(),
            notes.tolist(),
        ]
        return rows

    def _nps(self) -> TableRows:
        rng, n = self.rng, self.n
        answers = np.where(rng.random(n) < 0.35, 1 + (rng.random(n) < 0.3), 0)
        who = np.repeat(np.arange(n), answers)
        m = len(who)
        span = np.maximum(
            np.minimum(self.alive_until[who], self.end - DAY) - self.window_start[who], DAY
        )
        at = self.window_start[who] + (rng.random(m) * span).astype(np.int64)
        mood = rng.normal(0, 1, n)[who]
        score = np.clip(np.round(7.6 + 1.9 * mood - 2.5 * self.churned[who]), 0, 10).astype(
            np.int64
        )
        category = np.where(score >= 9, "promoter", np.where(score >= 7, "passive", "detractor"))
        comment = np.full(m, "", dtype=object)
        commented = rng.random(m) < 0.4
        english = self.english[who]
        for name, options in vocabulary.NPS_COMMENTS.items():
            mask = commented & (category == name)
            pick = rng.integers(0, len(options), int(mask.sum()))
            spanish = np.array([s for s, _ in options], dtype=object)
            other = np.array([e for _, e in options], dtype=object)
            comment[mask] = np.where(english[mask], other[pick], spanish[pick])
        rows = TableRows(
            "nps_response", ("customer_id", "at", "score", "comment"), ("int", "ts", "int", "str")
        )
        rows.data = [self.ids[who], at, score, comment.tolist()]
        return rows

    def _set_last_activity(self, customers: TableRows) -> None:
        last = self.last_purchase.copy()
        if len(self.interaction_who):
            np.maximum.at(last, self.interaction_who, self.interaction_at)
        customers.data[customers.columns.index("last_activity_at")] = last
