"""Time-ordered UUIDs (version 7), so new rows cluster at the end of indexes."""

import os
import threading
import time
import uuid

_POOL_BYTES = 10 * 512  # random bytes read at once: one system call per 512 ids, not per id
_pool = threading.local()
# A forked child must not hand out the rest of its parent's block again.
os.register_at_fork(after_in_child=lambda: _pool.__dict__.clear())


def _random80() -> int:
    """80 bits from the operating system's generator, read in blocks per thread."""
    at = getattr(_pool, "at", _POOL_BYTES)
    if at >= _POOL_BYTES:
        _pool.data, at = os.urandom(_POOL_BYTES), 0
    _pool.at = at + 10
    return int.from_bytes(_pool.data[at : at + 10], "big")


def new_id() -> uuid.UUID:
    ms = time.time_ns() // 1_000_000
    rand = _random80()  # both random fields
    rand_a = (rand >> 64) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = ((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    # uuid.UUID(int=…) re-checks the range and the keyword combinations; the value is valid by
    # construction, so fill the slots directly (as UUID.__init__ does), several times faster.
    out = object.__new__(uuid.UUID)
    object.__setattr__(out, "int", value)
    object.__setattr__(out, "is_safe", uuid.SafeUUID.unknown)
    return out
