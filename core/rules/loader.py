"""Read a rules file: TOML (tomllib) checked field by field, every error at `file:line:column`.

tomllib keeps no positions, so `core.rules.locate.Locator` scans the text for the key each
error is about (tomlkit keeps positions only for its own round-trip editing and exposes no
line numbers, so it would not help). Everything is checked before anything is used: a file
with one error loads nothing.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from datetime import date
from pathlib import Path as FilePath
from typing import Any

from core.i18n import words as _
from core.i18n.formats import format_number
from core.rules.checker import MAX_TOML_NESTING, Checker, toml_error, too_deep, type_name
from core.rules.expressions import Condition, bind_to_offer, compile_condition
from core.rules.locate import Locator, Path
from core.rules.ruleset import (
    ARBITRATION_MODES,
    OFFER_KINDS,
    Offer,
    Policy,
    Prior,
    RuleError,
    RuleSet,
    RulesInvalid,
)
from core.rules.suggest import closest
from core.rules.templates import parse_template

MAX_FILE_BYTES = 2_000_000
MAX_OFFERS = 2000
MAX_CONDITIONS = 50
MAX_FILE_COST = 5_000_000
"""All conditions' estimated cost together (core.rules.cost): what one customer may cost."""
EXAMPLE_RULES = FilePath(__file__).with_name("example_rules.toml")

TOP_LEVEL = ("version", "policy", "offer")
OFFER_FIELDS = (
    "id", "title", "kind", "value", "valid", "priority", "prior", "cooldown_days",
    "max_impressions", "script", "when", "description",
)  # fmt: skip
VALID_FIELDS = ("from", "until", "hours")
PRIOR_FIELDS = ("rate", "weight")
POLICY_FIELDS = (
    "arbitration", "marketing_requires_consent", "decline_cooldown_days",
    "max_offers_per_call", "max_impressions_per_offer", "max_impressions_per_customer",
    "impression_window_days", "decline_reasons",
)  # fmt: skip

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def parse_rules(text: str, file: str = "<rules>", path: FilePath | None = None) -> RuleSet:
    """Check and compile a rules file's text.

    Args:
        text: the TOML text.
        file: the name to put in error messages.
        path: where it was read from, kept on the rule set.

    Returns:
        The rule set. Raises RulesInvalid with every error found.
    """
    if len(text.encode()) > MAX_FILE_BYTES:
        message = _("file larger than {limit} bytes").format(limit=format_number(MAX_FILE_BYTES))
        raise RulesInvalid([RuleError(file, 1, 1, message)])
    deep = too_deep(text)
    if deep is not None:
        message = _("arrays or tables nested more than {depth} deep").format(depth=MAX_TOML_NESTING)
        raise RulesInvalid([RuleError(file, deep[0], deep[1], message)])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesInvalid([toml_error(file, text, error)]) from None
    except RecursionError:  # nesting the scan above did not see: still an error, not a crash
        message = _("arrays or tables nested more than {depth} deep").format(depth=MAX_TOML_NESTING)
        raise RulesInvalid([RuleError(file, 1, 1, message)]) from None
    check = Checker(file, Locator(text), [])
    check.unknown_keys(data, TOP_LEVEL, (), _("the rules file"))
    version = check.typed(data, "version", (str,), (), "version") or ""
    policy = _policy(check, data.get("policy", {}))
    raw_offers = data.get("offer", [])
    if not isinstance(raw_offers, list):
        check.key_error(("offer",), _("offers are written as [[offer]] tables"))
        raw_offers = []
    if len(raw_offers) > MAX_OFFERS:
        check.key_error(("offer",), _("more than {limit} offers").format(limit=MAX_OFFERS))
    offers: list[Offer] = []
    seen: dict[str, int] = {}
    cost = 0
    for index, raw in enumerate(raw_offers[:MAX_OFFERS]):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw_id, str) and raw_id in seen:
            check.value_error(
                ("offer", index, "id"),
                _("duplicate offer id '{id}' (first used on line {line})").format(
                    id=raw_id, line=seen[raw_id]
                ),
            )
        elif isinstance(raw_id, str):
            seen[raw_id] = check.locator.key(("offer", index))[0]
        offer = _offer(check, raw, index)
        if offer is not None:
            offers.append(offer)
            cost += sum(c.cost for c in offer.conditions)
            if cost > MAX_FILE_COST:
                check.key_error(
                    ("offer", index),
                    _(
                        "the conditions up to this offer would cost about {cost} steps per "
                        "customer (at most {limit}): fewer or simpler conditions"
                    ).format(cost=format_number(cost), limit=format_number(MAX_FILE_COST)),
                )
                break
    if check.errors:
        raise RulesInvalid(sorted(check.errors, key=lambda e: (e.line, e.column)))
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    label = re.sub(r"\s+", "-", version.strip())[:60]
    paths = frozenset(p for o in offers for c in o.conditions for p in c.paths)
    version = f"{label}@{digest}" if label else digest
    reads = frozenset(
        o.id for o in offers if any(p.startswith("offer.") for c in o.conditions for p in c.paths)
    )
    return RuleSet(version, path, tuple(offers), policy, reads, paths)


