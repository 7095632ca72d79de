"""Time-ordered UUIDs (version 7), so new rows cluster at the end of indexes."""

import os
import time
import uuid


def new_id() -> uuid.UUID:
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # one system call for both random fields
    rand_a = (rand >> 64) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = ((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    # uuid.UUID(int=…) re-checks the range and the keyword combinations; the value is valid by
    # construction, so fill the slots directly (as UUID.__init__ does), several times faster.
    out = object.__new__(uuid.UUID)
    object.__setattr__(out, "int", value)
    object.__setattr__(out, "is_safe", uuid.SafeUUID.unknown)
    return out
