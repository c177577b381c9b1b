"""SageMaker Clarify's Python vocabulary over mlyard's analysis jobs.

>>> from mlyard.sdk.clarify import BiasConfig, DataConfig, SageMakerClarifyProcessor
>>> data = DataConfig(s3_data_input_path="reviews.csv", s3_output_path="bias/",
...                   label="sentiment", headers=df.columns.to_list())
>>> bias = BiasConfig(label_values_or_threshold=[1], facet_name="product_category")
>>> SageMakerClarifyProcessor().run_pre_training_bias(data, bias, methods=["CI", "DPL"])

Code written for ``sagemaker.clarify`` runs with its import changed: the configuration
objects keep Clarify's names and defaults, paths may be local (or ``table:NAME``, or an
artifact URI), and each ``run_*`` submits an ``analysis`` job (:mod:`mlyard.analysis.kind`)
whose configuration is the bias or explain analyzer's (``BiasAnalysisConfig``,
``ExplainAnalysisConfig``). Options that only make sense on AWS (instance types, KMS keys,
roles) are accepted and ignored; options that would change the analysis and that mlyard
does not support (image explanations, compressed input, model output paths, ...) raise a
:class:`~mlyard.errors.ValidationError` saying so, instead of being dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlyard.analysis.kind import REPORT_JSON_FILES, AnalysisJobSpec
from mlyard.core.jobs import submit_job, unique_job_name
from mlyard.core.workspace import Workspace, default_workspace
from mlyard.errors import NotFoundError, ValidationError, problem_text
from mlyard.sdk.jobs import Job

Value = str | int | float
#: Clarify's dataset types and the file formats mlyard reads for them.
DATASET_TYPES = {"text/csv": {"csv", "tsv"}, "application/jsonlines": {"jsonl"},
                 "application/x-parquet": {"parquet"}}


def _unsupported(what: str, why: str) -> ValidationError:
    return ValidationError(f"{what} is not supported by mlyard: {why}")


def _location(path: str) -> str:
    if "://" in path or path.startswith("table:"):
        return path
    return str(Path(path).expanduser().resolve())


class DataConfig:
    """The dataset and where the results go (Clarify's ``DataConfig``). ``label`` is the
    label column's name (or its index in ``headers``); ``headers``, if given, must be the
    data's columns; ``features``, a list of column names, are the model's inputs."""

    def __init__(self, s3_data_input_path: str, s3_output_path: str,
                 s3_analysis_config_output_path: str | None = None,
                 label: str | int | None = None, headers: Sequence[str] | None = None,
                 features: str | Sequence[str] | None = None, dataset_type: str = "text/csv",
                 s3_compression_type: str | None = "None", joinsource: str | int | None = None,
                 facet_dataset_uri: str | None = None,
                 facet_headers: Sequence[str] | None = None,
                 predicted_label_dataset_uri: str | None = None,
                 predicted_label_headers: Sequence[str] | None = None,
                 predicted_label: str | int | None = None,
                 excluded_columns: Sequence[str | int] | None = None,
                 segmentation_config: Any = None, time_series_data_config: Any = None) -> None:
        if dataset_type not in DATASET_TYPES:
            raise _unsupported(f"dataset_type {dataset_type!r}",
                               f"use one of {sorted(DATASET_TYPES)}")
        if s3_compression_type not in (None, "None"):
            raise _unsupported(f"s3_compression_type {s3_compression_type!r}",
                               "give an uncompressed file")
        if isinstance(features, str):
            raise _unsupported("features as a JMESPath",
                               "JSON Lines columns are read directly; give a list of columns")
        for name, value in (("joinsource", joinsource), ("facet_dataset_uri", facet_dataset_uri),
                            ("facet_headers", facet_headers),
                            ("predicted_label_dataset_uri", predicted_label_dataset_uri),
                            ("predicted_label_headers", predicted_label_headers),
                            ("segmentation_config", segmentation_config),
                            ("time_series_data_config", time_series_data_config)):
            if value is not None:
                raise _unsupported(name, "keep facets and predicted labels as columns of the "
                                         "one dataset")
        self.s3_data_input_path = s3_data_input_path
        self.s3_output_path = s3_output_path
        self.s3_analysis_config_output_path = s3_analysis_config_output_path
        self.headers = list(headers) if headers is not None else None
        self.label = self._column(label, "label")
        self.features = list(features) if features is not None else None
        self.dataset_type = dataset_type
        self.predicted_label = self._column(predicted_label, "predicted_label")
        self.excluded_columns = [c for c in (self._column(x, "excluded_columns")
                                             for x in excluded_columns or ()) if c is not None]
        self._columns: list[str] | None = None

    def _column(self, value: str | int | None, what: str) -> str | None:
        """A column name from a name or an index into ``headers``."""
        if value is None or isinstance(value, str):
            return value
        if self.headers is None or not 0 <= value < len(self.headers):
            raise ValidationError(f"{what}: index {value} needs headers with that many "
                                  "columns; give the column name")
        return self.headers[value]

    def columns(self, ws: Workspace) -> list[str]:
        """The dataset's columns (read once), checked against ``headers`` and the type."""
        if self._columns is None:
            from mlyard.analysis.data import file_format, read_frame
            from mlyard.core.context import resolve_input

            source = self.s3_data_input_path
            if source.startswith("table:"):
                frame = read_frame(source, ws=ws, what="s3_data_input_path")
            else:
                path = (resolve_input(ws, source, "s3_data_input_path") if "://" in source
                        else Path(source).expanduser())
                if path.is_file() and file_format(path) not in DATASET_TYPES[self.dataset_type]:
                    raise ValidationError(f"dataset_type {self.dataset_type!r} does not match "
                                          f"{path.name} ({file_format(path)})")
                frame = read_frame(path, ws=ws, what="s3_data_input_path")
            self._columns = [str(c) for c in frame.columns]
            if self.headers is not None and self.headers != self._columns:
                raise ValidationError(f"headers {self.headers} differ from the data's columns "
                                      f"{self._columns} (the file needs a header row)")
        return self._columns

    def model_features(self, ws: Workspace) -> list[str] | None:
        """The model's input columns: ``features``, or every column but the label, the
        predicted label and ``excluded_columns`` when columns are excluded (else None: the
        analyzer's default)."""
        if self.features is not None:
            return self.features
        if not self.excluded_columns:
            return None
        dropped = {self.label, self.predicted_label, *self.excluded_columns}
        return [c for c in self.columns(ws) if c not in dropped]


class BiasConfig:
    """The label values and facets of a bias analysis (Clarify's ``BiasConfig``).
    ``facet_name`` is one column or a list; with a list, ``facet_values_or_threshold`` is a
    list with one entry (values, ``[threshold]`` or None) per facet."""

    def __init__(self, label_values_or_threshold: Sequence[Value],
                 facet_name: str | int | Sequence[str | int],
                 facet_values_or_threshold: Sequence[Any] | None = None,
                 group_name: str | None = None) -> None:
        self.label_values_or_threshold = list(label_values_or_threshold)
        names = [facet_name] if isinstance(facet_name, (str, int)) else list(facet_name)
        if not names:
            raise ValidationError("facet_name: give at least one facet column")
        if isinstance(facet_name, (str, int)):
            values: list[Any] = [facet_values_or_threshold]
        elif facet_values_or_threshold is None:
            values = [None] * len(names)
        else:
            values = list(facet_values_or_threshold)
            if len(values) != len(names):
                raise ValidationError(f"facet_values_or_threshold has {len(values)} entries "
                                      f"for {len(names)} facets; give one per facet")
        if any(isinstance(n, int) for n in names):
            raise _unsupported("a facet given by index", "give the facet's column name")
        self.facet_name = facet_name
        self.facets = [{"name": str(n), "values_or_threshold":
                        list(v) if v is not None else None} for n, v in zip(names, values,
                                                                            strict=True)]
        self.facet_values_or_threshold = facet_values_or_threshold
        self.group_name = group_name


class ModelConfig:
    """The model whose predictions the analysis uses (Clarify's ``ModelConfig``):
    ``model_name`` is a registered mlyard model. Instance settings are accepted and ignored
    (the model runs in the job's process)."""

    def __init__(self, model_name: str | None = None, instance_count: int | None = None,
                 instance_type: str | None = None, accept_type: str | None = None,
                 content_type: str | None = None, content_template: str | None = None,
                 record_template: str | None = None, custom_attributes: str | None = None,
                 accelerator_type: str | None = None, endpoint_name_prefix: str | None = None,
                 target_model: str | None = None, endpoint_name: str | None = None,
                 time_series_model_config: Any = None) -> None:
        if model_name is None:
            raise ValidationError("ModelConfig needs model_name (a registered model)")
        for name, value in (("content_template", content_template),
                            ("record_template", record_template),
                            ("custom_attributes", custom_attributes),
                            ("target_model", target_model), ("endpoint_name", endpoint_name),
                            ("time_series_model_config", time_series_model_config)):
            if value is not None:
                raise _unsupported(f"ModelConfig {name}", "the registered model is called "
                                   "directly with the dataset's columns")
        self.model_name = model_name
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.accept_type = accept_type
        self.content_type = content_type


class ModelPredictedLabelConfig:
    """How predictions become labels (Clarify's ``ModelPredictedLabelConfig``): mlyard
    models return labels and probabilities by name, so only ``probability_threshold`` (a
    binary model's score above which the prediction is positive) applies."""

    def __init__(self, label: str | int | None = None, probability: str | int | None = None,
                 probability_threshold: float | None = None,
                 label_headers: Sequence[str] | None = None) -> None:
        for name, value in (("label", label), ("probability", probability),
                            ("label_headers", label_headers)):
            if value is not None:
                raise _unsupported(f"ModelPredictedLabelConfig {name}", "mlyard models "
                                   "return their labels and probabilities by name")
        self.probability_threshold = probability_threshold


class TextConfig:
    """The unit and language of a text explanation (Clarify's ``TextConfig``)."""

    GRANULARITIES = ("token", "sentence", "paragraph")

    def __init__(self, granularity: str, language: str) -> None:
        if granularity not in self.GRANULARITIES:
            raise ValidationError(f"granularity {granularity!r}: use one of "
                                  f"{list(self.GRANULARITIES)}")
        self.granularity = granularity
        self.language = language


class SHAPConfig:
    """Kernel SHAP settings (Clarify's ``SHAPConfig``); with ``text_config`` the dataset's
    single feature column (or the one in ``features_to_explain``) is explained as text."""

    AGG_METHODS = ("mean_abs", "median", "mean_sq")

    def __init__(self, baseline: str | list[list[Any]] | None = None,
                 num_samples: int | None = None, agg_method: str | None = "mean_abs",
                 use_logit: bool = False, save_local_shap_values: bool = True,
                 seed: int | None = None, num_clusters: int | None = None,
                 text_config: TextConfig | None = None, image_config: Any = None,
                 features_to_explain: Sequence[str | int] | None = None) -> None:
        if image_config is not None:
            raise _unsupported("image_config", "image explanations are not available")
        if num_clusters is not None:
            raise _unsupported("num_clusters", "give baseline rows, or none for a data summary")
        if isinstance(baseline, str):
            raise _unsupported("a baseline file", "give the baseline rows as a list of lists")
        agg = agg_method or "mean_abs"
        if agg not in self.AGG_METHODS:
            raise ValidationError(f"agg_method {agg!r}: use one of {list(self.AGG_METHODS)}")
        if features_to_explain is not None and any(isinstance(f, int)
                                                   for f in features_to_explain):
            raise _unsupported("features_to_explain by index", "give column names")
        self.baseline = baseline
        self.num_samples = num_samples
        self.agg_method = agg
        self.use_logit = use_logit
        self.save_local_shap_values = save_local_shap_values
        self.seed = seed
        self.text_config = text_config
        self.features_to_explain = ([str(f) for f in features_to_explain]
                                    if features_to_explain is not None else None)


class AnalysisJob(Job):
    """An analysis job handle: where its files are and what it found."""

    @property
    def output(self) -> str | None:
        """Where the analysis' files were stored, once Completed."""
        return self.record.outputs.get("output")

    @property
    def summary(self) -> dict[str, Any]:
        """The analyzer's summary (empty until Completed)."""
        from mlyard.analysis.store import AnalysisStore

        try:
            return AnalysisStore.of(self.workspace.store).get_analysis(self.name).summary
        except NotFoundError:
            return {}

    def analysis(self) -> dict[str, Any]:
        """The analysis' own JSON (``analysis.json`` in Clarify's schema for bias and
        explanations, ``profile.json`` for a profile); NotFoundError before it Completed."""
        output = self.output
        if output:
            for name in REPORT_JSON_FILES:
                uri = f"{output.rstrip('/')}/{name}"
                if self.workspace.artifacts.exists(uri):
                    data = json.loads(self.workspace.artifacts.read_bytes(uri))
                    return data if isinstance(data, dict) else {"value": data}
        raise NotFoundError(f"analysis job {self.name!r} has no analysis output")


def _methods(methods: str | Sequence[str] | None) -> str | list[str] | None:
    if methods is None or methods == "all":
        return methods
    if isinstance(methods, str):
        return [methods]
    return list(methods)


class SageMakerClarifyProcessor:
    """Runs bias and explainability analyses as mlyard jobs (Clarify's processor). AWS
    settings (role, instances, volumes, KMS keys, network) are accepted and ignored;
    ``latest_job`` is the last job started."""

    def __init__(self, role: str | None = None, instance_count: int | None = 1,
                 instance_type: str | None = "local", volume_size_in_gb: int = 30,
                 volume_kms_key: str | None = None, output_kms_key: str | None = None,
                 max_runtime_in_seconds: int | None = None, sagemaker_session: Any = None,
                 env: dict[str, str] | None = None, tags: Any = None,
                 network_config: Any = None, job_name_prefix: str | None = None,
                 version: str | None = None, skip_early_validation: bool = False,
                 workspace: Workspace | None = None) -> None:
        self.role = role
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.job_name_prefix = job_name_prefix
        self.workspace = workspace or default_workspace()
        self.latest_job: AnalysisJob | None = None

    # -- the analyses ---------------------------------------------------------------------
    def run_pre_training_bias(self, data_config: DataConfig, data_bias_config: BiasConfig,
                              methods: str | Sequence[str] = "all", wait: bool = True,
                              logs: bool = True, job_name: str | None = None,
                              kms_key: str | None = None,
                              experiment_config: Any = None) -> AnalysisJob:
        """Pre-training bias metrics of the data (CI, DPL, KL, JS, LP, TVD, KS, CDDL)."""
        config = self._bias_config(data_config, data_bias_config, None, None,
                                   _methods(methods), None)
        return self._run("bias", config, data_config, None, wait, logs, job_name)

    def run_post_training_bias(self, data_config: DataConfig, data_bias_config: BiasConfig,
                               model_config: ModelConfig | None = None,
                               model_predicted_label_config: ModelPredictedLabelConfig |
                               None = None, methods: str | Sequence[str] = "all",
                               wait: bool = True, logs: bool = True,
                               job_name: str | None = None, kms_key: str | None = None,
                               experiment_config: Any = None) -> AnalysisJob:
        """Post-training bias metrics of a model's predictions (DPPL, DI, DCAcc, ...), or of
        ``data_config.predicted_label``'s column without a model."""
        config = self._bias_config(data_config, data_bias_config, model_config,
                                   model_predicted_label_config, None, _methods(methods))
        return self._run("bias", config, data_config, model_config, wait, logs, job_name)

    def run_bias(self, data_config: DataConfig, bias_config: BiasConfig,
                 model_config: ModelConfig | None = None,
                 model_predicted_label_config: ModelPredictedLabelConfig | None = None,
                 pre_training_methods: str | Sequence[str] = "all",
                 post_training_methods: str | Sequence[str] = "all", wait: bool = True,
                 logs: bool = True, job_name: str | None = None, kms_key: str | None = None,
                 experiment_config: Any = None) -> AnalysisJob:
        """Pre- and post-training bias metrics in one job."""
        config = self._bias_config(data_config, bias_config, model_config,
                                   model_predicted_label_config,
                                   _methods(pre_training_methods),
                                   _methods(post_training_methods))
        return self._run("bias", config, data_config, model_config, wait, logs, job_name)

    def run_explainability(self, data_config: DataConfig, model_config: ModelConfig,
                           explainability_config: SHAPConfig | Sequence[SHAPConfig],
                           model_scores: str | int | None = None, wait: bool = True,
                           logs: bool = True, job_name: str | None = None,
                           kms_key: str | None = None,
                           experiment_config: Any = None) -> AnalysisJob:
        """SHAP explanations of ``model_config``'s model on the dataset."""
        if model_scores is not None:
            raise _unsupported("model_scores", "mlyard models return their probabilities "
                               "by label")
        shap = explainability_config
        if not isinstance(shap, SHAPConfig):
            configs = list(shap)
            if len(configs) != 1 or not isinstance(configs[0], SHAPConfig):
                raise _unsupported("explainability methods other than one SHAPConfig",
                                   "give a single SHAPConfig")
            shap = configs[0]
        config = self.explain_config(data_config, shap)
        return self._run("explain", config, data_config, model_config, wait, logs, job_name)

    # -- the mapping onto the analyzers' configurations ------------------------------------
    def _bias_config(self, data: DataConfig, bias: BiasConfig, model: ModelConfig | None,
                     predicted: ModelPredictedLabelConfig | None,
                     pre: str | list[str] | None, post: str | list[str] | None,
                     ) -> dict[str, Any]:
        if data.label is None:
            raise ValidationError("DataConfig needs label (the label column) for bias metrics")
        if post is not None and model is None and data.predicted_label is None:
            raise ValidationError("post-training bias needs a ModelConfig or "
                                  "DataConfig(predicted_label=COLUMN)")
        if model is not None and data.predicted_label is not None:
            raise ValidationError("give a ModelConfig or DataConfig.predicted_label, not both")
        config: dict[str, Any] = {
            "label": data.label,
            "label_values_or_threshold": bias.label_values_or_threshold,
            "facets": bias.facets, "group_name": bias.group_name,
            "pre_training_methods": pre, "post_training_methods": post,
            "predicted_label": data.predicted_label,
            "probability_threshold": predicted.probability_threshold if predicted else None,
            "features": data.model_features(self.workspace) if model is not None else None,
        }
        return config

    def explain_config(self, data: DataConfig, shap: SHAPConfig) -> dict[str, Any]:
        """The explain analyzer's configuration for ``data`` and ``shap``."""
        config: dict[str, Any] = {
            "label": data.label, "baseline": shap.baseline, "num_samples": shap.num_samples,
            "agg_method": shap.agg_method, "use_logit": shap.use_logit,
            "save_local_shap_values": shap.save_local_shap_values,
            "seed": shap.seed if shap.seed is not None else 0,
        }
        features = shap.features_to_explain or data.model_features(self.workspace)
        if shap.text_config is not None:
            if features is None:
                dropped = {data.label, data.predicted_label, *data.excluded_columns}
                features = [c for c in data.columns(self.workspace) if c not in dropped]
            if len(features) != 1:
                raise ValidationError(f"a text explanation needs one text column; the data "
                                      f"has {features}: give features_to_explain=[COLUMN]")
            config.update(text_column=features[0],
                          granularity=shap.text_config.granularity,
                          language=shap.text_config.language)
        else:
            config["features"] = features
        return {k: v for k, v in config.items() if v is not None}

    def _run(self, analysis: str, config: dict[str, Any], data: DataConfig,
             model: ModelConfig | None, wait: bool, logs: bool,
             job_name: str | None) -> AnalysisJob:
        if analysis == "bias":
            config = {k: v for k, v in config.items() if v is not None
                      or k in ("pre_training_methods", "post_training_methods")}
        try:
            spec = AnalysisJobSpec(analysis=analysis, config=config,
                                   inputs={"data": _location(data.s3_data_input_path)},
                                   model_name=model.model_name if model else None,
                                   output=_location(data.s3_output_path),
                                   max_runtime_seconds=self.max_runtime_in_seconds)
        except ValueError as exc:
            raise ValidationError(f"invalid analysis job: {problem_text(exc)}") from None
        prefix = self.job_name_prefix or f"clarify-{analysis}"
        name = job_name or unique_job_name(prefix)
        submit_job(self.workspace, spec, name)
        self.latest_job = AnalysisJob(self.workspace, name)
        if wait:
            self.latest_job.wait(logs=logs)
        return self.latest_job


#: Clarify's shorter name of the processor.
ClarifyProcessor = SageMakerClarifyProcessor
