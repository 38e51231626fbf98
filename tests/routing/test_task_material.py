from __future__ import annotations

import pytest

from gateway.routing import task_classifier
from gateway.routing.task_classifier import classify_task
from gateway.routing.task_material import text_task_instruction


@pytest.mark.parametrize(
    ("text", "instruction"),
    [
        (
            "tag each ticket with a product area:\n- login returns 500 error\n- app crashes on startup after update",
            "tag each ticket with a product area",
        ),
        (  # the quote opens inside the instruction; the colon after it starts the material
            "把跟『服務可用率』相關的條款抽出來：「第五條 服務可用率：乙方保證每月服務可用率不低於 99.95%，"
            "計算方式為總分鐘數」",
            "把跟『服務可用率』相關的條款抽出來",
        ),
        (  # the instruction after the material
            "关键词：闪退、耗电、广告多、闪退、登录不上、耗电、闪退、广告多。帮我统计每类出现了几次。",
            "帮我统计每类出现了几次。",
        ),
        (
            "rewrite this pull request description as release notes.\n\n'refactor the payment client, drop old path'",
            "rewrite this pull request description as release notes.",
        ),
    ],
)
def test_a_text_task_and_its_material(text: str, instruction: str) -> None:
    assert text_task_instruction(text) == (instruction, False)


@pytest.mark.parametrize(
    ("text", "instruction"),
    [
        (
            'turn these commit messages into a haiku for our channel:\n\n"fix flaky test (again)"\n"revert it"',
            "turn these commit messages into a haiku for our channel",
        ),
        (
            "根据下面这段事故复盘，写一篇小红书风格的日记：\n\n周五 18:30 发布新版本，19:10 支付超时，回滚后恢复",
            None,
        ),
    ],
)
def test_creative_writing_about_the_material_is_told_apart(text: str, instruction: str | None) -> None:
    found = text_task_instruction(text)
    assert found is not None and found[1] is True
    if instruction is not None:
        assert found[0] == instruction


def test_a_creative_task_on_technical_material_reads_as_creative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_classifier, "TASK_MODEL", None)
    shanty = (
        "Turn the timeline from our outage postmortem into a sea shanty for the retro:\n\n02:04 disk on db-3 hits "
        "100%\n02:11 replication lag alert, postgres primary stops accepting writes\n02:30 failover to db-4"
    )
    verdict = classify_task(shanty)
    assert verdict.task_class == "creative"
    assert "creative writing about given material" in verdict.reason


@pytest.mark.parametrize(
    "text",
    [
        "why does this throw:\n\ntypeerror: cannot read property 'map' of undefined at render (app.js:10:5)",
        "translate this python script to go:\n\nimport sys\nfor line in sys.stdin:\n    print(line.upper())",
        "下面是 nginx access log，帮我写个 awk（或者 shell 管道）命令统计每个 ip 的请求数：\n\n203.0.113.5 - - [may]",
        "fix the bug in this summary function:\n\ndef summarise(xs): return sum(xs) / len(xs) if xs else None",
        "summarise",  # no material
        "tag these: x",  # too little material to be any
    ],
)
def test_work_on_the_material_as_code_or_no_material_is_not_a_text_task(text: str) -> None:
    assert text_task_instruction(text) is None


def test_the_material_s_technical_words_count_for_little(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_classifier, "TASK_MODEL", None)
    tickets = (
        "Sort these Jira ticket titles into three buckets: Frontend, Backend, Infra.\n\n- Button alignment broke "
        "on Safari\n- Orders export API times out\n- Database disk at 92%\n- Rotate the TLS certificate on nginx"
    )
    verdict = classify_task(tickets)
    assert verdict.task_class == "general"
    assert "technical words only as material" in verdict.reason
    debugging = "Why does the orders export API time out?\n\n- nginx: upstream timed out (110: Connection timed out)"
    assert classify_task(debugging).task_class == "code"
