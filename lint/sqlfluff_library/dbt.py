"""The `dbt` macro namespace: data types as PostgreSQL spells them, other macros as calls."""

from __future__ import annotations

from collections.abc import Callable

_TYPES = {
    "type_bigint": "bigint",
    "type_int": "integer",
    "type_string": "text",
    "type_timestamp": "timestamp",
    "type_boolean": "boolean",
    "type_float": "float",
    "type_numeric": "numeric(28, 6)",
}


def __getattr__(name: str) -> Callable[..., str]:
    if name.startswith("_"):
        raise AttributeError(name)
    if name in _TYPES:
        return lambda: _TYPES[name]

    def as_function_call(*args: object, **kwargs: object) -> str:
        # A list argument (dbt.concat's fields) is its items, as the real macros render it.
        arguments = [
            str(item)
            for argument in (*args, *kwargs.values())
            for item in (argument if isinstance(argument, list | tuple) else [argument])
        ]
        return f"{name}({', '.join(arguments)})"

    return as_function_call
