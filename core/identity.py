"""Who is using Frontline: from the operating system or an administrator's SSH key, never typed.

`$USER` and `--agent` are whatever the user typed, so they are honoured only where the
administrator allows it (`FRONTLINE_TRUST_AGENT_ENV=1`: demos, tests). A key login names its
person with `--as-key NAME` in the key's forced command (docs/ssh.md), honoured only when
the process runs as the account set aside for key logins.
"""

from __future__ import annotations

import os
import pwd
import sys
from dataclasses import dataclass
from enum import StrEnum

from core.i18n import words as _


class IdentitySource(StrEnum):
    OS = "os"
    """The operating system's login of the process."""
    SSH_KEY = "ssh-key"
    """The name an administrator fixed for an SSH key (`--as-key` in its forced command)."""
    TYPED = "typed"
    """`--agent` or FRONTLINE_AGENT, trusted because FRONTLINE_TRUST_AGENT_ENV=1."""


class IdentityRefused(Exception):
    """The asked-for identity cannot be taken (`--as-key` outside the key account)."""


@dataclass(frozen=True)
class Identity:
    """Who is acting, how we know, and from where."""

    name: str
    source: IdentitySource
    place: str
    """Where from: the SSH client's address, else the terminal, else "local"."""
    os_admin: bool = False
    """An administrator of this machine's Frontline (root, or listed in FRONTLINE_ADMINS)."""


def os_login() -> str:
    """The login of the process's effective user, as the system knows it (not `$USER`)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without a passwd entry (some containers)
        return f"uid{os.geteuid()}"


def place() -> str:
    """Where this process is used from, for the audit trail."""
    connection = os.environ.get("SSH_CONNECTION", "").split()
    if connection:
        return f"ssh {connection[0]}"
    for stream in (sys.stdin, sys.stdout):
        try:
            return os.ttyname(stream.fileno())
        except (OSError, ValueError, AttributeError):
            continue
    return "local"


def resolve(
    typed: str = "",
    *,
    trust_typed: bool = False,
    as_key: str = "",
    key_account: str = "",
    admins: tuple[str, ...] = (),
) -> Identity:
    """The identity of this process.

    Args:
        typed: `--agent` or FRONTLINE_AGENT (empty when not given).
        trust_typed: FRONTLINE_TRUST_AGENT_ENV: take `typed` at its word.
        as_key: the name from an SSH key's forced command (`--as-key`).
        key_account: the OS account whose keys all carry a forced command.
        admins: OS logins that administer Frontline (root always does).

    Returns:
        The identity; raises IdentityRefused for `--as-key` outside the key account.
    """
    login = os_login()
    where = place()
    if as_key:
        if not key_account or login != key_account:
            raise IdentityRefused(
                _("--as-key is only for the SSH key account set in FRONTLINE_KEY_ACCOUNT")
            )
        return Identity(as_key, IdentitySource.SSH_KEY, where)
    if typed and trust_typed:
        return Identity(typed, IdentitySource.TYPED, where)
    is_admin = os.geteuid() == 0 or login in admins
    # The key account is shared by everyone who holds a key: never an administrator.
    return Identity(login, IdentitySource.OS, where, os_admin=is_admin and login != key_account)
