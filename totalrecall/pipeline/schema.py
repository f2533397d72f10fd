"""The pipeline JSON Schema, generated from the registries: names, per-service capabilities, rule parameters.

`totalrecall schema` prints it; schemas/pipeline.schema.json is its output (a test keeps the two equal), and
`validate` checks pipelines against the generated schema, so plugin names validate like built-in ones.
"""

from __future__ import annotations

import json
from typing import Any

from totalrecall import registries
from totalrecall.model import DataType
from totalrecall.pipeline.steps import MODES

__all__ = ["pipeline_schema", "render_schema"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _capability_blocks() -> list[dict[str, Any]]:
    """A service named (or typed) as one that cannot hold a data type may not list it, with the reason."""
    blocks = []
    for key in ("name", "type"):
        for name, service in registries.services.items():
            for data_type in DataType:
                if service.capabilities.holds(data_type):
                    continue
                reason = service.capabilities.note.get(data_type, f"{name} has no {data_type.value}")
                condition: dict[str, Any] = {"properties": {key: {"const": name}}, "required": [key]}
                if key == "name":
                    condition["not"] = {"required": ["type"]}
                blocks.append({
                    "if": condition,
                    "then": {"properties": {"data": {"items": {
                        "not": {"const": data_type.value},
                        "$comment": f"{reason}; {data_type.value} sync between the services that hold them",
                    }}}},
                })
    return blocks


def _rule_parameters() -> dict[str, Any]:
    """Every rule's parameters (a rule declares them as `parameters`, a name -> JSON Schema mapping)."""
    parameters: dict[str, Any] = {}
    for _name, rule in registries.rules.items():
        parameters.update(getattr(rule, "parameters", None) or {})
    return parameters


def _service_object() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": _ref("instanceName"),
            "type": _ref("serviceName"),
            "data": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _ref("dataType")},
            "normalizer": _ref("normalizerName"),
            "status_map": {
                "description": "A registered status map, or an inline table re-pointing the service's own "
                               "statuses (Simkl: {watching: watchlist, on_hold: skip}) or leaving one of its "
                               "lists alone (Trakt, IMDb, Plex: {watchlist: skip}).",
                "oneOf": [_ref("statusMapName"), _ref("statusTable")],
            },
            "status_mapping": _ref("statusTable"),
            "options": {
                "type": "object",
                "description": "Service settings overriding its config.toml section (never credentials).",
            },
        },
        "allOf": _capability_blocks(),
    }


def _steps() -> dict[str, Any]:
    nullable_object = {"type": ["object", "null"], "additionalProperties": False}
    return {
        "step": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": {"enum": registries.steps.names()},
            "properties": {name: _ref(f"{name}Step") for name in registries.steps.names()},
        },
        "collectStep": {
            "description": "Read every service's data (incrementally where the API allows).",
            **nullable_object,
            "properties": {"services": {"type": "array", "items": _ref("instanceName")}},
        },
        "resolveStep": {
            "description": "Merge what the services hold into one view; conflicts by strategy.",
            **nullable_object,
            "properties": {
                "strategy": _ref("strategyName"),
                "order": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _ref("instanceName")},
                "tolerance_seconds": {"type": "integer", "minimum": 0},
                "propagate_removals": {"type": "boolean"},
                "overrides": {
                    "type": "object",
                    "propertyNames": _ref("dataType"),
                    "additionalProperties": _ref("strategyName"),
                },
            },
        },
        "ruleStep": {
            "description": "A post-rule, by name or with parameters.",
            "oneOf": [
                _ref("ruleName"),
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {"name": _ref("ruleName"), **_rule_parameters()},
                },
            ],
        },
        "filterStep": {
            "description": "Narrow what the pipeline touches (jmespath over each entry); never deletes.",
            "type": "object",
            "additionalProperties": False,
            "required": ["where"],
            "properties": {
                "data": {"oneOf": [_ref("dataType"), {"type": "array", "items": _ref("dataType")}]},
                "where": {"type": "string", "minLength": 1},
            },
        },
        "distributeStep": {
            "description": "Push the resolved view to targets.",
            **nullable_object,
            "properties": {
                "targets": {
                    "type": "object",
                    "propertyNames": _ref("instanceName"),
                    "additionalProperties": {
                        "oneOf": [
                            _ref("mode"),
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["mode"],
                                "properties": {
                                    "mode": _ref("mode"),
                                    "data": {"type": "array", "minItems": 1, "items": _ref("dataType")},
                                },
                            },
                        ]
                    },
                },
                "max_removal_share": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
    }


def pipeline_schema() -> dict[str, Any]:
    """The schema as the registries (built-ins and plugins) stand now."""
    registries.load_all()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://totalrecall.invalid/schemas/pipeline.schema.json",
        "title": "TotalRecall pipeline",
        "description": "A sync pipeline: which services, which data, and the steps collect -> resolve -> rules -> "
                       "filter -> distribute. Whatever is left out comes from config.toml.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "steps"],
        "properties": {
            "version": {"const": 1, "description": "Pipeline format version."},
            "description": {"type": "string"},
            "services": {
                "description": "Services taking part; default: every service enabled in config.toml.",
                "type": "array",
                "minItems": 1,
                "items": _ref("serviceEntry"),
            },
            "data": {
                "description": "Data types synced; default: the [sync] switches of config.toml.",
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": _ref("dataType"),
            },
            "steps": {"type": "array", "minItems": 1, "items": _ref("step")},
        },
        "$defs": {
            "serviceName": {"description": "A registered service.", "enum": registries.services.names()},
            "instanceName": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "dataType": {"enum": [data_type.value for data_type in DataType]},
            "strategyName": {"enum": registries.strategies.names()},
            "ruleName": {"enum": registries.rules.names()},
            "normalizerName": {"enum": registries.normalizers.names()},
            "statusMapName": {"enum": registries.status_maps.names()},
            "statusTable": {
                "type": "object",
                "description": "Status -> the data type it stands for (watchlist, watch_history), or none/skip "
                               "to leave it alone.",
                "additionalProperties": {"enum": ["watchlist", "watch_history", "none", "skip"]},
            },
            "mode": {"enum": list(MODES)},
            "serviceEntry": {
                "oneOf": [
                    _ref("serviceName"),
                    {"const": "enabled", "description": "Every service enabled in config.toml."},
                    _ref("serviceObject"),
                ]
            },
            "serviceObject": _service_object(),
            **_steps(),
        },
    }


def render_schema() -> str:
    """The schema as `totalrecall schema` prints it and schemas/pipeline.schema.json holds it."""
    return json.dumps(pipeline_schema(), indent=2, ensure_ascii=False) + "\n"
