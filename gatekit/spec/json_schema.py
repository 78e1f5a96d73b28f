"""The JSON Schema of a gatekit model (the spec, the verdict), each field described by its docstring.

A field's documentation is the string literal under it in the model's class body. pydantic can read those
itself (`use_attribute_docstrings`), but it does so when each model class is defined, parsing the class's
source: 25 to 45 ms of every command that loads the models (30 of them before a check reads its first
byte), for text that only the schema shows. So the models leave it off, and the docstrings are read here,
when a schema is asked for.

Written for the schema gatekit prints (validation mode, fields known by their name or one plain alias, as
in gatekit's models); a test holds every documented field of the spec and the verdict to its description.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model.model_json_schema()`, with every field that has a docstring and no `description` of its own
    described by its docstring (as pydantic's `use_attribute_docstrings` would)."""
    return model.model_json_schema(schema_generator=_WithFieldDocstrings)


class _WithFieldDocstrings(GenerateJsonSchema):
    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        generated = super().model_schema(schema)
        properties = generated.get("properties", {})
        model = schema["cls"]
        for name, doc in field_docstrings(model).items():
            info = model.model_fields.get(name) if issubclass(model, BaseModel) else None
            if info is None or info.description is not None:
                continue
            key = info.validation_alias if isinstance(info.validation_alias, str) else (info.alias or name)
            if key in properties:
                properties[key]["description"] = doc
        return generated


def field_docstrings(model: type) -> dict[str, str]:
    """Per field name, the docstring written under it in the class body of `model` or of the base class
    that declares it last (a field declared again without a docstring has none, as in pydantic)."""
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if cls in (object, BaseModel) or not issubclass(cls, BaseModel):
            continue
        for name in inspect.get_annotations(cls):
            found.pop(name, None)
        found.update(_own_field_docstrings(cls))
    return found


def _own_field_docstrings(cls: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # no source (a frozen or interactively defined class): no descriptions
        return {}
    found = next((node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)), None)
    body = found.body if found is not None else []
    docs: dict[str, str] = {}
    for statement, following in itertools.pairwise(body):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs
