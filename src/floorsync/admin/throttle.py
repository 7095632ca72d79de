"""Sign-in throttling: after N failed sign-ins from one client address within a window, further
attempts from it are refused (429) until the window has passed, so an admin key can't be
guessed online. Kept in memory, per process: with several API processes each counts on its own,
which still bounds guessing to N × processes per window (and a key has 128 random bits).
A successful sign-in does not reset the count: holding one valid key must not buy unlimited
guesses at others."""

import threading
from collections import OrderedDict, deque
from datetime import timedelta

from floorsync.kit.clock import Clock

# Addresses remembered at most; the least recently failing are forgotten first.
MAX_CLIENTS = 10_000


class LoginThrottle:
    def __init__(self, attempts: int, window: timedelta, clock: Clock) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.get(client, deque())
        while times and times[0] <= now - self.window.total_seconds():
            times.popleft()
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it may try now."""
        now = self.clock.now().timestamp()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.attempts:
                return None
            return max(1, int(times[0] + self.window.total_seconds() - now + 0.999))

    def failed(self, client: str) -> None:
        now = self.clock.now().timestamp()
        with self._lock:
            times = self._recent(client, now)
            times.append(now)
            self._failures[client] = times
            self._failures.move_to_end(client)
            while len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)
