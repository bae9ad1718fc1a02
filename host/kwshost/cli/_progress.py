"""The progress bar every long command shows."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress


def progress_bar(transient: bool = False) -> Progress:
    """A rich progress bar on stderr, so stdout holds only the command's output (`evaluate
    --json | jq`). Off a terminal rich draws only the final bar, at the end; a transient bar
    would leave a blank line there instead, so it is not drawn at all."""
    console = Console(stderr=True)
    return Progress(console=console, transient=transient,
                    disable=transient and not console.is_terminal)
