"""Start the console: the screen at once; the database check and the services in the background.

The agent can type as soon as the screen is drawn: the heavy imports (database layer,
analytics, rules) and the database check (migrated when new, refused when out of date) run
in a thread meanwhile (ConsoleApp._load), and the search answers once they are done.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from console.i18n import _

if TYPE_CHECKING:
    from core.config import Settings
    from core.services import Services


def settle_identity(settings: Settings, as_key: str | None) -> Settings:
    """The settings with who is acting settled (core/identity.py); exits 2 if refused."""
    import sys
    from dataclasses import replace

    from core.identity import IdentityRefused, resolve

    ids = settings.identity_settings
    try:
        identity = resolve(
            settings.agent,
            trust_typed=ids.trust_agent_env,
            as_key=as_key or "",
            key_account=ids.key_account,
            admins=ids.admins,
        )
    except IdentityRefused as refused:
        print(f"frontline: {refused}", file=sys.stderr)  # noqa: T201 - before any UI exists
        sys.exit(2)
    if settings.agent and not as_key and identity.name != settings.agent:  # said, not ignored
        print(  # noqa: T201 - before any UI exists
            f"frontline: warning: the typed name {settings.agent!r} (--agent, FRONTLINE_AGENT)"
            f" is ignored without FRONTLINE_TRUST_AGENT_ENV=1: acting as {identity.name}",
            file=sys.stderr,
        )
    return replace(settings, identity=identity)


def forced_subcommand(as_key: str | None) -> list[str]:
    """What an SSH client asked for when its key forces `frontline --as-key NAME`.

    `ssh branch@host lookup "ana garcia"` puts `lookup "ana garcia"` in SSH_ORIGINAL_COMMAND;
    it runs as a subcommand, as the key's person. Global options (`--agent`, `--as-key`)
    are refused: the key decides who you are.
    """
    import os
    import shlex

    if not as_key:
        return []
    try:
        words = shlex.split(os.environ.get("SSH_ORIGINAL_COMMAND", ""))
    except ValueError:
        words = []
    if words[:1] == ["frontline"]:
        words = words[1:]
    if words and words[0].startswith("-"):
        import click

        raise click.UsageError(_("options before the command are not allowed over this key"))
    return words


class DatabaseProblem(Exception):
    """The database cannot be used as it is (unreachable, or an older schema)."""


def load_services(settings: Settings) -> Services:
    """Check (or create) the database and build the services. Blocking: run it in a thread."""
    try:
        from core.db import prepare_database

        problem = asyncio.run(prepare_database(settings.resolved_database_url))
    except Exception as error:  # noqa: BLE001 - a clear message beats a traceback here
        raise DatabaseProblem(
            _("cannot open the database {url}: {error}").format(
                url=settings.display_database_url, error=error
            )
        ) from error
    if problem:
        raise DatabaseProblem(problem)
    from core.services import make_services

    return make_services(settings)


def open_console(settings: Settings, caller: str | None = None) -> int:
    """Run the console until the agent quits; the exit status for the shell."""
    import gc
    import sys

    from console.app import ConsoleApp
    from console.key_names import check_keymap

    # What is imported by now (Textual, the screens) lives as long as the console. Frozen, the
    # collector's first full pass, which fell in the middle of the first frame (about 40 ms
    # of CPU on the shared 2-core machine), has none of it to walk.
    gc.freeze()
    for problem in check_keymap(settings.console.keymap)[1]:  # told on screen too
        print(_("frontline: warning: {problem}").format(problem=problem), file=sys.stderr)  # noqa: T201 - before the UI
    app = ConsoleApp(
        lambda: load_services(settings),
        agent_name=settings.who.name,  # the OS login or SSH key, never a typed name
        caller=caller,
        settings=settings,
    )
    app.run()
    return app.return_code or 0
