"""Shared body of commands that a later issue fills in."""

from kwshost.errors import KwsError


def not_yet(command: str, issue: int) -> int:
    raise KwsError(f"`kwshost {command}` is not implemented yet (tracked in issue {issue})")
