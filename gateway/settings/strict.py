"""The base of every config model, in a module of its own so that packages with settings of their own
(gateway.health) can build on it without importing the whole config schema."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
