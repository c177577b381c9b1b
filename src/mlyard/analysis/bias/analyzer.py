"""The ``bias`` analyzer: Clarify's pre- and post-training bias job over a DataFrame.

Writes ``analysis.json`` (``pre_training_bias_metrics`` / ``post_training_bias_metrics``),
``analysis_config.json`` (the equivalent Clarify analysis configuration) and ``report.html``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlyard.analysis.base import AnalysisInputs, Analyzer, Progress, no_progress
from mlyard.analysis.bias import methods, report
from mlyard.analysis.bias.clarify_json import VERSION, analysis_config
from mlyard.analysis.bias.config import BiasAnalysisConfig
from mlyard.analysis.bias.facets import facet_spec, label_spec
from mlyard.analysis.bias.predictions import model_inputs, predict_labels
from mlyard.analysis.bias.sections import post_training_bias, pre_training_bias
from mlyard.analysis.data import check_columns
from mlyard.errors import ValidationError


class BiasAnalyzer(Analyzer[BiasAnalysisConfig]):
    """Pre-training (label) and post-training (prediction) bias metrics per facet."""

    name = "bias"
    config_type = BiasAnalysisConfig

    def needs_model(self, config: BiasAnalysisConfig) -> bool:
        """A model is needed for post-training metrics without a predicted-label column."""
        return config.post_training_methods is not None and not config.predicted_label

    def check(self, config: BiasAnalysisConfig, inputs: AnalysisInputs) -> None:
        """Refuse a missing column, a value that does not occur, a threshold on a text
        column, a facet with one value, unknown methods, post-training without predictions."""
        frame = inputs.frame()
        if config.pre_training_methods is None and config.post_training_methods is None:
            raise ValidationError("bias: no methods: give pre- and/or post-training methods")
        if config.pre_training_methods is not None:
            methods.resolve(config.pre_training_methods, "pre")
        if config.post_training_methods is not None:
            methods.resolve(config.post_training_methods, "post")
        columns = [config.label, *(f.name for f in config.facets)]
        if config.group_name:
            columns.append(config.group_name)
        if config.predicted_label:
            columns.append(config.predicted_label)
        if config.text_column:
            columns.append(config.text_column)
        columns.extend(config.features or [])
        check_columns(frame, columns, "bias")
        names = [f.name for f in config.facets]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValidationError(f"bias: facet(s) {dup} given more than once")
        if config.label in names:
            raise ValidationError(f"bias: the label {config.label!r} cannot also be a facet")
        label = label_spec(frame, config.label, config.label_values_or_threshold)
        positive = label.rows if label.rows is not None else label.positive(frame[config.label])
        if not positive.any():
            raise ValidationError(f"label {config.label!r}: no row is positive for "
                                  f"{label.value_or_threshold}")
        for facet in config.facets:
            spec = facet_spec(frame, facet.name, facet.values_or_threshold)
            if spec.sensitive is not None:
                inside = int(spec.sensitive.sum())
                if inside in (0, len(frame)):
                    where = "no" if inside == 0 else "every"
                    raise ValidationError(
                        f"facet {facet.name!r}: {where} row is in {spec.groups[0][0]} "
                        f"(above the threshold {facet.values_or_threshold}): the threshold "
                        "must split the rows")
        if config.probability_threshold is not None and \
                not 0.0 <= config.probability_threshold <= 1.0:
            raise ValidationError(f"probability_threshold must be in [0, 1], got "
                                  f"{config.probability_threshold}")
        if self.needs_model(config) and inputs.model is None and inputs.model_name is None:
            raise ValidationError("post-training bias needs predictions: a model (--model NAME) "
                                  "or a predicted_label column")
        if self.needs_model(config) and inputs.model is not None:
            self._probe(config, inputs)

    def _probe(self, config: BiasAnalysisConfig, inputs: AnalysisInputs) -> None:
        """Call the model on the first rows, so that inputs it cannot take are refused before
        a job is created rather than after the pre-training stage ran."""
        head = AnalysisInputs(frames={"data": inputs.frame().head(4)}, model=inputs.model,
                              model_name=inputs.model_name)
        try:
            self.predictions(config, head)
        except Exception as exc:
            name = inputs.model_name or "the model"
            raise ValidationError(
                f"bias: {name} cannot predict the data's first rows ({exc}); name its input "
                "with text_column (--text-column) or features (--features)") from None

    def predictions(self, config: BiasAnalysisConfig, inputs: AnalysisInputs,
                    progress: Progress = no_progress) -> np.ndarray:
        """The model's predicted label for every row (batched; see
        :mod:`mlyard.analysis.bias.predictions`)."""
        frame = inputs.frame()
        model = inputs.require_model("post-training bias without a predicted_label column")
        label = label_spec(frame, config.label, config.label_values_or_threshold)
        skip = {config.label}
        if config.group_name:
            skip.add(config.group_name)
        if config.predicted_label:
            skip.add(config.predicted_label)
        instances = model_inputs(frame, config.text_column, config.features, skip)
        values = pd.Index(pd.unique(frame[config.label].dropna()))
        return predict_labels(model, instances, label, values, batch_size=config.batch_size,
                              probability_threshold=config.probability_threshold,
                              progress=progress)

    def run(self, config: BiasAnalysisConfig, inputs: AnalysisInputs, out_dir: Path,
            progress: Progress = no_progress) -> dict[str, Any]:
        """Compute the configured stages and write the three files into ``out_dir``."""
        started = time.perf_counter()
        self.check(config, inputs)
        frame = inputs.frame()
        analysis: dict[str, Any] = {"version": VERSION}
        if config.pre_training_methods is not None:
            progress("pre-training bias metrics")
            analysis["pre_training_bias_metrics"] = pre_training_bias(frame, config)
        post = config.post_training_methods is not None
        if post:
            predicted = None
            if not config.predicted_label:
                progress(f"predicting {len(frame)} rows in batches of {config.batch_size}")
                predicted = self.predictions(config, inputs, progress)
            progress("post-training bias metrics")
            analysis["post_training_bias_metrics"] = post_training_bias(frame, config,
                                                                        predicted)
        doc = analysis_config(config, [str(c) for c in frame.columns],
                              model_name=inputs.model_name, post=post,
                              pre=config.pre_training_methods is not None)
        first = analysis.get("pre_training_bias_metrics") or \
            analysis["post_training_bias_metrics"]
        n_metrics = sum(len(g["metrics"]) for key in ("pre_training_bias_metrics",
                                                      "post_training_bias_metrics")
                        for groups in analysis.get(key, {}).get("facets", {}).values()
                        for g in groups)
        summary: dict[str, Any] = {
            "rows": len(frame),
            "label": config.label,
            "label_value_or_threshold": first["label_value_or_threshold"],
            "facets": {f.name: len(first["facets"][f.name]) for f in config.facets},
            "metrics": n_metrics,
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "analysis.json").write_text(json.dumps(analysis, indent=2,
                                                          allow_nan=False))
        (out_dir / "analysis_config.json").write_text(json.dumps(doc, indent=2))
        (out_dir / "report.html").write_text(report.render(analysis, summary),
                                             encoding="utf-8")
        summary["seconds"] = round(time.perf_counter() - started, 3)
        return summary
