"""kit.ids.new_id reads its randomness in blocks per thread: ids stay unique across threads and
across a fork (a child never hands out the rest of its parent's block), and stay version-7."""

import os
import threading
import uuid

from floorsync.kit.ids import new_id


def test_ids_are_unique_version_7_across_threads() -> None:
    out: list[list[uuid.UUID]] = [[] for _ in range(4)]

    def draw(i: int) -> None:
        out[i].extend(new_id() for _ in range(3000))

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for chunk in out for i in chunk]
    assert len(set(ids)) == len(ids) == 12_000
    assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}


def test_a_forked_child_does_not_repeat_its_parents_randomness() -> None:
    new_id()  # the parent now holds a block it has only begun
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids, then leave without cleanup
        os.close(read)
        os.write(write, ",".join(str(new_id()) for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split(",")
    os.waitpid(pid, 0)
    parent = [str(new_id()) for _ in range(5)]
    # The same millisecond can come up in both; the random bits must differ.
    assert {c[14:] for c in child}.isdisjoint(p[14:] for p in parent)
    assert len(child) == 5
