"""``Fn::ForEach`` of the ``AWS::LanguageExtensions`` transform, expanded as CloudFormation does.

template.yaml declares its per-vendor resources once, in loops; everything that reads the
template here (the local stack, ``sam_local``, the benchmarks, the template tests) reads it
through :func:`expand`, so they all see the resources CloudFormation will create.

What the transform does, and so what this does:

- ``"Fn::ForEach::<Loop>": [Identifier, Collection, {OutputKey: OutputValue}]`` in any
  mapping (Resources, Outputs, Conditions, nested loops) is replaced by one copy of the
  fragment per item of the collection;
- in each copy, ``${Identifier}`` is replaced in keys and in ``Fn::Sub`` strings, and
  ``{"Ref": "Identifier"}`` becomes the item;
- a ``Fn::Sub`` left with no ``${...}`` becomes its plain string, so ``Ref: !Sub "${Id}Queue"``
  reads as ``Ref: ConvertLoopQueue``;
- the collection is a literal list, the only kind template.yaml uses (CloudFormation also
  takes a ``Ref`` to a list parameter, which would need the deployment's values);
- in each copy, a ``Fn::FindInMap`` whose keys are then all known is read from the Mappings
  (each vendor's names), and a ``Fn::Sub`` variable that became a plain string is written
  into its string: what CloudFormation resolves anyway, so readers compare plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FOR_EACH = "Fn::ForEach::"


class ForEachError(ValueError):
    """A ``Fn::ForEach`` that CloudFormation would refuse, or that needs deployed values."""


def expand(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with every ``Fn::ForEach`` expanded; the input is left unchanged."""
    mappings = document.get("Mappings") or {}
    return {str(key): _expand(value, mappings) for key, value in document.items()}


def _expand(node: Any, mappings: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_expand(item, mappings) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if str(key).startswith(FOR_EACH):
            for copy_key, copy_value in _loop(str(key), value, mappings).items():
                if copy_key in out:
                    raise ForEachError(f"{key} makes {copy_key}, which is declared already")
                out[copy_key] = copy_value
        else:
            if key in out:
                raise ForEachError(f"{key} is declared twice")
            out[str(key)] = _expand(value, mappings)
    return out


def _loop(name: str, arguments: Any, mappings: Mapping[str, Any]) -> dict[str, Any]:
    if not (isinstance(arguments, list) and len(arguments) == 3 and isinstance(arguments[0], str)):
        raise ForEachError(f"{name} takes [Identifier, Collection, Fragment]")
    identifier, collection, fragment = arguments
    if not isinstance(fragment, Mapping):
        raise ForEachError(f"{name}: the fragment must be a mapping of output keys")
    copies: dict[str, Any] = {}
    if not isinstance(collection, list) or not all(isinstance(item, str | int | float) for item in collection):
        raise ForEachError(f"{name}: the collection must be a list of values, not {collection!r}")
    for item in collection:
        copy = _resolve(_substitute(fragment, identifier, str(item)), mappings)
        for key, value in _expand(copy, mappings).items():
            if key in copies:
                raise ForEachError(f"{name} makes {key} twice: give each key ${{{identifier}}}")
            copies[key] = value
    return copies


def _substitute(node: Any, identifier: str, item: str) -> Any:
    """One copy of ``node`` for ``item``: keys, ``Fn::Sub`` strings and ``Ref`` to the identifier."""
    if isinstance(node, list):
        return [_substitute(value, identifier, item) for value in node]
    if not isinstance(node, Mapping):
        return node
    if set(node) == {"Ref"} and node["Ref"] == identifier:
        return item
    if set(node) == {"Fn::Sub"}:
        return _sub(node["Fn::Sub"], identifier, item)
    return {_replace(str(key), identifier, item): _substitute(value, identifier, item) for key, value in node.items()}


def _sub(argument: Any, identifier: str, item: str) -> Any:
    if isinstance(argument, str):
        text = _replace(argument, identifier, item)
        return text if "${" not in text else {"Fn::Sub": text}
    if isinstance(argument, list) and argument and isinstance(argument[0], str):
        text, *rest = argument
        return {"Fn::Sub": [_replace(text, identifier, item), *_substitute(rest, identifier, item)]}
    return {"Fn::Sub": _substitute(argument, identifier, item)}


def _replace(text: str, identifier: str, item: str) -> str:
    return text.replace(f"${{{identifier}}}", item)


def _resolve(node: Any, mappings: Mapping[str, Any]) -> Any:
    """Mapping lookups with known keys read, and ``Fn::Sub`` variables that are plain strings inlined."""
    if isinstance(node, list):
        return [_resolve(value, mappings) for value in node]
    if not isinstance(node, Mapping):
        return node
    if set(node) == {"Fn::FindInMap"}:
        keys = node["Fn::FindInMap"]
        return _lookup(keys, mappings, "Fn::FindInMap") if _known_keys(keys) else node
    if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], list) and len(node["Fn::Sub"]) == 2:
        text, variables = node["Fn::Sub"][0], _resolve(node["Fn::Sub"][1], mappings)
        if isinstance(text, str) and isinstance(variables, Mapping):
            left = {name: value for name, value in variables.items() if not isinstance(value, str)}
            for name, value in variables.items():
                if isinstance(value, str):
                    text = text.replace(f"${{{name}}}", value)
            if left:
                return {"Fn::Sub": [text, left]}
            return text if "${" not in text else {"Fn::Sub": text}
    return {key: _resolve(value, mappings) for key, value in node.items()}


def _known_keys(keys: Any) -> bool:
    """A ``Fn::FindInMap`` whose three keys are plain strings: readable before deployment."""
    return isinstance(keys, list) and len(keys) == 3 and all(isinstance(key, str) for key in keys)


def _lookup(keys: list[str], mappings: Mapping[str, Any], where: str) -> Any:
    try:
        return mappings[keys[0]][keys[1]][keys[2]]
    except (KeyError, TypeError):
        raise ForEachError(f"{where}: the Mappings hold no {'/'.join(keys)}") from None
