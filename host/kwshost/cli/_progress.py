"""The progress bar every long command shows."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress


def progress_bar(transient: bool = False) -> Progress:
    """A rich progress bar on stderr, so stdout holds only the command's output (`evaluate
    --json | jq`). Drawn only on a terminal: elsewhere (a log, a pipe, a test) rich would write
    the bar once at the end, or a blank line where no task had started (before an error)."""
    console = Console(stderr=True)
    return Progress(console=console, transient=transient, disable=not console.is_terminal)
