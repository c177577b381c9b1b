"""The profiler report: rule outcomes as JSON and a self-contained HTML page.

``build_report`` writes, under ``report_dir``::

    profiler-report.html                        summary, charts (embedded PNG), one section
                                                per rule, top operators
    profiler-output/rule-output/<Rule>.json     {"rule", "status", "message", "parameters",
                                                 "details", "triggers"}
    profiler-output/summary.json                {"title", "generated_at", "rules": [...], ...}

A rule that raises (it should not) is reported with status ``Error`` instead of failing the
report.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlyard.reports import (
    cell,
    escape,
    heading,
    image,
    jsonable,
    note,
    page,
    records_table,
    table,
    write_json,
)
from mlyard.training.profiler import charts
from mlyard.training.profiler.config import ProfilerConfig
from mlyard.training.profiler.data import ProfileData, number
from mlyard.training.profiler.files import (
    OUTPUT_DIR,
    REPORT_HTML,
    RULE_OUTPUT_DIR,
    SUMMARY_JSON,
)
from mlyard.training.profiler.rules import PROFILER_RULES, ProfilerRuleResult, StepOutlier
from mlyard.training.rule_store import RuleEvaluationStatus

log = logging.getLogger(__name__)

_MAX_TABLE_ROWS = 50
_STATUS_COLOURS = {
    RuleEvaluationStatus.ISSUES_FOUND: "#b00020",
    RuleEvaluationStatus.NO_ISSUES_FOUND: "#1b7f3b",
    RuleEvaluationStatus.ERROR: "#b35c00",
}


def _write_json(path: Path, data: Any) -> None:
    write_json(path, jsonable(data))


def evaluate_rules(
    data: ProfileData, config: ProfilerConfig
) -> dict[str, tuple[dict[str, Any], ProfilerRuleResult]]:
    """Rule name -> (its effective parameters, its result) for the configured rules."""
    results: dict[str, tuple[dict[str, Any], ProfilerRuleResult]] = {}
    for name in config.rules:
        rule = PROFILER_RULES[name](**config.parameters_of(name))
        try:
            result = rule.evaluate(data)
        except Exception as exc:
            log.exception("profiler rule %s failed", name)
            result = ProfilerRuleResult(
                RuleEvaluationStatus.ERROR, f"rule failed: {type(exc).__name__}: {exc}", {}, 0
            )
        results[name] = (rule.parameters, result)
    return results


# ---------------------------------------------------------------------- HTML pieces
def _status(status: RuleEvaluationStatus) -> str:
    colour = _STATUS_COLOURS.get(status, "#444")
    return f"<span style='color:{colour};font-weight:600'>{escape(status)}</span>"


def _details_html(details: Mapping[str, Any]) -> str:
    """Scalars in one key/value table; mappings and lists of records as their own tables."""
    if not details:
        return note("No details.")
    scalars: list[list[str]] = []
    blocks: list[str] = []
    for key, value in details.items():
        if isinstance(value, Mapping) and value:
            if all(isinstance(v, Mapping) for v in value.values()):
                records = [{"": k, **v} for k, v in value.items()]
                blocks.append(heading(key, 3) + records_table(records, _MAX_TABLE_ROWS))
            else:
                rows = [[escape(k), cell(v)] for k, v in value.items()]
                blocks.append(heading(key, 3) + table(None, rows))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            blocks.append(heading(key, 3) + records_table(value, _MAX_TABLE_ROWS))
        else:
            scalars.append([escape(key), cell(value)])
    head = table(None, scalars) if scalars else ""
    return head + "".join(blocks)


def _chart(png: bytes | None, alt: str, missing: str) -> str:
    return image(png, alt) if png is not None else note(missing)


def _ms(microseconds: Any) -> str:
    value = number(microseconds)
    return "" if value is None else f"{value / 1000.0:.3f}"


def _ops_table(ops: Sequence[Mapping[str, Any]]) -> str:
    if not ops:
        return note(
            "No operator trace: torch was not used, tracing was off "
            "(framework_num_steps = 0) or the run ended before the traced steps."
        )
    cuda = any("self_cuda_time_us" in op for op in ops)
    header = ["operator", "calls", "self CPU (ms)", "CPU total (ms)"]
    if cuda:
        header += ["self CUDA (ms)", "CUDA total (ms)"]
    rows = []
    for op in ops:
        row = [
            escape(op.get("name", "?")),
            cell(op.get("count")),
            _ms(op.get("self_cpu_time_us")),
            _ms(op.get("cpu_time_us")),
        ]
        if cuda:
            row += [_ms(op.get("self_cuda_time_us")), _ms(op.get("cuda_time_us"))]
        rows.append(row)
    return table(header, rows)


def _html(
    title: str,
    data: ProfileData,
    results: Mapping[str, tuple[dict[str, Any], ProfilerRuleResult]],
    generated_at: str,
) -> str:
    steps = data.steps()
    times = data.series("time")
    facts = [
        ["generated", escape(generated_at)],
        ["profile folder", escape(data.out_dir)],
        ["system samples", str(len(data.system))],
        ["sampled seconds", f"{times[-1] - times[0]:.1f}" if len(times) > 1 else "0"],
        ["GPUs", escape(", ".join(map(str, data.gpu_indices())) or "none")],
        ["ranks", escape(", ".join(map(str, data.ranks)) or "none")],
        ["steps recorded", str(len(steps))],
    ]
    summary = [
        [
            f"<a href='#rule-{escape(name)}'>{escape(name)}</a>",
            _status(r.status),
            str(r.triggers),
            escape(r.message),
        ]
        for name, (_, r) in results.items()
    ]
    outliers: list[dict[str, Any]] = []
    outlier_entry = results.get(StepOutlier.name)
    if outlier_entry is not None:
        outliers = list(outlier_entry[1].details.get("outliers", []))
    else:
        outliers = StepOutlier().outliers(data)[0]
    ops = data.top_ops()
    sections = [
        table(None, facts),
        heading("Rules"),
        note(
            "Triggers: how many times (windows, samples, steps or ranks) a rule's "
            "condition held; a rule reports IssuesFound when it triggered at least once."
        ),
        table(["rule", "status", "triggers", "message"], summary),
        heading("System utilisation"),
        _chart(
            charts.utilization_png(data, "Utilisation over time"),
            "Utilisation over time",
            "No system samples.",
        ),
        heading("Step durations"),
        _chart(
            charts.step_durations_png(data, outliers, "Step duration"),
            "Step durations",
            "No steps recorded.",
        ),
        heading("Data loading against compute"),
        _chart(
            charts.dataloader_share_png(data, "Share of step time"),
            "Data loading against compute",
            "No data-loading times (the loop does not call dataloader_done()).",
        ),
        heading("Top operators"),
        _chart(
            charts.top_ops_png(ops, "Self CPU time of the top operators"),
            "Top operators by self CPU time",
            "No operator trace.",
        ),
        _ops_table(ops),
    ]
    for name, (parameters, result) in results.items():
        rule = PROFILER_RULES[name]
        sections += [
            heading(name, 2, anchor=f"rule-{name}"),
            f"<p>{escape(rule.DESCRIPTION)}</p>",
            f"<p>Status: {_status(result.status)}, triggers: {result.triggers}.</p>",
            f"<p>{escape(result.message)}</p>",
            heading("Parameters", 3),
            table(["parameter", "value"], [[escape(k), cell(v)] for k, v in parameters.items()]),
            heading("Details", 3),
            _details_html(result.details),
        ]
    return page(title, sections)


def build_report(
    out_dir: Path,
    report_dir: Path,
    config: ProfilerConfig | None = None,
    title: str = "",
) -> dict[str, ProfilerRuleResult]:
    """Evaluate the configured rules on the profile in ``out_dir`` and write the HTML report,
    one JSON file per rule and ``summary.json`` under ``report_dir`` (created if needed).
    Returns the results by rule name."""
    config = config or ProfilerConfig()
    data = ProfileData.load(Path(out_dir))
    results = evaluate_rules(data, config)
    report_dir = Path(report_dir)
    rule_dir = report_dir / OUTPUT_DIR / RULE_OUTPUT_DIR
    rule_dir.mkdir(parents=True, exist_ok=True)
    generated_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for name, (parameters, result) in results.items():
        _write_json(
            rule_dir / f"{name}.json",
            {"rule": name, "parameters": parameters, **result.to_dict()},
        )
    title = title or "Profiler report"
    _write_json(
        report_dir / OUTPUT_DIR / SUMMARY_JSON,
        {
            "title": title,
            "generated_at": generated_at,
            "profile_dir": str(data.out_dir),
            "system_samples": len(data.system),
            "ranks": data.ranks,
            "steps": len(data.steps()),
            "issues_found": [
                n for n, (_, r) in results.items() if r.status == RuleEvaluationStatus.ISSUES_FOUND
            ],
            "rules": [
                {"rule": n, "status": str(r.status), "triggers": r.triggers, "message": r.message}
                for n, (_, r) in results.items()
            ],
        },
    )
    (report_dir / REPORT_HTML).write_text(
        _html(title, data, results, generated_at), encoding="utf-8"
    )
    return {name: result for name, (_, result) in results.items()}
