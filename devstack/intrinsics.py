"""CloudFormation intrinsic functions, resolved locally.

The template is the single source of truth for names and wiring, so the local
stack evaluates the intrinsics template.yaml uses (``Ref``, ``GetAtt``, ``Sub``, ``Join``,
``If``, ``FindInMap`` and the condition functions) itself instead of hard-coding what the
template says; any other is refused. Values that only exist after deployment
(queue URLs, API endpoints) come from ``PhysicalResource`` entries that the caller
fills in with the local equivalents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class _NoValue:
    """``AWS::NoValue``: the enclosing property or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class TemplateError(ValueError):
    """The template cannot be parsed, or uses something the local stack cannot run."""


@dataclass(frozen=True)
class PhysicalResource:
    """What ``Ref`` returns for a resource and the attributes ``GetAtt`` can read."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsics against parameters, conditions and physical resources."""

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        resources: Mapping[str, PhysicalResource],
        mappings: Mapping[str, Any] | None = None,
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self._parameters = parameters
        self._pseudo = pseudo
        self._resources = resources
        self._mappings = mappings or {}
        self._condition_defs = conditions or {}
        self._conditions: dict[str, bool] = {}
        self._evaluating: set[str] = set()
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda arg: str(arg[0]).join(_to_text(v) for v in self.resolve(arg[1])),
            "Fn::FindInMap": self._find_in_map,
            "Fn::If": lambda arg: self.resolve(arg[1] if self.condition(str(arg[0])) else arg[2]),
            "Condition": lambda name: self.condition(str(name)),
            "Fn::Equals": lambda arg: _to_text(self.resolve(arg[0])) == _to_text(self.resolve(arg[1])),
            "Fn::Not": lambda arg: not self.resolve(arg[0]),
            "Fn::And": lambda arg: all(self.resolve(a) for a in arg),
            "Fn::Or": lambda arg: any(self.resolve(a) for a in arg),
            # In Rules only (tests/template checks them).
            "Fn::Contains": lambda arg: _to_text(self.resolve(arg[1])) in [_to_text(c) for c in self.resolve(arg[0])],
        }

    # -- public -------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic in ``value``; ``AWS::NoValue`` entries are dropped."""
        if isinstance(value, dict):
            if len(value) == 1:
                (key, arg) = next(iter(value.items()))
                if key in self._functions:
                    return self._functions[key](arg)
                if str(key).startswith("Fn::"):
                    raise TemplateError(f"{key} is not supported locally")
            out = {}
            for key, item in value.items():
                resolved = self.resolve(item)
                if resolved is not NO_VALUE:
                    out[str(key)] = resolved
            return out
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self._condition_defs:
                raise TemplateError(f"unknown condition {name}")
            if name in self._evaluating:
                raise TemplateError(f"condition {name} refers to itself")
            self._evaluating.add(name)
            try:
                self._conditions[name] = bool(self.resolve(self._condition_defs[name]))
            finally:
                self._evaluating.discard(name)
        return self._conditions[name]

    # -- functions ----------------------------------------------------------

    def _ref(self, name: Any) -> Any:
        name = str(self.resolve(name))
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._resources:
            return self._resources[name].ref
        raise TemplateError(f"Ref to unknown name {name}")

    def _get_att(self, arg: Any) -> str:
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        else:
            logical_id, attribute = str(arg[0]), str(self.resolve(arg[1]))
        resource = self._resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"GetAtt on unknown resource {logical_id}")
        if attribute not in resource.attributes:
            raise TemplateError(f"GetAtt {logical_id}.{attribute} is not known locally")
        return resource.attributes[attribute]

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = str(arg[0]), {k: self.resolve(v) for k, v in (arg[1] or {}).items()}
        else:
            text, variables = str(arg), {}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):  # ${!Literal} renders as ${Literal}
                return "${" + expression[1:] + "}"
            if expression in variables:
                return _to_text(variables[expression])
            if "." in expression and expression.split(".", 1)[0] in self._resources:
                return self._get_att(expression)
            return _to_text(self._ref(expression))

        return _SUB_VARIABLE.sub(replace, text)

    def _find_in_map(self, arg: Any) -> Any:
        name, top, second = (self.resolve(a) for a in arg[:3])
        try:
            return self._mappings[name][top][second]
        except KeyError as error:
            raise TemplateError(f"FindInMap {name}/{top}/{second} not found") from error


def _to_text(value: Any) -> str:
    """CloudFormation's string conversion: YAML booleans become ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_to_text(v) for v in value)
    return str(value)


def to_env_value(value: Any) -> str:
    """Lambda environment variables are strings; convert like CloudFormation does."""
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return _to_text(value)
