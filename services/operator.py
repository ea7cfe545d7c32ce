"""Who runs a `radar` command on the host, as the access log records it: the OS account
(getpass), the name given with `--operator`, and the role they act in."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from privacy.actors import AnalystRole, Operator
from radar.free_text import FreeTextError, checked_text

MAX_OPERATOR_LENGTH = 100
"""A person's name or staff number; more is not a name."""

OperatorName = Annotated[
    str | None,
    typer.Option(
        "--operator",
        help="Who runs this (name or staff number; logged with the OS user, no identifiers).",
    ),
]


def command_operator(name: str | None, role: AnalystRole) -> Operator:
    """The operator of this command; a name that is empty, too long or holds an identifier is
    refused (exit 2) before anything is read or written."""
    return Operator(getpass.getuser(), role, checked_name(name))


def checked_name(name: str | None, option: str = "--operator") -> str | None:
    """A person's name given on the command line, refused (exit 2) when empty, too long or
    holding an identifier."""
    if name is None:
        return None
    try:
        return checked_text(name, option, MAX_OPERATOR_LENGTH)
    except FreeTextError as error:
        raise typer.BadParameter(str(error), param_hint=option) from None