def load_rules(path: FilePath | str | None = None) -> RuleSet:
    """Read and check a rules file; the example shipped with Frontline when `path` is empty.

    Returns:
        The rule set. Raises RulesInvalid (errors at file:line:column), also for a file that
        cannot be read.
    """
    target = FilePath(path) if path else EXAMPLE_RULES
    try:
        with target.open("rb") as stream:  # bounded: /dev/zero or a FIFO must not eat memory
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise RulesInvalid(
            [RuleError(str(target), 1, 1, _("cannot read: {reason}").format(reason=error.strerror))]
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        message = _("file larger than {limit} bytes").format(limit=format_number(MAX_FILE_BYTES))
        raise RulesInvalid([RuleError(str(target), 1, 1, message)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RulesInvalid(
            [
                RuleError(
                    str(target), 1, 1, _("not UTF-8 text: {reason}").format(reason=error.reason)
                )
            ]
        ) from None
    return parse_rules(text, str(target), target)


def _policy(check: Checker, raw: Any) -> Policy:
    path: Path = ("policy",)
    if not isinstance(raw, dict):
        check.key_error(path, _("policy must be a table: [policy]"))
        return Policy()
    check.unknown_keys(raw, POLICY_FIELDS, path, "policy")
    defaults = Policy()
    values: dict[str, Any] = {}
    mode = check.typed(raw, "arbitration", (str,), path, "arbitration")
    if mode is not None and mode not in ARBITRATION_MODES:
        hint = closest(mode, ARBITRATION_MODES)
        check.value_error(
            path + ("arbitration",),
            _("arbitration must be one of {choices}").format(choices=", ".join(ARBITRATION_MODES))
            + (_("; did you mean '{hint}'?").format(hint=hint) if hint else ""),
        )
    elif mode is not None:
        values["arbitration"] = mode
    flag = check.typed(
        raw, "marketing_requires_consent", (bool,), path, "marketing_requires_consent"
    )
    if flag is not None:
        values["marketing_requires_consent"] = flag
    for name, low in (
        ("decline_cooldown_days", 0),
        ("max_offers_per_call", 1),
        ("max_impressions_per_offer", 1),
        ("max_impressions_per_customer", 1),
        ("impression_window_days", 1),
    ):
        number = check.typed(raw, name, (int,), path, name)
        if number is not None and number < low:
            message = _("{name} must be at least {low}").format(name=name, low=low)
            check.value_error(path + (name,), message)
        elif number is not None:
            values[name] = number
    reasons = check.typed(raw, "decline_reasons", (list,), path, "decline_reasons")
    if reasons is not None:
        if not reasons or not all(isinstance(r, str) and r.strip() for r in reasons):
            message = _("decline_reasons must be a list of text")
            check.value_error(path + ("decline_reasons",), message)
        else:
            values["decline_reasons"] = tuple(r.strip() for r in reasons)
    return Policy(**{**defaults.__dict__, **values})


def _offer(check: Checker, raw: Any, index: int) -> Offer | None:
    path: Path = ("offer", index)
    line = check.locator.key(path)[0]
    if not isinstance(raw, dict):
        check.key_error(path, _("each offer must be a table"))
        return None
    before = len(check.errors)
    check.unknown_keys(raw, OFFER_FIELDS, path, "offer")
    offer_id = check.typed(raw, "id", (str,), path, "id")
    if offer_id is None and "id" not in raw:
        check.key_error(path, _("offer has no id"))
    elif offer_id is not None and not _ID.match(offer_id):
        check.value_error(
            path + ("id",),
            _("id {id}: use lower-case letters, digits, '-' and '_' (at most 80)").format(
                id=repr(offer_id)
            ),
        )
    title = check.typed(raw, "title", (str,), path, "title")
    if title is None and "title" not in raw:
        check.key_error(path, _("offer '{id}' has no title").format(id=offer_id or index + 1))
    kind = check.typed(raw, "kind", (str,), path, "kind") or "marketing"
    if kind not in OFFER_KINDS:
        message = _("kind must be one of {choices}").format(choices=", ".join(OFFER_KINDS))
        check.value_error(path + ("kind",), message)
    value = check.typed(raw, "value", (float,), path, "value")
    if value is not None and value < 0:
        check.value_error(path + ("value",), _("value must not be negative"))
    priority = check.typed(raw, "priority", (int,), path, "priority")
    cooldown = check.typed(raw, "cooldown_days", (int,), path, "cooldown_days")
    if cooldown is not None and cooldown < 0:
        check.value_error(path + ("cooldown_days",), _("cooldown_days must not be negative"))
    impressions = check.typed(raw, "max_impressions", (int,), path, "max_impressions")
    if impressions is not None and impressions < 1:
        check.value_error(path + ("max_impressions",), _("max_impressions must be at least 1"))
    description = check.typed(raw, "description", (str,), path, "description") or ""
    valid_from, valid_until, hours = _validity(check, raw.get("valid"), path)
    prior = _prior(check, raw.get("prior"), path)
    script = None
    source = check.typed(raw, "script", (str,), path, "script")
    if source is None and "script" not in raw:
        check.key_error(path, _("offer '{id}' has no script").format(id=offer_id or index + 1))
    elif source is not None:
        script, problems = parse_template(source)
        for problem in problems:
            check.at(check.locator.in_string(path + ("script",), problem.offset), problem.message)
    conditions = _conditions(check, raw.get("when"), path)
    if isinstance(offer_id, str) and _ID.match(offer_id):
        conditions = tuple(bind_to_offer(c, offer_id) for c in conditions)
    if len(check.errors) > before or script is None or offer_id is None or title is None:
        return None
    return Offer(
        id=offer_id, title=title, script=script, conditions=conditions, kind=kind,
        value=value or 0.0, valid_from=valid_from, valid_until=valid_until, hours=hours,
        priority=priority or 0, prior=prior, cooldown_days=cooldown,
        max_impressions=impressions, description=description, line=line,
    )  # fmt: skip


def _validity(
    check: Checker, raw: Any, path: Path
) -> tuple[date | None, date | None, tuple[int, int] | None]:
    if raw is None:
        return None, None, None
    where = path + ("valid",)
    if not isinstance(raw, dict):
        check.value_error(
            where, _("valid must be a table: valid = { from = 2026-01-01, until = 2026-12-31 }")
        )
        return None, None, None
    check.unknown_keys(raw, VALID_FIELDS, where, "valid")
    start = check.date(raw, "from", where, "valid.from")
    end = check.date(raw, "until", where, "valid.until")
    if start and end and end < start:
        message = _("valid.until {end} is before valid.from {start}").format(end=end, start=start)
        check.value_error(where + ("until",), message)
    hours = None
    text = check.typed(raw, "hours", (str,), where, "valid.hours")
    if text is not None:
        match = _HOURS.match(text.strip())
        if (
            not match
            or int(match.group(1)) > 24
            or int(match.group(3)) > 24
            or int(match.group(2)) > 59
            or int(match.group(4)) > 59
        ):
            check.value_error(
                where + ("hours",),
                _("valid.hours {text}: write HH:MM-HH:MM, e.g. 09:00-20:00").format(
                    text=repr(text)
                ),
            )
        else:
            hours = (
                int(match.group(1)) * 60 + int(match.group(2)),
                int(match.group(3)) * 60 + int(match.group(4)),
            )
    return start, end, hours


def _prior(check: Checker, raw: Any, path: Path) -> Prior:
    if raw is None:
        return Prior()
    where = path + ("prior",)
    if not isinstance(raw, dict):
        check.value_error(where, _("prior must be a table: prior = { rate = 0.10, weight = 50 }"))
        return Prior()
    check.unknown_keys(raw, PRIOR_FIELDS, where, "prior")
    rate = check.typed(raw, "rate", (float,), where, "prior.rate")
    weight = check.typed(raw, "weight", (float,), where, "prior.weight")
    if rate is not None and not 0 < rate < 1:
        check.value_error(where + ("rate",), _("prior.rate must be between 0 and 1 (exclusive)"))
    if weight is not None and weight <= 0:
        check.value_error(where + ("weight",), _("prior.weight must be more than 0"))
    default = Prior()
    return Prior(rate if rate is not None else default.rate, weight or default.weight)


def _conditions(check: Checker, raw: Any, path: Path) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    where = path + ("when",)
    if not isinstance(raw, dict):
        check.value_error(where, _("when must be a table of named conditions: [offer.when]"))
        return ()
    if len(raw) > MAX_CONDITIONS:
        check.key_error(where, _("more than {limit} conditions").format(limit=MAX_CONDITIONS))
    out = []
    for name, source in list(raw.items())[:MAX_CONDITIONS]:
        if not isinstance(source, str):
            check.value_error(
                where + (name,),
                _(
                    "wrong type: condition '{name}' must be text "
                    "(a CEL expression in quotes), not {kind}"
                ).format(name=name, kind=type_name(source)),
            )
            continue
        condition, problems = compile_condition(name, source)
        for problem in problems:
            position = check.locator.in_string(where + (name,), problem.offset)
            check.at(
                position,
                _("condition '{name}': {problem}").format(name=name, problem=problem.message),
            )
        if condition is not None:
            out.append(condition)
    return tuple(out)
