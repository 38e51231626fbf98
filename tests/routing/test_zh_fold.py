"""Folding Traditional Chinese into Simplified: Taiwan and Hong Kong prompts meet their mainland twins, one
character for one, and nothing that is not Traditional Chinese changes.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.routing.zh_fold import FOLD_TABLE, fold_traditional

_KEYS = "".join(sorted(chr(key) for key in FOLD_TABLE))
_VALUES = "".join(sorted({chr(value) for value in FOLD_TABLE.values()}))

# The words a Taiwanese or Hong Kong user types about code, work and feelings, and their Simplified spelling: the
# characters change, the words do not (程式 stays 程式, 迴圈 becomes 回圈, not 循环).
_TRADITIONAL_WORDS = (
    "程式碼 執行緒 記憶體 伺服器 資料庫 資料 軟體 硬體 網路 檔案 變數 函式 物件 陣列 迴圈 堆疊 佇列 指標 演算法 "
    "除錯 編譯 介面 預設 快取 位元組 雲端 部署 容器 叢集 負載平衡 憑證 登入 帳號 回傳值 例外 當機 試算表 巨集 "
    "報錯 閃退 語言 問題 應該 請問 謝謝 寫詩 歌詞 笑話 故事 總結 翻譯 郵件 會議 報告 這個 們 什麼 為 裡 樣 還 後 "
    "說 讀 學習 點 電腦 機 線 進 測試 設計 邏輯 類別 標題 選擇 輸出 數據庫 鍵盤 顯示 視窗 權限 證書 認 應當 參數 "
    "組織 單 雙 傳輸 協議 漏洞 遷移 模組 框架 統 處理 導師 習題 績 簡歷 職業 經濟 價格 錢 銀 貸 買賣 醫藥 療 體驗 "
    "劇 戲 遊 畫 圖書館 員 隊 贏 輸 愛 戀愛 氣憤 難過 開心 歡樂"
)
_SIMPLIFIED_WORDS = (
    "程式码 执行绪 记忆体 伺服器 资料库 资料 软体 硬体 网路 档案 变数 函式 物件 阵列 回圈 堆叠 伫列 指标 演算法 "
    "除错 编译 介面 预设 快取 位元组 云端 部署 容器 丛集 负载平衡 凭证 登入 帐号 回传值 例外 当机 试算表 巨集 "
    "报错 闪退 语言 问题 应该 请问 谢谢 写诗 歌词 笑话 故事 总结 翻译 邮件 会议 报告 这个 们 什么 为 里 样 还 后 "
    "说 读 学习 点 电脑 机 线 进 测试 设计 逻辑 类别 标题 选择 输出 数据库 键盘 显示 视窗 权限 证书 认 应当 参数 "
    "组织 单 双 传输 协议 漏洞 迁移 模组 框架 统 处理 导师 习题 绩 简历 职业 经济 价格 钱 银 贷 买卖 医药 疗 体验 "
    "剧 戏 游 画 图书馆 员 队 赢 输 爱 恋爱 气愤 难过 开心 欢乐"
)


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("請問這個程式碼為什麼會當機", "请问这个程式码为什么会当机"),
        ("記憶體不足，伺服器回傳錯誤", "记忆体不足，伺服器回传错误"),
        ("請幫我寫一首關於雲端部署的詩", "请帮我写一首关于云端部署的诗"),
        ("試算表的巨集一直報錯，程式閃退", "试算表的巨集一直报错，程式闪退"),
        ("我們應該怎麼處理這個例外？", "我们应该怎么处理这个例外？"),
        # Simplified forms that stand for two Traditional characters (发 for 髮 and 發) or are Traditional characters
        # of their own (干, 后, 里).
        ("他看著頭髮乾了以後，在房間裡發呆", "他看着头发干了以后，在房间里发呆"),
        # Hong Kong: Cantonese characters are the same in both scripts; 搵 and 綫 are Hong Kong spellings.
        ("佢話個伺服器又當機咗，搵唔到原因", "佢话个伺服器又当机咗，揾唔到原因"),
        ("網上綫路", "网上线路"),
    ],
)
def test_traditional_sentences_fold_to_their_simplified_twins(traditional: str, simplified: str) -> None:
    assert fold_traditional(traditional) == simplified


def test_everyday_and_technical_words_are_covered() -> None:
    assert fold_traditional(_TRADITIONAL_WORDS) == _SIMPLIFIED_WORDS


@pytest.mark.parametrize(
    "text",
    [
        "请问这个程式码为什么会当机",
        "程序员写代码时遇到内存泄漏，服务器返回错误",
        "帮我写一首关于秋天的诗，再讲个笑话",
        string.printable,
        "Why does my build fail? 🚀👍🏽👨‍👩‍👧 ✅",
        "ひらがなとカタカナ、ｶﾀｶﾅ。ー",
        "",
    ],
)
def test_text_that_is_not_traditional_chinese_is_unchanged(text: str) -> None:
    assert fold_traditional(text) == text


def test_simplified_forms_are_never_folded_again() -> None:
    assert fold_traditional(_VALUES) == _VALUES


def test_table_is_one_character_for_one() -> None:
    assert len(FOLD_TABLE) >= 1500
    for key, value in FOLD_TABLE.items():
        assert isinstance(key, int) and isinstance(value, int), (key, value)
        assert key != value, chr(key)
        assert len(fold_traditional(chr(key))) == 1


def test_table_holds_traditional_chinese_only() -> None:
    # CJK Unified Ideographs both ways: no compatibility ideographs, no kana, no rare extension characters that
    # fonts cannot show.
    for key, value in FOLD_TABLE.items():
        assert 0x4E00 <= key <= 0x9FFF and 0x4E00 <= value <= 0x9FFF, (chr(key), chr(value))


# Mostly table characters, so that folds happen in most examples, mixed with anything else.
_texts = st.text(alphabet=st.sampled_from(_KEYS) | st.sampled_from(_VALUES) | st.characters(), max_size=80)


@settings(max_examples=500, deadline=None)
@given(_texts)
def test_fold_keeps_the_length(text: str) -> None:
    assert len(fold_traditional(text)) == len(text)


@settings(max_examples=500, deadline=None)
@given(_texts)
def test_fold_is_idempotent(text: str) -> None:
    once = fold_traditional(text)
    assert fold_traditional(once) == once
