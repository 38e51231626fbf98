from __future__ import annotations

import pytest

from gateway.routing import task_classifier
from gateway.routing.conversation_text import Conversation
from gateway.routing.task_classifier import classify_task
from gateway.routing.task_turns import classify_conversation


# The turn reading is tested on the rules alone: the learned model's verdicts change whenever it is retrained.
@pytest.fixture(autouse=True)
def rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_classifier, "TASK_MODEL", None)


FUNCTION = "Why does this throw?\n```python\ndef avg(xs):\n    return sum(xs) / len(xs)\n```"


def classify(*turns: str, system: str = "") -> tuple[str, str]:
    verdict = classify_conversation(Conversation(turns, system), has_tools=False, structured_output=False)
    return verdict.task_class, verdict.reason


def test_one_turn_is_read_as_the_classifier_reads_it() -> None:
    alone = classify_task(FUNCTION)
    assert classify(FUNCTION) == (alone.task_class, alone.reason)


@pytest.mark.parametrize(
    ("turns", "task_class"),
    [
        ((FUNCTION, "write me a limerick about it"), "creative"),
        ((FUNCTION, "honestly my manager keeps yelling at me and I feel awful today"), "creative"),
        (("Write a poem about autumn leaves", FUNCTION), "code"),
        (("写一首关于秋天的诗", "帮我看看这个报错：TypeError: unsupported operand type(s) for +"), "code"),
    ],
)
def test_the_last_turn_decides_when_it_asks_something_new(turns: tuple[str, ...], task_class: str) -> None:
    got, reason = classify(*turns)
    assert got == task_class
    assert reason.startswith(f"the last user turn ({len(turns)} of {len(turns)}): ")


@pytest.mark.parametrize(
    ("turns", "task_class"),
    [
        ((FUNCTION, "now make it faster"), "code"),
        (("Tell me a joke about cats", "another one"), "creative"),
        (("写一首关于秋天的诗", "再来一首"), "creative"),
        (("帮我写一个快速排序的 Python 函数", "改成并发的"), "code"),
    ],
)
def test_a_follow_up_is_read_with_the_turn_it_follows(turns: tuple[str, ...], task_class: str) -> None:
    got, reason = classify(*turns)
    assert got == task_class
    assert reason.startswith("user turn 1 of 2, which the last (“")


def test_a_follow_up_looks_back_past_a_turn_that_decides_nothing() -> None:
    task_class, reason = classify(FUNCTION, "ok", "now make it faster")
    assert task_class == "code"
    assert reason.startswith("user turn 1 of 3, which the last (“now make it faster”) follows up: code block")


def test_a_follow_up_whose_earlier_turns_decide_nothing_says_so() -> None:
    task_class, reason = classify("hmm", "ok then")
    assert task_class == "general"
    assert reason.startswith("the last user turn (“ok then”) with the one before, neither decisive")


def test_a_long_last_turn_is_not_a_follow_up_however_it_starts() -> None:
    long_turn = "now tell me about the history of the Roman aqueducts and how the water reached the city " * 3
    assert classify(FUNCTION, long_turn)[1].startswith("the last user turn (2 of 2)")


def test_the_system_prompt_never_outvotes_a_clear_ask() -> None:
    assert classify("Write a birthday poem for my grandmother", system="You are a senior Python engineer.")[0] == (
        "creative"
    )
    assert classify(FUNCTION, system="You are a friendly poet and storyteller.")[0] == "code"


def test_the_system_prompt_settles_what_the_ask_leaves_open() -> None:
    ask = "top five customers by revenue last month"
    alone = classify(ask)[0]
    with_system = classify(ask, system="You are a PostgreSQL expert who writes SQL queries for our database.")[0]
    assert (alone, with_system) == ("general", "code")


def test_no_turns_at_all() -> None:
    assert classify()[0] == "general"


DESIGN = "Design a rate limiter for our API gateway: 10k requests per second per tenant, shared across 40 nodes."


def test_a_short_question_pointing_back_is_a_follow_up() -> None:
    task_class, reason = classify(DESIGN, "how would that change at 100x the traffic?")
    assert task_class == "code"
    assert reason.startswith("user turn 1 of 2, which the last (“how would that change at 100x the traff…”)")


def test_a_turn_that_says_it_asks_something_else_is_not_a_follow_up() -> None:
    joke = "Tell me a joke about penguins"
    task_class, reason = classify(joke, "ok, serious question: how many days of paid leave do I get in Germany?")
    assert reason.startswith("the last user turn (2 of 2)")
    assert task_class == "general"


def test_a_request_of_its_own_is_never_a_follow_up() -> None:
    assert classify(DESIGN, "now write me a haiku about it")[0] == "creative"
    assert classify("写一首关于秋天的诗", "那用 Python 写一个函数把它倒过来")[0] == "code"


def test_what_a_turn_asks_after_turning_to_something_new_decides() -> None:
    story = "写一个关于小猫的睡前故事"
    task_class, reason = classify(story, "可爱。另外问一下，Excel 里怎么用公式把 A 列和 B 列拼在一起？")
    assert task_class == "code"
    assert reason.startswith("the last user turn (2 of 2), from where it turns to something new")
    # A marker late in the turn is part of what it asks, not a turn to something new.
    assert not classify(story, "再写一个更长的故事，对了")[1].endswith("something new")


@pytest.mark.parametrize(
    ("turns", "task_class"),
    [
        (("Write a funny riddle for a kids' party", "the kids are 12 and cocky, harder ones"), "creative"),
        (("用 Python 寫一個函式，驗證台灣手機號碼是不是 09 開頭的 10 碼", "如果也要允許 +886 開頭呢？"), "code"),
    ],
)
def test_comparatives_and_what_ifs_follow_up(turns: tuple[str, ...], task_class: str) -> None:
    got, reason = classify(*turns)
    assert (got, reason.split(",")[0]) == (task_class, "user turn 1 of 2")


def test_a_short_turn_saying_how_the_user_feels_is_not_a_follow_up() -> None:
    sql = "这条 SQL 跑了 40 秒：SELECT * FROM orders o JOIN users u ON o.user_id = u.id WHERE u.city = '上海'"
    task_class, reason = classify(sql, "说真的我好累，经理天天催进度，改完这个又要加需求，我都不想干了")
    assert (task_class, reason.split(":")[0]) == ("creative", "the last user turn (2 of 2)")


def test_a_follow_up_whose_turns_say_too_little_is_read_with_the_answer_it_follows() -> None:
    conversation = Conversation(
        ("can you help with two things?", "thanks, and the second one?"),
        "",
        "Sure. The first:\n```python\nimport re\nZIP = re.compile(r'^\\d{5}$')\n```",
    )
    verdict = classify_conversation(conversation, has_tools=False, structured_output=False)
    assert verdict.task_class == "code"
    assert verdict.reason.startswith("the last user turn (“thanks, and the second one?”) with the turn and the answer")
    without = Conversation(conversation.turns, "")
    assert classify_conversation(without, has_tools=False, structured_output=False).task_class != "code"
