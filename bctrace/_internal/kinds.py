"""Typed record kinds: a kind name bound to a pydantic body model, filled by the
``bctrace_register_kinds`` hook.

A registered kind's body is validated when it is recorded (``Tracer.record`` and ``bctrace
record``): a bad body is one line naming the field, exit 2. The model's fields are also the
kind's command-line shortcut (``bctrace record --kind donation --donor ... --amount 25``), and
the kind names the fields that are private by default (recorded as disclosure digests,
:mod:`bctrace._internal.disclosure`). Records of kinds nobody registered keep a free body.
Verification does not validate bodies: a bundle verifies by its digest and anchors, whatever
kinds the verifier knows, so bundles written before a kind existed keep verifying.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import ValidationError

from ..errors import UsageError
from .bundle import field_error
from .registry import KindRegistry


def validate_body(registry: KindRegistry, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Check ``body`` against its kind's model (none for a kind nobody registered) and return it
    unchanged: the record keeps exactly what the recorder wrote. Raises :class:`UsageError`
    naming the field."""
    if kind in registry:
        try:
            registry.get(kind).model_validate(body)
        except ValidationError as err:
            raise UsageError(f"record of kind {kind!r}: {_body_field(field_error(err))}") from None
    return body


def _body_field(message: str) -> str:
    return message.replace("field '", "field 'body.", 1) if message.startswith("field '") else f"body: {message}"


def options_to_body(registry: KindRegistry, kind: str, args: list[str]) -> dict[str, Any]:
    """``--name value`` pairs after ``bctrace record --kind KIND`` -> a body for that kind.

    Option names are the model's field names (or aliases) with ``-`` for ``_``. A list field
    takes the option once per item; a field that is neither text nor a list of text takes its
    value as JSON when it parses (``--quantity 3.5``), else as text."""
    if not args:
        return {}
    if kind not in registry:
        raise UsageError(f"unexpected option {args[0]!r}: kind {kind!r} is not a registered kind, so its body comes from --body only")
    model = registry.get(kind)
    fields = {}
    for name, info in model.model_fields.items():
        fields[(info.alias or name).replace("_", "-")] = (info.alias or name, info.annotation)
    body: dict[str, Any] = {}
    i = 0
    while i < len(args):
        option = args[i]
        key = option[2:] if option.startswith("--") else None
        if "=" in (key or ""):
            key, _, inline = key.partition("=")  # type: ignore[union-attr]
            value: str | None = inline
        else:
            value = None
        if key not in fields:
            known = ", ".join(f"--{k}" for k in sorted(fields))
            raise UsageError(f"no option {option!r} for kind {kind!r} (its fields: {known})")
        if value is None:
            if i + 1 >= len(args):
                raise UsageError(f"option --{key} needs a value")
            value = args[i + 1]
            i += 1
        i += 1
        name, annotation = fields[key]
        if _is_list(annotation):
            body.setdefault(name, []).append(_scalar(value, typing.get_args(_unoptional(annotation)) or (str,)))
        elif name in body:
            raise UsageError(f"option --{key} is given twice")
        else:
            body[name] = _scalar(value, (annotation,))
    return body


def _unoptional(annotation: Any) -> Any:
    """``X`` for ``X | None`` and ``Annotated[X, ...]``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _unoptional(typing.get_args(annotation)[0])
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return _unoptional(args[0])
    return annotation


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(_unoptional(annotation)) in (list, tuple)


def _scalar(text: str, annotations: tuple[Any, ...]) -> Any:
    if _unoptional(annotations[0]) is str:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
