"""User-facing errors: the CLI prints their message (no traceback) and exits non-zero."""


class KwsError(Exception):
    """An error the user can act on. `exit_code` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class LinkError(KwsError):
    """The serial link could not be opened, timed out, or the peer is not kwshost firmware."""

    exit_code = 3


class ModelError(KwsError):
    """A model file is missing, malformed or unsupported."""


class AudioError(KwsError):
    """An audio file is missing, unreadable, truncated or empty."""


def run_script(main) -> None:
    """`raise SystemExit(main())` for scripts outside the CLI (bench/): a KwsError (a missing
    build, model or stream) is one line on stderr and its exit code, as the CLI prints it."""
    import sys

    try:
        code = main()
    except KwsError as e:
        print(f"error: {e}" + (f" ({e.hint})" if e.hint else ""), file=sys.stderr)
        raise SystemExit(e.exit_code) from None
    raise SystemExit(code)
