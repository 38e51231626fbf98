"""`make eval`: how often the routing tree agrees with the labelled evaluation set, and what deciding costs.

Agreement is printed for the held-out part (never tuned on), overall and per class, language and kind, and for
the tuning part. `--misses` lists the tuning part's misses, with the classifier's reason: never the held-out
part's, which would make it a tuning set. Timing is features plus decision in process for a 1k-token chat
prompt, cold (text never seen) and warm (seen before), as `make bench`'s routing_cost suite measures it.

Exits 1 when held-out agreement is under TARGET or the 1k-token p50s are over their budgets.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import orjson
from starlette.datastructures import Headers

from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.json_body import parse_json_body
from gateway.routing.router import Router
from tests.bench.prose import summary_prompt
from tests.bench.stats import percentile
from tests.eval.routes import Outcome, route, shipped_router
from tests.eval.rows import EvalRow, load_rows

TARGET = 0.97
WARM_P50_MS, COLD_P50_MS = 0.2, 0.6
Scored = tuple[EvalRow, Outcome, bool]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the tuning part's misses")
    args = parser.parse_args(argv)
    router = shipped_router()
    rows = load_rows()
    scored = asyncio.run(score(router, rows))
    print(
        f"{len(rows):,} labelled requests: " + ", ".join(f"{n} {s}" for s, n in Counter(r.split for r in rows).items())
    )
    held_out = [entry for entry in scored if entry[0].split == "holdout"]
    tuning = [entry for entry in scored if entry[0].split == "tuning"]
    agreement = report("held-out", held_out)
    report("tuning", tuning)
    if args.misses:
        print("\ntuning misses:")
        for row, outcome, _ in (entry for entry in tuning if not entry[2]):
            print(f"  {row.source} want {row.category}: got {outcome.describe()}\n    {_last_user_text(row)!r}")
    timing = asyncio.run(time_routing(router))
    print("\nfeatures + decision, in process, 1k-token chat prompt   p50 ms    p99 ms")
    for name, (p50, p99) in timing.items():
        print(f"  {name:<52} {p50:>7.3f}  {p99:>8.3f}")
    passed = agreement >= TARGET and timing["warm"][0] <= WARM_P50_MS and timing["cold"][0] <= COLD_P50_MS
    print(
        f"\n{'PASS' if passed else 'FAIL'}: held-out agreement {agreement:.3f} (target {TARGET}), "
        f"1k p50 warm {timing['warm'][0]:.3f} ms (≤ {WARM_P50_MS}), cold {timing['cold'][0]:.3f} ms (≤ {COLD_P50_MS})"
    )
    return 0 if passed else 1


async def score(router: Router, rows: Iterable[EvalRow]) -> list[Scored]:
    scored = []
    for row in rows:
        outcome = await route(router, row)
        if row.category == "limits":
            agrees = outcome.meets(row)
        else:
            agrees = outcome.matches(await route(router, row, task_class=row.category))
        scored.append((row, outcome, agrees))
    return scored


def report(name: str, scored: list[Scored]) -> float:
    overall = _share(scored)
    print(f"\n{name}: {overall:.3f} of {len(scored)}")
    by: list[tuple[str, Callable[[EvalRow], str]]] = [
        ("class", lambda row: row.category),
        ("language", lambda row: row.lang),
        ("kind", lambda row: row.kind),
    ]
    for title, key in by:
        groups: dict[str, list[Scored]] = defaultdict(list)
        for entry in scored:
            groups[key(entry[0])].append(entry)
        cells = ", ".join(f"{group} {_share(items):.3f} ({len(items)})" for group, items in sorted(groups.items()))
        print(f"  per {title}: {cells}")
    return overall


def _share(scored: list[Scored]) -> float:
    return sum(agrees for _, _, agrees in scored) / len(scored) if scored else 0.0


def _last_user_text(row: EvalRow) -> str:
    messages = row.body.get("messages") or []
    users = [message.get("content") for message in messages if message.get("role") == "user"]
    text = users[-1] if users else row.body.get("input", "")
    return str(text)[:160]


async def time_routing(router: Router, rounds: int = 400) -> dict[str, tuple[float, float]]:
    """Cold: every prompt new to the token cache; warm: the same prompts again (a multi-turn chat resends its
    history). The first route of each code path is left out of both."""
    timings = {}
    await router.route(_prompt_body(-1), Headers({}))
    bodies = [_prompt_body(salt) for salt in range(rounds)]
    for name in ("cold", "warm"):
        samples = []
        for body in bodies:
            started = time.perf_counter()
            await router.route(body, Headers({}))
            samples.append((time.perf_counter() - started) * 1000)
        timings[name] = (percentile(samples, 50), percentile(samples, 99))
    return timings


def _prompt_body(salt: int):  # type: ignore[no-untyped-def]
    payload = {"model": "auto", "messages": [{"role": "user", "content": summary_prompt(1000, salt)}]}
    return parse_json_body(ENDPOINTS["chat/completions"], "application/json", orjson.dumps(payload))


if __name__ == "__main__":
    sys.exit(main())
