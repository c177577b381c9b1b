"""Debugger configuration of a training job: what the hook saves and which rules run."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from mlyard.training.debugger.records import COLLECTIONS, ENV_VAR
from mlyard.training.debugger.rules import BUILTIN_RULES, Rule

STOP_TRAINING: Literal["StopTraining"] = "StopTraining"


class RuleConfig(BaseModel):
    """One rule to evaluate: a built-in rule's ``name``, its ``parameters`` (converted by the
    rule's declarations; defaults fill the others) and ``actions`` to take when it
    fires (``StopTraining`` stops the job)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    actions: list[Literal["StopTraining"]] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        if value not in BUILTIN_RULES:
            raise ValueError(f"unknown rule {value!r}; built-in rules: {sorted(BUILTIN_RULES)}")
        return value

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        name = info.data.get("name")
        if name is None:  # the name failed validation and is reported on its own
            return value
        return BUILTIN_RULES[name].check_parameters(value)

    @property
    def rule_class(self) -> type[Rule]:
        """The built-in rule class."""
        return BUILTIN_RULES[self.name]

    @property
    def stop_training(self) -> bool:
        """Whether the job stops when the rule fires."""
        return STOP_TRAINING in self.actions

    def required_collections(self) -> frozenset[str]:
        """The hook collections the rule reads."""
        return self.rule_class.required_collections(self.parameters)

    def build(self) -> Rule:
        """A fresh instance of the rule with these parameters."""
        return self.rule_class(**self.parameters)


class DebuggerConfig(BaseModel):
    """The Debugger settings of a training job: the hook saves ``collections`` every
    ``save_interval`` steps, and ``rules`` are evaluated on what it saves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    save_interval: int = Field(100, ge=1)
    collections: list[str] = Field(default_factory=lambda: list(COLLECTIONS))
    rules: list[RuleConfig] = Field(default_factory=list)

    @field_validator("collections")
    @classmethod
    def _known_collections(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in COLLECTIONS]
        if unknown:
            raise ValueError(f"unknown collection(s) {unknown}; allowed: {list(COLLECTIONS)}")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _rules_consistent(self) -> DebuggerConfig:
        names = [rule.name for rule in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rules: each rule may appear once, repeated: {duplicates}")
        for rule in self.rules:
            missing = sorted(rule.required_collections() - set(self.collections))
            if missing:
                raise ValueError(f"rule {rule.name} needs collection(s) {missing}, which are "
                                 f"not in collections {self.collections}")
        return self

    @classmethod
    def with_rules(cls, *names: str, stop: bool = False, save_interval: int = 100,
                   collections: Sequence[str] | None = None) -> DebuggerConfig:
        """A config running the built-in rules ``names`` with default parameters, each with
        the ``StopTraining`` action when ``stop``."""
        actions: list[Literal["StopTraining"]] = [STOP_TRAINING] if stop else []
        return cls(save_interval=save_interval,
                   collections=list(collections) if collections is not None
                   else list(COLLECTIONS),
                   rules=[RuleConfig(name=name, actions=actions) for name in names])


def hook_env(config: DebuggerConfig, out_dir: Path) -> dict[str, str]:
    """Environment for the training process, read by :meth:`DebugHook.from_env`
    (``out_dir`` made absolute, as the process may run in another folder)."""
    settings = {"out_dir": os.path.abspath(out_dir), "save_interval": config.save_interval,
                "collections": list(config.collections)}
    return {ENV_VAR: json.dumps(settings)}
