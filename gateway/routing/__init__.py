"""Deciding where a request goes: its features, the operator's decision tree, and the model it leads to."""
