"""`adapter.dispatch(name, package)(...)` renders as a call of a SQL function `name(...)`."""

from __future__ import annotations

from collections.abc import Callable


def dispatch(macro_name: str, macro_namespace: str | None = None) -> Callable[..., str]:
    def as_function_call(*args: object, **kwargs: object) -> str:
        arguments = [str(argument) for argument in (*args, *kwargs.values())]
        return f"{macro_name}({', '.join(arguments)})"

    return as_function_call


class _PlaceholderColumn:
    name = "sqlfluff_placeholder"


def get_columns_in_relation(relation: object) -> list[object]:
    # Never empty (that means "table missing"); no real column, so every one renders as null.
    return [_PlaceholderColumn()]


def quote(identifier: str) -> str:
    return f'"{identifier}"'


def get_relation(database: object = None, schema: object = None, identifier: object = None) -> None:
    # "Not there": a model that checks for an optional table renders its fallback.
    return None
