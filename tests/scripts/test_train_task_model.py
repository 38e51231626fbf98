from __future__ import annotations

from pathlib import Path

from scripts.train_task_model import OUTPUT, main, training_rows
from tests.eval.rows import EvalRow, load_rows


def test_the_shipped_model_is_what_the_script_trains_from_the_repository(tmp_path: Path) -> None:
    written = tmp_path / "model.json"
    main(["--output", str(written)])
    assert written.read_text(encoding="utf-8") == OUTPUT.read_text(encoding="utf-8")


def test_the_held_out_part_and_request_level_rows_are_never_trained_on() -> None:
    rows = load_rows()
    trained = training_rows(rows)
    assert trained and all(row.split == "tuning" for row in trained)
    assert {row.category for row in trained} == {"code", "creative", "general"}
    held_out = [row for row in rows if row.split == "holdout"]
    assert held_out and not {id(row) for row in held_out} & {id(row) for row in trained}
    limits = EvalRow("x", "tuning", "limits", "en", "window", "embeddings", {"model": "auto", "input": "x"})
    assert training_rows([limits]) == []
