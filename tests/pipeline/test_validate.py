"""Pipeline validation: every problem reported with file:line:col and its JSON path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from totalrecall import registries
from totalrecall.errors import PipelineError
from totalrecall.pipeline.validate import load_pipeline, load_schema

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*REPO.glob("pipelines/*.yaml"), *REPO.glob("examples/pipelines/*.yaml")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_pipeline_validates(path: Path) -> None:
    pipeline = load_pipeline(path)
    assert pipeline.steps_named("collect") and pipeline.steps_named("resolve")


def _enum(name: str) -> set[str]:
    return set(load_schema()["$defs"][name]["enum"])


@pytest.mark.parametrize(
    ("schema_name", "registry"),
    [
        ("serviceName", registries.services),
        ("strategyName", registries.strategies),
        ("ruleName", registries.rules),
        ("normalizerName", registries.normalizers),
        ("statusMapName", registries.status_maps),
    ],
)
def test_schema_names_equal_registry_names(schema_name: str, registry) -> None:
    registries.load_all()
    assert _enum(schema_name) == set(registry.names())


def test_schema_step_names_equal_registry() -> None:
    registries.load_all()
    step_names = set(load_schema()["$defs"]["step"]["propertyNames"]["enum"])
    assert step_names == set(registries.steps.names())


def test_committed_schema_is_what_totalrecall_schema_prints() -> None:
    from click.testing import CliRunner

    from totalrecall.cli import cli

    printed = CliRunner().invoke(cli, ["schema"], catch_exceptions=False)
    assert printed.exit_code == 0
    # Regenerate with `totalrecall schema > schemas/pipeline.schema.json` after registering a primitive.
    assert printed.output == (REPO / "schemas/pipeline.schema.json").read_text(encoding="utf-8")
    assert json.loads(printed.output) == load_schema()


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PipelineError) as caught:
        load_pipeline(path)
    return [problem.replace(str(path), "p.yaml") for problem in caught.value.problems]


INVALID = [
    pytest.param(
        "version: 1\nsteps:\n  - colect: {}\n  - resolve: {strategy: newset}\n  - distribute: {max_removal_share: lots}\n",
        [
            "p.yaml:3:5: $.steps[0].colect: unknown step: 'colect' is not one of",
            "p.yaml:4:25: $.steps[1].resolve.strategy: 'newset' is not one of",
            "p.yaml:5:37: $.steps[2].distribute.max_removal_share: 'lots' is not of type 'number'",
        ],
        id="misspelt-step-unknown-strategy-wrong-type",
    ),
    pytest.param(
        "version: 2\nsteps: []\n",
        ["p.yaml:2:8: $.steps: [] should be non-empty", "p.yaml:1:10: $.version: 1 was expected"],
        id="version-and-empty-steps",
    ),
    pytest.param(
        "version: 1\nservices: [files]\nsteps:\n  - collect: {}\n  - resolve: {order: [trakt]}\n",
        ['p.yaml:5:23: $.steps[1].resolve.order[0]: "trakt" is not a service of this pipeline'],
        id="order-names-unlisted-service",
    ),
    pytest.param(
        "version: 1\nsteps:\n  - resolve: {}\n  - collect: {}\n",
        ["p.yaml:4:5: $.steps[1]: collect cannot come after a later phase"],
        id="steps-out-of-order",
    ),
    pytest.param(
        "version: 1\nsteps:\n  - collect: {}\n  - resolve: {}\n  - rule: remove_watchlist_items_older_than_days\n",
        ["p.yaml:5:11: $.steps[2].rule: remove_watchlist_items_older_than_days needs `days`"],
        id="rule-missing-parameter",
    ),
    pytest.param(
        "version: 1\nsteps:\n  - collect: {}\n  - resolve: {}\n  - filter: {where: \"item.kind ==\"}\n",
        ["p.yaml:5:21: $.steps[2].filter.where: invalid jmespath expression: Incomplete expression"],
        id="bad-filter-expression",
    ),
    pytest.param(
        "version: 1\nsteps:\n  - collect: {}\n  - collect: {}\n  - resolve: {}\n",
        ["p.yaml:3:3: $.steps: collect appears 2 times"],
        id="collect-twice",
    ),
    pytest.param(
        "version: 1\nstep:\n  - collect: {}\n",
        ["p.yaml:2:1: $.step: Additional properties are not allowed", "p.yaml:1:1: $: 'steps' is a required"],
        id="misspelt-top-level-key",
    ),
    pytest.param(
        "version: 1\nsteps:\n  - collect: {}\n  - resolve: {}\n  - rule: {name: mark_rated_as_wached}\n",
        ["p.yaml:5:18: $.steps[2].rule.name: 'mark_rated_as_wached' is not one of"],
        id="unknown-rule",
    ),
    pytest.param(
        "version: 1\nsteps:\n  - collect: {}\n  - resolve: {}\n  - distribute: {targets: {x: sometimes}}\n",
        ["p.yaml:5:31: $.steps[2].distribute.targets.x: 'sometimes' is not one of ['mirror', 'add_only', 'read_only']"],
        id="unknown-mode",
    ),
    pytest.param(
        "version: 1\nservices: [trakt, {name: simkl, data: [watchlist, reviews]}]\n"
        "steps:\n  - collect: {}\n  - resolve: {}\n",
        ["p.yaml:2:51: $.services[1].data[1]: 'reviews' is not allowed here: Simkl has no reviews API"],
        id="simkl-reviews-refused-by-the-schema",
    ),
    pytest.param(
        "version: 1\nservices: [trakt, plex]\nsteps:\n  - collect: {}\n  - resolve: {order: [plex, trakt]}\n"
        "  - distribute: {targets: {plex: {mode: mirror, data: [reviews]}}}\n",
        ["p.yaml:6:56: $.steps[2].distribute.targets.plex.data[0]: plex cannot hold reviews (Plex has no reviews)"],
        id="plex-reviews-refused-by-validate",
    ),
    pytest.param(
        "version: 1\nversion: 1\nsteps: [collect: {}]\n",
        ["p.yaml:2:1: $: duplicate key 'version'"],
        id="duplicate-key",
    ),
    pytest.param(
        "version: 1\nsteps: [collect: {}\n",
        ["p.yaml:3:1: invalid YAML: expected ',' or ']', but got '<stream end>'"],
        id="broken-yaml",
    ),
]


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_invalid_pipelines_report_every_problem(tmp_path: Path, text: str, expected: list[str]) -> None:
    problems = _problems(tmp_path, text)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problem


VALID = [
    pytest.param("version: 1\nsteps:\n  - collect:\n  - resolve:\n", id="null-params"),
    pytest.param(
        "version: 1\nservices: [files, {name: backup, type: files, options: {path: b}}]\n"
        "data: [ratings]\nsteps:\n  - collect: {}\n  - resolve: {strategy: merge, order: [backup, files],"
        " overrides: {watchlist: newest}}\n  - rule: mark_rated_as_watched\n"
        "  - rule: {name: remove_watchlist_items_older_than_days, days: 30}\n"
        "  - filter: {data: ratings, where: \"item.kind == 'movie'\"}\n"
        "  - distribute: {targets: {backup: add_only, files: {mode: mirror, data: [ratings]}}}\n",
        id="everything",
    ),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_pipelines(tmp_path: Path, text: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    assert load_pipeline(path).source == str(path)


@pytest.mark.parametrize(
    ("filter_step", "expected"),
    [
        ("{where: \"item.knd == 'movie'\"}",
         ["p.yaml:5:21: $.steps[2].filter.where: item.knd: no such field, so this filter matches nothing; item has: "
          "episode, ids, kind, season, show_ids, show_title, title, year"]),
        ("{data: ratings, where: \"value > `7` && !status\"}",
         ["p.yaml:5:36: $.steps[2].filter.where: status: no such field, so this filter matches nothing; an entry has:"
          " item, rated_at, value"]),
        ("{where: \"item.ids.imbd != `null`\"}", ["p.yaml:5:21: $.steps[2].filter.where: item.ids.imbd: no such field"]),
        ("{where: \"item.kind == 'movie' && contains(['tt1'], item.ids.imdb)\"}", []),
    ],
    ids=["misspelt-item-field", "field-of-another-data-type", "misspelt-id", "known-fields"],
)
def test_a_filter_naming_a_field_the_model_lacks_is_a_located_warning(tmp_path: Path, filter_step: str,
                                                                     expected: list[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"version: 1\nsteps:\n  - collect: {{}}\n  - resolve: {{}}\n  - filter: {filter_step}\n")
    warnings = [warning.replace(str(path), "p.yaml") for warning in load_pipeline(path).warnings]
    assert len(warnings) == len(expected)
    for warning, start in zip(warnings, expected, strict=True):
        assert warning.startswith(start), warning


def test_validate_prints_filter_warnings_and_still_passes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from totalrecall.cli import cli

    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nsteps:\n  - collect: {}\n  - resolve: {}\n  - filter: {where: \"item.knd == 'movie'\"}\n")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: ok" in result.output
    assert f"warning: {path}:5:21: $.steps[2].filter.where: item.knd: no such field" in result.output
