from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from gateway.observe.routing_log import RECENT_LINES, RequestRecord, RoutingLog
from tests.support.features import chat_features

FIELDS = {
    "request_id", "endpoint", "time", "key_id", "model_requested", "features", "path", "notes", "prompt_tokens",
    "model", "deployment", "stream", "status", "upstream_status", "attempts", "error", "latency_ms", "bytes_out",
    "usage", "cost_usd", "realtime",
}  # fmt: skip


def test_a_new_record_is_stamped_and_otherwise_empty() -> None:
    record = RequestRecord("req-1", "chat/completions")
    line = orjson.loads(record.as_json())
    assert set(line) == FIELDS  # `started` is the gateway's own clock: never logged
    assert (line["request_id"], line["endpoint"], line["stream"]) == ("req-1", "chat/completions", False)
    assert all(line[name] is None for name in FIELDS - {"request_id", "endpoint", "time", "stream"})
    stamped = datetime.fromisoformat(line["time"])
    assert stamped.utcoffset() is not None and stamped.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert len(line["time"].split(".")[1]) == len("000+00:00")  # milliseconds


def test_the_cost_is_written_beside_the_usage_it_prices() -> None:
    record = RequestRecord("req-1", "chat/completions")
    record.usage, record.cost_usd = {"prompt_tokens": 1000, "completion_tokens": 10}, 0.00208
    line = orjson.loads(record.as_json())
    assert line["cost_usd"] == 0.00208
    assert list(line).index("cost_usd") == list(line).index("usage") + 1


def test_finish_sets_status_and_latency_from_the_start() -> None:
    record = RequestRecord("req-1", "embeddings")
    record.started = time.perf_counter() - 0.25
    record.finish(200)
    assert record.status == 200 and record.error is None
    assert record.latency_ms is not None and 250 <= record.latency_ms < 60_000
    assert round(record.latency_ms, 3) == record.latency_ms


def test_finish_keeps_an_earlier_error_unless_given_one() -> None:
    record = RequestRecord("req-1", "chat/completions", error="client disconnected")
    record.finish(200)
    assert record.error == "client disconnected"
    record.finish(502, "upstream_unreachable")
    assert (record.status, record.error) == (502, "upstream_unreachable")


def test_nested_values_are_written_as_json() -> None:
    record = RequestRecord(
        "req-1",
        "chat/completions",
        key_id="team-a",
        features={"task": "chat", "latency": "low"},
        path=[{"node": "coding", "answer": "no", "reason": "no code"}],
        attempts=[{"model": "gpt-4.1", "deployment": "east/gpt-4.1", "status": 429, "latency_ms": 1.5}],
        usage={"total_tokens": 7},
        stream=True,
    )
    line = orjson.loads(record.as_json())
    assert line["features"] == {"task": "chat", "latency": "low"}
    assert line["path"] == [{"node": "coding", "answer": "no", "reason": "no code"}]
    assert line["attempts"][0]["status"] == 429 and line["usage"] == {"total_tokens": 7}
    assert (line["key_id"], line["stream"]) == ("team-a", True)


def test_a_file_log_appends_one_line_per_record(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    path.write_bytes(b'{"earlier": true}\n')
    log = RoutingLog(str(path))
    for number in range(3):
        record = RequestRecord(f"req-{number}", "embeddings")
        record.finish(200)
        log.write(record)
    # Flushed at once, before close: operators tail the file live.
    lines = path.read_bytes().splitlines()
    assert [orjson.loads(line).get("request_id") for line in lines] == [None, "req-0", "req-1", "req-2"]
    log.close()
    assert path.read_bytes().count(b"\n") == 4


def test_closing_a_file_log_closes_the_file(tmp_path: Path) -> None:
    log = RoutingLog(str(tmp_path / "routing.log"))
    log.close()
    with pytest.raises(ValueError, match="closed file"):
        log.write(RequestRecord("req-1", "embeddings"))


def test_a_log_into_a_missing_directory_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        RoutingLog(str(tmp_path / "absent" / "routing.log"))


def test_stdout_gets_the_lines_and_is_never_closed(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    log = RoutingLog("stdout")
    log.write(RequestRecord("req-1", "audio/speech"))
    log.close()
    log.write(RequestRecord("req-2", "audio/speech"))  # still open
    written = capsysbinary.readouterr().out
    assert [orjson.loads(line)["request_id"] for line in written.splitlines()] == ["req-1", "req-2"]


def test_every_line_written_is_also_kept_live_as_written(tmp_path: Path) -> None:
    path = tmp_path / "routing.log"
    log = RoutingLog(str(path), recent_lines=2)
    for number in range(3):
        record = RequestRecord(f"req-{number}", "embeddings", key_id="team-a")
        record.finish(200)
        log.write(record)
    assert log.live.recent == path.read_bytes().splitlines()[1:]  # the same bytes, the newest two
    log.close()


def test_the_live_ring_holds_a_thousand_lines_unless_told(tmp_path: Path) -> None:
    log = RoutingLog(str(tmp_path / "routing.log"))
    for number in range(RECENT_LINES + 5):
        log.write(RequestRecord(f"req-{number}", "embeddings"))
    recent = log.live.recent
    assert RECENT_LINES == 1000 and len(recent) == RECENT_LINES
    assert orjson.loads(recent[0])["request_id"] == "req-5"
    log.close()


async def test_closing_the_log_ends_its_live_watchers(tmp_path: Path) -> None:
    log = RoutingLog(str(tmp_path / "routing.log"))
    with log.live.watch() as watcher:
        log.close()
        assert watcher.closed
        assert (await watcher.take(3600)).lines == []


def test_a_records_time_is_utc_iso_8601_to_the_millisecond_as_datetime_writes_it() -> None:
    before = datetime.now(UTC)
    stamps = [RequestRecord("r", "chat/completions").time for _ in range(3)]
    after = datetime.now(UTC)
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", stamp)
        assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= datetime.fromisoformat(stamp) <= after


def test_a_routed_requests_features_are_written_as_their_dict_would_be() -> None:
    features = chat_features(latency="low", needs=frozenset({"tools", "image_input", "json_schema"}))
    as_object, as_dict = RequestRecord("r", "chat/completions"), RequestRecord("r", "chat/completions")
    as_dict.time = as_object.time
    as_object.features, as_dict.features = features, features.as_dict()
    assert as_object.as_json() == as_dict.as_json()
    assert orjson.loads(as_object.as_json())["features"]["needs"] == ["image_input", "json_schema", "tools"]
