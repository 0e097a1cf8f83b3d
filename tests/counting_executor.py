"""An executor that counts the tasks it hands on (tests of the work planned side by side on Dask)."""

from __future__ import annotations

from concurrent.futures import Executor, Future
from typing import Any


class CountingExecutor(Executor):
    """Hands every task to ``inner`` and counts them in ``tasks``, and by function name in ``by_name``."""

    def __init__(self, inner: Executor) -> None:
        self.inner, self.tasks = inner, 0
        self.by_name: dict[str, int] = {}

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks += 1
        self.by_name[fn.__name__] = self.by_name.get(fn.__name__, 0) + 1
        return self.inner.submit(fn, *args, **kwargs)
