from __future__ import annotations

import asyncio

from gateway.observe.live_lines import Batch, LiveLines

# Guards only: a watcher that is never woken fails the test here instead of hanging it.
NEVER = 3600.0
GUARD = 10.0


def lines(count: int, start: int = 0) -> list[bytes]:
    return [b'{"request_id":"req-%d"}' % number for number in range(start, start + count)]


def test_the_ring_keeps_only_the_newest_lines() -> None:
    live = LiveLines(3)
    for line in lines(5):
        live.add(line)
    assert live.recent == lines(3, start=2)


async def test_a_watcher_gets_the_ring_first_then_each_new_line_in_order() -> None:
    live = LiveLines(10)
    for line in lines(2):
        live.add(line)
    with live.watch() as watcher:
        assert await watcher.take(NEVER) == Batch(lines(2), 0)
        for line in lines(3, start=2):
            live.add(line)
        assert await watcher.take(NEVER) == Batch(lines(3, start=2), 0)


async def test_a_waiting_watcher_wakes_when_a_line_is_written() -> None:
    live = LiveLines(10)
    with live.watch() as watcher:
        taking = asyncio.create_task(watcher.take(NEVER))
        await asyncio.sleep(0)  # one turn of the loop: the task is now waiting for a line
        assert not taking.done()
        live.add(b'{"request_id":"req-0"}')
        async with asyncio.timeout(GUARD):
            assert await taking == Batch([b'{"request_id":"req-0"}'], 0)


async def test_a_quiet_wait_ends_empty() -> None:
    live = LiveLines(10)
    with live.watch() as watcher:
        assert await watcher.take(0.001) == Batch([], 0)


async def test_a_watcher_that_falls_behind_loses_its_oldest_lines_and_is_told_how_many() -> None:
    live = LiveLines(4)
    with live.watch() as slow, live.watch() as keeping_up:
        taken: list[bytes] = []
        for line in lines(10):
            live.add(line)
            taken += (await keeping_up.take(NEVER)).lines
        assert taken == lines(10)  # the slow watcher costs the other one nothing
        assert await slow.take(NEVER) == Batch(lines(4, start=6), dropped=6)
        live.add(b'{"request_id":"later"}')
        assert await slow.take(NEVER) == Batch([b'{"request_id":"later"}'], 0)  # counted once


async def test_a_watcher_joining_a_full_ring_may_fall_behind_by_the_ring_size() -> None:
    live = LiveLines(3)
    for line in lines(3):
        live.add(line)
    with live.watch() as watcher:
        live.add(b'{"request_id":"new"}')
        assert await watcher.take(NEVER) == Batch([*lines(2, start=1), b'{"request_id":"new"}'], dropped=1)


def test_watchers_are_forgotten_when_they_stop_and_cost_nothing_after() -> None:
    live = LiveLines(2)
    with live.watch(), live.watch():
        assert live.watching == 2
    assert live.watching == 0
    live.add(b"{}")
    assert live.recent == [b"{}"]


async def test_closing_wakes_every_watcher_with_what_it_has_pending() -> None:
    live = LiveLines(10)
    with live.watch() as waiting, live.watch() as behind:
        taking = asyncio.create_task(waiting.take(NEVER))
        await asyncio.sleep(0)  # the task is waiting
        live.add(b'{"request_id":"last"}')
        live.close()
        async with asyncio.timeout(GUARD):
            assert await taking == Batch([b'{"request_id":"last"}'], 0)
            assert await waiting.take(NEVER) == Batch([], 0)  # closed and drained: no wait at all
        assert waiting.closed and behind.closed
        assert await behind.take(NEVER) == Batch([b'{"request_id":"last"}'], 0)
