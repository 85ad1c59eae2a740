"""The error a caller must fix, and how a caller's value is quoted back in it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

MAX_SHOWN = 80
"""Characters of a caller's value quoted in a message: messages are returned and logged."""
MAX_LISTED = 10
"""Items of a caller's list (unknown keys, say) named in a message."""


class ValidationError(Exception):
    """Input the caller must fix: answered as data, never retried, nothing started."""


def shown(value: object) -> str:
    """`repr(value)` cut to MAX_SHOWN characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else f"{text[: MAX_SHOWN - 3]}..."


def listed(values: Sequence[object], show: Callable[[object], str] = shown) -> str:
    """The first MAX_LISTED values, each shown (quoted unless `show` says otherwise), and how
    many more there are."""
    head = ", ".join(show(value) for value in values[:MAX_LISTED])
    rest = len(values) - MAX_LISTED
    return f"{head} and {rest} more" if rest > 0 else head
