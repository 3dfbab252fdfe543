"""The OpenAPI schema against facts the fuzzer (test_fuzz.py) cannot reach by chance: every
status the authorization matrix sees for its seven roles is documented, and path parameters
admit only what Django's URL converters match. No database: the schema is generated directly.
"""

from __future__ import annotations

import re

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.test_authorization import CASES


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operation(schema: dict, method: str, url: str) -> dict | None:
    concrete = url.split("?")[0]
    for path, operations in schema["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
        if method in operations and re.match(pattern, concrete):
            return operations[method]
    return None


def test_every_status_of_the_authorization_matrix_is_documented(schema):
    undocumented = []
    for name, method, url, _body, expected in CASES:
        operation = _operation(schema, method, re.sub(r"\{c\.[^}]+\}", "1", url))
        if operation is None:  # the schema and its UI are not in the schema
            assert url.startswith(("/api/schema/", "/api/docs/")), name
            continue
        undocumented += [
            (name, status)
            for status in set(expected.values())
            if str(status) not in operation["responses"]
        ]
    assert undocumented == []


def test_path_parameters_admit_only_what_the_url_converters_match(schema):
    """`-1` or a name with a `/` never reaches the API: Django answers its own HTML 404."""
    parameters = [
        (path, parameter)
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    ]
    assert parameters
    for _path, parameter in parameters:
        unmatched = -1 if parameter["schema"]["type"] == "integer" else "a/b"
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(unmatched, parameter["schema"])
