"""Who the demo customers are: names, places, ages, consent, purchase behaviour, and their
phones and emails. Their history is core.demo.history."""

from __future__ import annotations

import numpy as np

from core.demo import contacts, names
from core.demo.tables import (
    DAY,
    HISTORY_YEARS,
    NULL,
    YEAR_DAYS,
    DemoPlan,
    TableRows,
    labels,
    pick,
)


class PeopleChunk:
    """Customers [start, stop) and their phones and emails."""

    def __init__(self, plan: DemoPlan, index: int, start: int, stop: int) -> None:
        self.plan = plan
        self.rng = np.random.default_rng([plan.seed, index])
        self.n = stop - start
        self.ids = np.arange(start + 1, stop + 1, dtype=np.int64)
        self.end = plan.end_ts

    # --- people ---------------------------------------------------------------------------

    def _people(self) -> TableRows:
        rng, n = self.rng, self.n
        origin = pick(rng, [(o.key, o.share) for o in names.ORIGINS], n)
        female = rng.random(n) < 0.51
        first = np.empty(n, dtype=object)
        surname1 = np.empty(n, dtype=object)
        last = np.empty(n, dtype=object)
        country = np.empty(n, dtype=object)
        for o_index, o in enumerate(names.ORIGINS):
            in_origin = origin == o_index
            for is_female, pool in ((True, o.female), (False, o.male)):
                mask = in_origin & (female == is_female)
                chosen = labels(pool)[pick(rng, pool, int(mask.sum()))]
                if o.middle_share:
                    middle = labels(pool)[pick(rng, pool, len(chosen))]
                    has = (rng.random(len(chosen)) < o.middle_share) & (middle != chosen)
                    chosen[has] = chosen[has] + " " + middle[has]
                first[mask] = chosen
            size = int(in_origin.sum())
            s1 = labels(o.surnames)[pick(rng, o.surnames, size)]
            surname1[in_origin] = s1
            full = s1.copy()
            if o.two_surnames:
                full = s1 + " " + labels(o.surnames)[pick(rng, o.surnames, size)]
            if o.third_surname_share:
                third = labels(o.surnames)[pick(rng, o.surnames, size)]
                has = rng.random(size) < o.third_surname_share
                full[has] = full[has] + " " + third[has]
            last[in_origin] = full
            country[in_origin] = labels(o.countries)[pick(rng, o.countries, size)]
        city = np.empty(n, dtype=object)
        for code, pool in names.CITIES.items():
            mask = country == code
            city[mask] = labels(pool)[pick(rng, pool, int(mask.sum()))]

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
        domains = labels(names.EMAIL_DOMAINS)[pick(rng, names.EMAIL_DOMAINS, n)]
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
