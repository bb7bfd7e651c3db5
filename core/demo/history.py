"""What the demo customers did: holdings, purchases, loyalty, interactions and NPS answers,
drawn from who they are (core.demo.people)."""

from __future__ import annotations

import numpy as np

from core.demo import names, vocabulary
from core.demo.catalogue import LOYALTY_TIERS
from core.demo.people import PeopleChunk
from core.demo.tables import (
    DAY,
    NULL,
    YEAR_DAYS,
    IntArray,
    TableRows,
    labels,
    pick,
)
from core.reference.catalogue import CATALOGUE, LINES

# Holding probabilities per product line, and product weights within the line.
LINE_SHARE = {"mobile": 0.85, "fibre": 0.55, "tv": 0.30, "energy": 0.22, "insurance": 0.18,
              "devices": 0.30}  # fmt: skip
PRODUCT_WEIGHT = {"MOBILE_BASIC": 3, "MOBILE_PLUS": 4, "MOBILE_UNLIMITED": 2, "FIBRE_300": 4,
                  "FIBRE_600": 3, "FIBRE_1G": 2, "TV_ESSENTIAL": 3, "TV_SPORTS": 2,
                  "TV_CINEMA": 2, "ENERGY_LIGHT": 3, "ENERGY_GAS": 2, "INSURE_HOME": 2,
                  "INSURE_DEVICE": 3, "DEVICE_PHONE": 4, "DEVICE_TABLET": 1,
                  "DEVICE_ROUTER": 2}  # fmt: skip


class CustomerChunk(PeopleChunk):
    """Customers [start, stop) and their contacts, holdings, purchases, history and loyalty."""

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
            chosen = np.array(ids, dtype=np.int64)[pick(rng, weights, int(has.sum()))]
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
        channel = labels(vocabulary.PURCHASE_CHANNELS)[
            pick(rng, vocabulary.PURCHASE_CHANNELS, len(who))
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
        channel_index = pick(rng, vocabulary.CHANNELS, m)
        channel_names = labels(vocabulary.CHANNELS)
        channel = channel_names[channel_index]
        inbound_share = np.array([vocabulary.INBOUND_SHARE[c] for c, _ in vocabulary.CHANNELS])
        inbound = rng.random(m) < inbound_share[channel_index]
        # The contact centre writes its history in one language, whoever the customer is.
        english = np.full(m, self.plan.language == "en")
        subject = np.empty(m, dtype=object)
        reason = np.full(m, "", dtype=object)
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
                codes = np.array(
                    [vocabulary.SUBJECT_REASONS.get(s, "") for s, _ in options], dtype=object
                )
                option = rng.integers(0, len(options), size)
                subject[mask] = np.where(english[mask], other[option], spanish[option])
                reason[mask] = codes[option]
            outcomes = vocabulary.OUTCOMES[name]
            outcome[in_channel] = labels(outcomes)[pick(rng, outcomes, int(in_channel.sum()))]
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
            ("customer_id", "at", "channel", "direction", "subject", "outcome", "agent", "notes")
            + ("reason",),
            ("int", "ts", "str", "str", "str", "str", "str", "str", "str"),
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
            reason.tolist(),
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
        english = np.full(len(who), self.plan.language == "en")
        for name, options in vocabulary.NPS_COMMENTS.items():
            mask = commented & (category == name)
            option = rng.integers(0, len(options), int(mask.sum()))
            spanish = np.array([s for s, _ in options], dtype=object)
            other = np.array([e for _, e in options], dtype=object)
            comment[mask] = np.where(english[mask], other[option], spanish[option])
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
