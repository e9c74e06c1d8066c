"""A bounded cache of response bodies that never change under their key: a done briefing's JSON (by its
id), a reading page (by its path and the stored digest's last change); reads skip the database."""

from __future__ import annotations

import threading
from collections import OrderedDict


class DoneCache:
    """Least-recently-used bytes by key, thread-safe."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """Return the cached body, or None."""
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        """Cache a body, evicting the least recently used beyond capacity."""
        if self.capacity <= 0:
            return
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
