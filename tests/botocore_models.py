"""botocore's service models, read once per test process instead of once per session.

Each `mock_aws()` gives boto3 a new default session, and each botocore session a new `Loader`
whose cache starts empty: every client a test made parsed its service's JSON models again
(about 3 ms a file, a dozen files a client, 140 clients in tests/functions/test_supervisor.py
alone). Every loader here shares one cache, keyed as botocore keys it plus the loader's class,
search paths and extras, so a loader looking elsewhere never gets another's answer. botocore
already hands the same cached objects to every client of a session, and changes them only in
ways a second client finds done (S3's request URIs lose their `/{Bucket}` once): sharing them
across sessions changes nothing a client sees.
"""

from __future__ import annotations

from typing import Any

from botocore import loaders

_SHARED: dict[tuple[Any, ...], Any] = {}


class _SharedCache:
    """The part of a dict `botocore.loaders.instance_cache` uses, over `_SHARED`."""

    def __init__(self, loader: loaders.Loader) -> None:
        self._loader = loader

    def _key(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        loader = self._loader
        return (type(loader), tuple(loader.search_paths), tuple(loader.extras_types), *key)

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        return self._key(key) in _SHARED

    def __getitem__(self, key: tuple[Any, ...]) -> Any:
        return _SHARED[self._key(key)]

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        _SHARED[self._key(key)] = value


def share() -> None:
    """Every `Loader` made from now on in this process reads through the shared cache."""
    if getattr(loaders.Loader.__init__, "shares_models", False):
        return
    original = loaders.Loader.__init__

    def __init__(self: loaders.Loader, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._cache = _SharedCache(self)  # type: ignore[assignment]

    __init__.shares_models = True  # type: ignore[attr-defined]
    loaders.Loader.__init__ = __init__  # type: ignore[method-assign]
