"""The JSON Schema describes each field by the docstring under it, read when the schema is asked for."""

from __future__ import annotations

import importlib
import inspect
from typing import Any, ClassVar, Literal, get_args

import pytest
from pydantic import BaseModel, ConfigDict, Field, create_model

from gatekit.decide.compare import Comparison
from gatekit.decide.verdict import Verdict
from gatekit.spec.json_schema import field_docstrings, json_schema
from gatekit.spec.model import Gate, MetricDefinition, Spec


def _models(*, docstrings: bool) -> type[BaseModel]:
    """The same models twice: described by pydantic itself (`use_attribute_docstrings`) or not."""

    class Base(BaseModel):
        model_config = ConfigDict(use_attribute_docstrings=docstrings, extra="forbid")

        shared: int = 0
        """Declared on the base class."""

    class Inner(Base):
        """A nested model."""

        value: float
        """A number,
        over two lines."""

    class Redeclared(Base):
        shared: int = 1  # declared again without a docstring: no description

    class Outer(Base):
        redeclared: Redeclared | None = None
        inner: Inner
        """A nested model as a field."""
        maybe: Inner | None = None
        """An optional nested model."""
        from_: str = Field(alias="from")
        """A field known by its alias."""
        kind: Literal["a", "b"] = "a"
        """A choice."""
        explicit: int = Field(0, description="Its own description.")
        """Not this docstring: an explicit description wins."""
        undocumented: int = 0
        tag: ClassVar[str] = "x"
        """Documents a class variable, not a field."""

    return Outer


def test_descriptions_are_the_ones_pydantic_would_read_itself() -> None:
    assert json_schema(_models(docstrings=False)) == _models(docstrings=True).model_json_schema()


def test_a_field_is_described_by_the_docstring_under_it() -> None:
    properties = json_schema(_models(docstrings=False))["properties"]

    assert (properties["inner"]["description"], properties["from"]["description"]) == (
        "A nested model as a field.",
        "A field known by its alias.",
    )


def test_a_field_without_a_docstring_has_no_description() -> None:
    assert "description" not in json_schema(_models(docstrings=False))["properties"]["undocumented"]


def test_an_explicit_description_wins_over_the_docstring() -> None:
    explicit = json_schema(_models(docstrings=False))["properties"]["explicit"]

    assert explicit["description"] == "Its own description."


def test_a_base_class_documents_its_fields_in_every_subclass() -> None:
    schema = json_schema(_models(docstrings=False))

    assert {
        schema["properties"]["shared"]["description"],
        schema["$defs"]["Inner"]["properties"]["shared"]["description"],
    } == {"Declared on the base class."}


def test_a_model_without_source_code_gets_no_field_descriptions() -> None:
    made: Any = create_model("Made", value=(int, 0))

    assert (field_docstrings(made), "description" not in json_schema(made)["properties"]["value"]) == ({}, True)


@pytest.mark.parametrize(
    ("model", "field", "key"),
    [(Gate, "metric", "metric"), (MetricDefinition, "from_", "from")],
)
def test_the_spec_schema_describes_its_fields(model: type[BaseModel], field: str, key: str) -> None:
    definition = json_schema(Spec)["$defs"][model.__name__]

    assert definition["properties"][key]["description"] == field_docstrings(model)[field] != ""


@pytest.mark.parametrize("module", ["spec.model", "decide.verdict", "outcomes", "integrity.lock", "results"])
def test_models_leave_field_docstrings_to_the_schema(module: str) -> None:
    # Reading them when a model is defined costs every command's start-up (see gatekit.spec.json_schema).
    loaded = importlib.import_module(f"gatekit.{module}")
    models = [m for _, m in inspect.getmembers(loaded, inspect.isclass) if issubclass(m, BaseModel)]

    assert [m.__name__ for m in models if m.model_config.get("use_attribute_docstrings")] == []


def test_the_verdict_schema_describes_its_fields() -> None:
    assert json_schema(Verdict)["properties"]["notes"]["description"] == field_docstrings(Verdict)["notes"] != ""


@pytest.mark.parametrize("model", [Spec, Verdict, Comparison], ids=lambda m: m.__name__)
def test_every_documented_field_of_gatekits_schemas_is_described(model: type[BaseModel]) -> None:
    schema = json_schema(model)
    classes: dict[str, type[BaseModel]] = {model.__name__: model}
    pending = [model]
    while pending:  # every model reachable from this one, as named in $defs
        for info in pending.pop().model_fields.values():
            for kind in _model_classes(info.annotation):
                if kind.__name__ not in classes:
                    classes[kind.__name__] = kind
                    pending.append(kind)
    missing = []
    for name, cls in classes.items():
        definition = schema if cls is model else schema["$defs"][name]
        for field, doc in field_docstrings(cls).items():
            info = cls.model_fields[field]
            key = info.alias or field
            if definition["properties"][key].get("description") != (info.description or doc):
                missing.append(f"{name}.{field}")
    assert (len(classes) > 5, missing) == (True, [])


def _model_classes(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [kind for argument in get_args(annotation) for kind in _model_classes(argument)]
