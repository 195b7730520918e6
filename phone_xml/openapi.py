"""The OpenAPI 3.1 document of the JSON API, generated from its route table and pydantic models."""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from phone_xml import api_models as m
from warehouse.reports.fields import DESTINATION_TYPES, DIMENSIONS, FIELDS
from warehouse.reports.filters import CALL_TYPES, OPERATORS, PERIODS

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "A parameter or the body is wrong (field names it).",
    401: "No token, or one that is unknown, revoked or expired.",
    403: "Not allowed for this person.",
    404: "No such thing.",
    409: "The person has no extension to lock.",
    415: "The body is not JSON.",
    429: "Too many requests with this token (see Retry-After).",
}


def _rule_to_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _without_null(schema: dict) -> dict:
    """A query parameter's schema: the value when present (an absent parameter is the null case)."""
    schema = dict(schema)
    branches = schema.pop("anyOf", None)
    if branches:
        kept = [b for b in branches if b.get("type") != "null"]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    schema.pop("title", None)
    if schema.get("default", 0) is None:
        schema.pop("default")
    return schema


def _filters_schema(schema: dict, defs: dict) -> None:
    """What Filters' validators check, written into its schema (allowed values)."""
    props = schema["properties"]
    props["period"]["enum"] = list(PERIODS)
    props["call_types"]["items"]["enum"] = list(_keys(CALL_TYPES))
    props["destination_types"]["items"]["enum"] = list(_keys(DESTINATION_TYPES))
    props["fields"]["items"]["enum"] = list(FIELDS)
    props["group_by"]["items"]["enum"] = list(DIMENSIONS)
    props["group_by"]["maxItems"] = 2
    cond = defs.get("Condition")
    if cond is not None:
        cond["properties"]["field"]["enum"] = [k for k, f in FIELDS.items() if f.condition]
        cond["properties"]["op"]["enum"] = list(OPERATORS)


def _keys(mapping) -> list[str]:
    return list(mapping.keys() if isinstance(mapping, dict) else mapping)


def document(server_url: str = "/api/v1") -> dict[str, Any]:
    """The whole OpenAPI document."""
    from phone_xml.api import ROUTES
    from warehouse.reports.filters import Filters

    models: list[type[BaseModel]] = [m.Error]
    for route in ROUTES:
        for model in (route.response, route.body):
            if model is not None and model not in models:
                models.append(model)
    _, top = models_json_schema(
        [
            (model, "serialization" if model is not Filters and model is not m.LockRequest else "validation")
            for model in models
        ],
        ref_template=REF,
        by_alias=True,
    )
    schemas: dict[str, Any] = copy.deepcopy(top.get("$defs", {}))
    if "Filters" in schemas:
        _filters_schema(schemas["Filters"], schemas)
    paths: dict[str, dict] = {}
    for route in ROUTES:
        op: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "description": route.description,
            "tags": list(route.tags),
            "responses": {},
        }
        if not route.auth:
            op["security"] = []
        params: list[dict] = []
        for name, schema in route.path_params.items():
            params.append({"name": name, "in": "path", "required": True, "schema": schema})
        if route.query is not None:
            qs = route.query.model_json_schema(by_alias=True, ref_template=REF)
            required = set(qs.get("required", []))
            for name, prop in qs["properties"].items():
                description = prop.get("description", "")
                params.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": name in required,
                        "description": description,
                        "schema": _without_null({k: v for k, v in prop.items() if k != "description"}),
                    }
                )
        if params:
            op["parameters"] = params
        if route.body is not None:
            op["requestBody"] = {
                "required": route.body_required,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=route.body.__name__)}}},
            }
        if route.response is not None:
            op["responses"]["200"] = {
                "description": route.response.__doc__.strip().splitlines()[0] if route.response.__doc__ else "OK",
                "content": {"application/json": {"schema": {"$ref": REF.format(model=route.response.__name__)}}},
            }
        else:
            op["responses"]["200"] = {
                "description": "The OpenAPI document.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        statuses = set(route.errors)
        if route.auth:
            statuses |= {401, 429}
        for status in sorted(statuses):
            entry: dict[str, Any] = {
                "description": ERROR_TEXT[status],
                "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
            }
            if status == 401:
                entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            if status == 429:
                entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
            op["responses"][str(status)] = entry
        paths.setdefault(_rule_to_path(route.path), {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ringledger API",
            "version": "1.0.0",
            "description": "A person's calls, reports, budgets and phone lock, in their own scope. "
            "Authenticate with a personal token (portal: My account > API tokens) as a Bearer token.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A personal API token (rl_...)."}
            },
        },
    }
