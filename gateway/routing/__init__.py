"""Deciding where a request goes: its features, the operator's decision tree, and the model it leads to.

The task class (code, creative, general) of a chat request, when the client does not name it:

    conversation_text  the user's turns, the system text, the answer a follow-up follows
    task_turns         which turn says what is asked: the last, or a follow-up read with what it follows
    task_classifier    the steps put together: evidence, the rules' verdict, the learned model's final say
    task_evidence      collecting cues: word lists, the text's shape, what it asks for
    task_material      technical words that are only material for a text task ("translate this README")
    task_lexicon_en/zh the hand-weighted word lists (Chinese: mainland and Taiwan usage)
    task_vocabulary    the broad lists of each field (vocabulary/*.txt), matched apart from the hand ones
    task_word_matchers the lists compiled into regexes
    task_groups        the evidence groups, their caps and the general prior
    task_verdict       weighing the evidence and saying why
    task_model         the learned model (task_model.json, trained by scripts/train_task_model.py)
    zh_fold            Traditional folded to Simplified for the model's character pairs

Each API's own limits: held_inputs (embeddings and speech inputs, each against the window), transcript_needs
(transcript formats and timestamps a model must return), needs (what a chat request needs of a model).
"""
