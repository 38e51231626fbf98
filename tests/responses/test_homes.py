from __future__ import annotations

from gateway.responses.homes import MemoryHomes


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_homes_remember_forget_and_expire() -> None:
    clock = Clock()
    homes = MemoryHomes(lifetime_seconds=60, clock=clock)
    await homes.remember("resp_a", "east/gpt-4.1")
    assert await homes.home_of("resp_a") == "east/gpt-4.1"
    assert await homes.home_of("resp_b") is None
    clock.now += 59.9
    assert await homes.home_of("resp_a") == "east/gpt-4.1"
    clock.now += 0.1
    assert await homes.home_of("resp_a") is None  # Azure has deleted it by now
    await homes.remember("resp_c", "west/gpt-4.1")
    await homes.forget("resp_c")
    assert await homes.home_of("resp_c") is None


async def test_memory_homes_forget_the_oldest_beyond_their_bound() -> None:
    homes = MemoryHomes(max_entries=2)
    for name in ("resp_1", "resp_2", "resp_3"):
        await homes.remember(name, "east/" + name)
    assert [await homes.home_of(name) for name in ("resp_1", "resp_2", "resp_3")] == [
        None,
        "east/resp_2",
        "east/resp_3",
    ]
