"""Unit tests of mlyard.training.debugger: config validation, the hook's file format, the
built-in rules (each fires on a broken run and not on a healthy one) and the rule runner."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from mlyard.training.debugger import (
    BUILTIN_RULES,
    ENV_VAR,
    ClassImbalance,
    DebuggerConfig,
    DebugHook,
    ExplodingTensor,
    PoorWeightInitialization,
    RuleConfig,
    RuleRunner,
    TensorRecord,
    TensorTrace,
    VanishingGradient,
    decode_line,
    evaluate_rules,
    hook_env,
    label_counts,
    tensor_stats,
    trace_file,
)
from mlyard.training.rule_store import RuleEvaluationStatus as S

ALL_RULES = tuple(BUILTIN_RULES)


def _torch() -> Any:
    return pytest.importorskip("torch")


def _strict(line: str) -> dict[str, Any]:
    """Parse a line as strict JSON (no NaN/Infinity literals)."""

    def reject(token: str) -> Any:
        raise AssertionError(f"non-strict JSON constant {token} in {line!r}")

    data = json.loads(line, parse_constant=reject)
    assert isinstance(data, dict)
    return data


def _lines(out: Path, rank: int = 0) -> list[dict[str, Any]]:
    return [_strict(line) for line in trace_file(out, rank).read_text().splitlines()]


def _mlp(seed: int = 0) -> Any:
    torch = _torch()
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


def _train(out: Path, *, steps: int = 60, lr: float = 0.3, save_interval: int = 2,
           prepare: Callable[[Any], None] | None = None, zero_grads: bool = False) -> None:
    """Full-batch SGD of a small MLP on a learnable 3-class problem, with the hook; an eval
    loss on held-out data every 10 steps."""
    torch = _torch()
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(8, 3, generator=gen)
    x, xv = torch.randn(2000, 8, generator=gen), torch.randn(2000, 8, generator=gen)
    y, yv = (x @ w).argmax(1), (xv @ w).argmax(1)
    model = _mlp()
    if prepare is not None:
        prepare(model)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    with DebugHook(out, save_interval=save_interval) as hook:
        for step in range(1, steps + 1):
            loss = loss_fn(model(x), y)
            loss.backward()
            if zero_grads:
                for p in model.parameters():
                    p.grad.mul_(0.0)
            hook.record_train_step(step, loss=loss.item(), model=model, labels=y)
            opt.step()
            opt.zero_grad()
            if step % 10 == 0:
                with torch.no_grad():
                    hook.record_eval(step, loss=loss_fn(model(xv), yv).item())


def _status(out: Path, name: str, **parameters: Any) -> tuple[S, str, int | None]:
    return evaluate_rules(out, [RuleConfig(name=name, parameters=parameters)])[name]


def _rec(step: int, collection: str, name: str, stats: dict[str, Any], *, mode: str = "train",
         rank: int = 0) -> TensorRecord:
    return TensorRecord(step=step, mode=mode, collection=collection, name=name, stats=stats,
                        time=0.0, rank=rank)


def _losses(trace: TensorTrace, mode: str, values: list[float], start: int = 1,
            every: int = 1) -> None:
    for i, v in enumerate(values):
        trace.add(_rec(start + i * every, "losses", "loss", {"value": v}, mode=mode))


# -- config ----------------------------------------------------------------------------------


def test_rule_config_rejects_unknown_rule_and_parameter() -> None:
    with pytest.raises(ValidationError, match=r"unknown rule 'Nope'.*LossNotDecreasing"):
        RuleConfig(name="Nope")
    with pytest.raises(ValidationError, match=r"unknown parameter.*'window'.*allowed.*num_steps"):
        RuleConfig(name="LossNotDecreasing", parameters={"window": 3})
    with pytest.raises(ValidationError, match=r"'num_steps' must be int"):
        RuleConfig(name="LossNotDecreasing", parameters={"num_steps": "ten"})
    with pytest.raises(ValidationError, match=r"'patience' must be >= 1"):
        RuleConfig(name="Overfit", parameters={"patience": 0})
    with pytest.raises(ValidationError, match=r"'mode' must be one of"):
        RuleConfig(name="LossNotDecreasing", parameters={"mode": "predict"})
    with pytest.raises(ValidationError, match="collection_names"):
        RuleConfig(name="ExplodingTensor", parameters={"collection_names": " , "})
    with pytest.raises(ValidationError, match="actions"):
        RuleConfig(name="Overfit", actions=["Halt"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="extra"):
        RuleConfig(name="Overfit", params={})  # type: ignore[call-arg]


def test_rule_config_coerces_to_default_types() -> None:
    cfg = RuleConfig(name="LossNotDecreasing",
                     parameters={"num_steps": "5", "diff_percent": 1, "mode": "TRAIN"})
    assert cfg.parameters == {"num_steps": 5, "diff_percent": 1.0, "mode": "train"}
    assert isinstance(cfg.parameters["diff_percent"], float)
    rule = cfg.build()
    assert rule.params == {"num_steps": 5, "diff_percent": 1.0, "mode": "train"}
    assert RuleConfig(name="ExplodingTensor",
                      parameters={"only_nan": "true"}).parameters["only_nan"] is True
    assert RuleConfig(name="ExplodingTensor", parameters={
        "collection_names": ["losses", "weights"]}).parameters["collection_names"] == \
        "losses,weights"
    assert not RuleConfig(name="Overfit").stop_training
    assert RuleConfig(name="Overfit", actions=["StopTraining"]).stop_training


def test_debugger_config_validation() -> None:
    cfg = DebuggerConfig()
    assert cfg.save_interval == 100
    assert cfg.collections == ["losses", "weights", "gradients", "labels"]
    with pytest.raises(ValidationError, match=r"unknown collection.*'activations'"):
        DebuggerConfig(collections=["losses", "activations"])
    with pytest.raises(ValidationError, match="save_interval"):
        DebuggerConfig(save_interval=0)
    with pytest.raises(ValidationError, match=r"VanishingGradient needs collection.*gradients"):
        DebuggerConfig(collections=["losses"], rules=[RuleConfig(name="VanishingGradient")])
    with pytest.raises(ValidationError, match="repeated"):
        DebuggerConfig(rules=[RuleConfig(name="Overfit"), RuleConfig(name="Overfit")])
    with pytest.raises(ValidationError, match="extra"):
        DebuggerConfig(interval=5)  # type: ignore[call-arg]
    quick = DebuggerConfig.with_rules("Overfit", "ClassImbalance", stop=True, save_interval=7)
    assert quick.save_interval == 7
    assert [r.name for r in quick.rules] == ["Overfit", "ClassImbalance"]
    assert all(r.stop_training for r in quick.rules)
    assert not any(r.stop_training for r in DebuggerConfig.with_rules("Overfit").rules)
    assert DebuggerConfig.model_validate_json(quick.model_dump_json()) == quick


def test_hook_env_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert DebugHook.from_env() is None
    env = hook_env(DebuggerConfig(save_interval=5, collections=["losses", "labels"]), tmp_path)
    assert set(env) == {ENV_VAR}
    assert json.loads(env[ENV_VAR]) == {"out_dir": str(tmp_path), "save_interval": 5,
                                        "collections": ["losses", "labels"]}
    monkeypatch.setenv(ENV_VAR, env[ENV_VAR])
    monkeypatch.setenv("RANK", "3")
    hook = DebugHook.from_env()
    assert hook is not None
    assert (hook.out_dir, hook.save_interval, hook.rank) == (tmp_path, 5, 3)
    assert hook.collections == {"losses", "labels"}
    assert hook.path == tmp_path / "tensors-rank3.jsonl"
    assert DebugHook.from_env(rank=0).rank == 0  # type: ignore[union-attr]
    monkeypatch.setenv(ENV_VAR, "{not json")
    with pytest.raises(ValueError, match=ENV_VAR):
        DebugHook.from_env()


# -- hook and stats --------------------------------------------------------------------------


def test_hook_writes_collections_at_saved_steps(tmp_path: Path) -> None:
    torch = _torch()
    model = _mlp()
    x, y = torch.randn(4, 8), torch.tensor([0, 1, 2, 1])
    hook = DebugHook(tmp_path, save_interval=10)
    assert [s for s in range(0, 31) if hook.should_save(s)] == [0, 1, 10, 20, 30]
    with hook:
        for step in range(1, 26):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            hook.record_train_step(step, loss=loss.item(), model=model, labels=y)
            model.zero_grad()
        hook.record_eval(25, loss=0.5, metrics={"accuracy": 0.75})
    lines = _lines(tmp_path)
    assert all(set(d) == {"step", "mode", "collection", "name", "stats", "time"} for d in lines)
    names = [n for n, _ in model.named_parameters()]
    by: dict[tuple[str, str], list[int]] = {}
    for d in lines:
        steps = by.setdefault((d["collection"], d["mode"]), [])
        if d["step"] not in steps:
            steps.append(d["step"])
    assert by == {("losses", "train"): [1, 10, 20], ("weights", "train"): [1, 10, 20],
                  ("gradients", "train"): [1, 10, 20], ("labels", "train"): [1, 10, 20, 25],
                  ("losses", "eval"): [25], ("metrics", "eval"): [25]}
    assert [d["name"] for d in lines if d["collection"] == "weights" and d["step"] == 10] == names
    # labels are counted at every step, written at saves and at close
    total: dict[str, int] = {}
    for d in lines:
        if d["collection"] == "labels":
            for k, v in d["stats"]["counts"].items():
                total[k] = total.get(k, 0) + v
    assert total == {"0": 25, "1": 50, "2": 25}
    # weight statistics match torch's own
    w = dict(model.named_parameters())["0.weight"].detach().double()
    stats = next(d["stats"] for d in lines if d["collection"] == "weights"
                 and d["name"] == "0.weight" and d["step"] == 20)
    assert stats["numel"] == 128 and stats["ndim"] == 2 and stats["shape"] == [16, 8]
    assert stats["mean"] == pytest.approx(w.mean().item(), abs=1e-6)
    assert stats["std"] == pytest.approx(w.std(unbiased=False).item(), rel=1e-4)
    assert stats["abs_mean"] == pytest.approx(w.abs().mean().item(), rel=1e-4)
    assert (stats["nan"], stats["inf"]) == (0, 0)
    loss_line = next(d for d in lines if d["collection"] == "losses" and d["step"] == 1)
    assert loss_line["name"] == "loss" and isinstance(loss_line["stats"]["value"], float)


def test_hook_collections_filter_and_force(tmp_path: Path) -> None:
    torch = _torch()
    model = _mlp()
    model(torch.randn(2, 8)).sum().backward()
    with DebugHook(tmp_path, save_interval=100, collections=("losses",)) as hook:
        hook.record_train_step(5, loss=1.0, model=model, labels=[0, 1])
        assert not trace_file(tmp_path, 0).exists()
        hook.record_train_step(6, loss=2.0, model=model, labels=[0, 1], force=True)
        hook.record_tensors(6, "weights", {"w": np.ones(3)})  # built-in, not collected
        hook.record_tensors(6, "embeddings", {"e": np.ones(3)})  # custom: always kept
    lines = _lines(tmp_path)
    assert [(d["step"], d["collection"], d["name"]) for d in lines] == [
        (6, "losses", "loss"), (6, "embeddings", "e")]
    with pytest.raises(RuntimeError, match="closed"):
        hook.record_eval(7, loss=1.0)
    with pytest.raises(ValueError, match="collection"):
        DebugHook(tmp_path, collections=("activations",))
    with pytest.raises(ValueError, match="save_interval"):
        DebugHook(tmp_path, save_interval=0)


def test_nonfinite_values_stay_strict_json(tmp_path: Path) -> None:
    torch = _torch()
    bad = torch.tensor([[1.0, float("nan")], [float("inf"), -3.0]])
    with DebugHook(tmp_path) as hook:
        hook.record_tensors(1, "gradients", {"g": bad, "empty": torch.zeros(0),
                                             "allnan": torch.full((3,), float("nan"))})
        hook.record_train_step(1, loss=float("nan"))
        hook.record_tensors(2, "weights", {"w": np.array([float("-inf"), 2.0])})
    raw = trace_file(tmp_path, 0).read_text()
    lines = [_strict(line) for line in raw.splitlines()]
    g = lines[0]["stats"]
    assert (g["numel"], g["nan"], g["inf"], g["min"], g["max"]) == (4, 1, 1, -3.0, 1.0)
    assert g["mean"] == pytest.approx(-1.0) and g["zero_fraction"] == 0.0
    assert lines[1]["stats"]["mean"] is None and lines[1]["stats"]["numel"] == 0
    assert lines[2]["stats"]["nan"] == 3 and lines[2]["stats"]["min"] is None
    assert lines[3]["stats"] == {"value": "NaN"}
    record = decode_line(raw.splitlines()[3])
    assert record.value is not None and math.isnan(record.value)
    assert lines[4]["stats"]["inf"] == 1 and lines[4]["stats"]["max"] == 2.0


def test_stats_numpy_and_torch_agree() -> None:
    torch = _torch()
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 7)).astype(np.float32)
    a[0, :3] = 0.0
    from_numpy, from_torch = tensor_stats(a), tensor_stats(torch.from_numpy(a))
    assert from_numpy.keys() == from_torch.keys()
    for key, value in from_numpy.items():
        assert from_torch[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert from_numpy["zero_fraction"] == pytest.approx(3 / 210)
    assert from_numpy["l2"] == pytest.approx(float(np.linalg.norm(a.astype(np.float64))))
    assert tensor_stats(torch.tensor([1, 2, 3], dtype=torch.int64))["mean"] == 2.0
    assert tensor_stats(7.5)["ndim"] == 0


def test_label_counts() -> None:
    torch = _torch()
    assert label_counts([2, 0, 2, -100]) == {0: 1, 2: 2}
    assert label_counts(np.array([[1, 1], [0, 1]])) == {0: 1, 1: 3}
    assert label_counts(torch.tensor([3, 3, 1])) == {1: 1, 3: 2}
    assert label_counts(np.array([1.0, 0.0])) == {0: 1, 1: 1}
    with pytest.raises(ValueError, match="integer class ids"):
        label_counts([0.5, 1.0])


# -- rules on training runs ------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("healthy")
    _train(out)
    return out


def test_healthy_run_fires_no_rule(healthy_run: Path) -> None:
    results = evaluate_rules(healthy_run, [RuleConfig(name=n) for n in ALL_RULES])
    assert {n: r[0] for n, r in results.items()} == dict.fromkeys(ALL_RULES, S.NO_ISSUES_FOUND)
    trace = TensorTrace.load(healthy_run)
    losses = [v for _, v in trace.losses()]
    assert len(losses) == 31 and losses[-1] < 0.5 * losses[0]


def test_loss_not_decreasing_fires_on_stalled_training(tmp_path: Path) -> None:
    _train(tmp_path, lr=0.0, steps=40)
    status, message, step = _status(tmp_path, "LossNotDecreasing")
    assert status is S.ISSUES_FOUND and "did not decrease" in message
    assert step == 38  # 20 recorded points (steps 1, 2, 4, ..., 38)
    trace = TensorTrace()
    _losses(trace, "eval", [5.0] * 4)
    rule = RuleConfig(name="LossNotDecreasing", parameters={"num_steps": 2, "mode": "eval"})
    assert rule.build().evaluate(trace) is not None
    _losses(trace, "train", [4.0, 3.0, 2.0, 1.0])
    train_rule = RuleConfig(name="LossNotDecreasing", parameters={"num_steps": 2}).build()
    assert train_rule.evaluate(trace) is None


def test_exploding_tensor_fires_on_huge_learning_rate(tmp_path: Path) -> None:
    _train(tmp_path, lr=1e6, steps=10)
    status, message, step = _status(tmp_path, "ExplodingTensor")
    assert status is S.ISSUES_FOUND and step is not None and step <= 10, message


def test_exploding_tensor_nan_inf_and_only_nan() -> None:
    inf_grad = _rec(3, "gradients", "g", {"numel": 2, "nan": 0, "inf": 1, "min": 1.0,
                                          "max": 1.0})
    trace = TensorTrace([inf_grad])
    assert ExplodingTensor(only_nan=True).evaluate(trace) is None
    finding = ExplodingTensor().evaluate(trace)
    assert finding is not None and finding.step == 3 and "infinite" in finding.message
    only_weights = ExplodingTensor(collection_names="weights")
    assert only_weights.evaluate(trace) is None
    trace.add(_rec(5, "losses", "loss", {"value": math.nan}))
    nan_finding = ExplodingTensor(only_nan=True).evaluate(trace)
    assert nan_finding is not None and nan_finding.step == 5 and "NaN" in nan_finding.message
    big = TensorTrace([_rec(1, "weights", "w", {"numel": 2, "nan": 0, "inf": 0, "min": -2e9,
                                                "max": 1.0})])
    assert ExplodingTensor().evaluate(big) is not None
    assert ExplodingTensor(threshold=0).evaluate(big) is None
    # a large but finite loss is legitimate (e.g. squared error on unscaled targets)
    assert ExplodingTensor().evaluate(TensorTrace([_rec(1, "losses", "loss",
                                                        {"value": 1e12})])) is None


def test_vanishing_gradient_fires_on_zero_gradients(tmp_path: Path, healthy_run: Path) -> None:
    _train(tmp_path, steps=6, zero_grads=True)
    status, message, step = _status(tmp_path, "VanishingGradient")
    assert (status, step) == (S.ISSUES_FOUND, 1) and "below 1e-07" in message
    assert _status(healthy_run, "VanishingGradient", threshold=1e-9)[0] is S.NO_ISSUES_FOUND


def test_vanishing_gradient_waits_for_settled_steps() -> None:
    tiny = {"numel": 10, "nan": 0, "inf": 0, "abs_mean": 1e-9}
    trace = TensorTrace([_rec(1, "gradients", "a", tiny)])
    rule = VanishingGradient()
    assert rule.evaluate(trace) is None  # step 1 may still be incomplete
    trace.add(_rec(1, "gradients", "b", {**tiny, "numel": 990, "abs_mean": 1.0}))
    trace.add(_rec(2, "losses", "loss", {"value": 1.0}))
    assert rule.evaluate(trace) is None  # weighted mean over a and b is ~0.99
    trace.add(_rec(2, "gradients", "a", tiny))
    assert rule.evaluate(trace) is None
    trace.final = True
    finding = rule.evaluate(trace)
    assert finding is not None and finding.step == 2


def _scale_first_layer(model: Any) -> None:
    torch = _torch()
    with torch.no_grad():
        model[0].weight.mul_(1000.0)


def _zero_init(model: Any) -> None:
    torch = _torch()
    for module in model:
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.zeros_(module.weight)


@pytest.mark.parametrize(("prepare", "expected"), [(_zero_init, "(nearly) constant"),
                                                   (_scale_first_layer, "fan-in-scaled std")])
def test_poor_weight_initialization_fires(tmp_path: Path, prepare: Callable[[Any], None],
                                          expected: str) -> None:
    _train(tmp_path, steps=3, prepare=prepare)
    status, message, step = _status(tmp_path, "PoorWeightInitialization")
    assert (status, step) == (S.ISSUES_FOUND, 1) and expected in message


def test_poor_weight_initialization_names_the_scaled_layer() -> None:
    torch = _torch()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Linear(32, 32),
                                torch.nn.Linear(32, 4))
    with torch.no_grad():
        model[1].weight.mul_(50.0)
    trace = TensorTrace([_rec(1, "weights", n, tensor_stats(p))
                         for n, p in model.named_parameters()])
    trace.final = True
    finding = PoorWeightInitialization().evaluate(trace)
    assert finding is not None and "'1.weight'" in finding.message
    assert "above the median" in finding.message
    assert PoorWeightInitialization(threshold=100).evaluate(trace) is None


def test_poor_weight_initialization_quiet_on_default_and_bert_like_init() -> None:
    torch = _torch()
    model = torch.nn.Sequential(torch.nn.Linear(8, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
    stats = {n: tensor_stats(p) for n, p in model.named_parameters()}
    trace = TensorTrace([_rec(1, "weights", n, s) for n, s in stats.items()])
    trace.final = True
    assert PoorWeightInitialization().evaluate(trace) is None
    # Matrix stds of the MiniLM-L6 classifier (max/min ratio about 10.5): must not fire.
    minilm = [("embeddings.word_embeddings.weight", (30522, 384), 0.0556),
              ("embeddings.token_type_embeddings.weight", (2, 384), 0.0242)]
    for layer in range(6):
        minilm += [(f"layer.{layer}.attention.self.query.weight", (384, 384), 0.095),
                   (f"layer.{layer}.attention.self.value.weight", (384, 384), 0.044),
                   (f"layer.{layer}.intermediate.dense.weight", (1536, 384), 0.064),
                   (f"layer.{layer}.output.dense.weight", (384, 1536), 0.039)]
    minilm += [("pooler.dense.weight", (384, 384), 0.0091), ("classifier.weight", (2, 384), 0.02)]
    minilm_trace = TensorTrace([_rec(1, "weights", n, {
        "numel": math.prod(shape), "ndim": 2, "shape": list(shape), "std": std,
        "min": -4 * std, "max": 4 * std}) for n, shape, std in minilm])
    minilm_trace.add(_rec(1, "weights", "LayerNorm.weight",
                          {"numel": 384, "ndim": 1, "shape": [384], "std": 0.0, "min": 1.0,
                           "max": 1.0}))
    minilm_trace.final = True
    assert PoorWeightInitialization().evaluate(minilm_trace) is None


def test_class_imbalance(tmp_path: Path, healthy_run: Path) -> None:
    with DebugHook(tmp_path, save_interval=10) as hook:
        for step in range(1, 21):  # 20 batches of 30 labels: 95% class 0, 5% class 1
            batch = [0] * 28 + [1] * 2 if step % 2 else [0] * 29 + [1]
            hook.record_train_step(step, labels=np.array(batch))
    status, message, step = _status(tmp_path, "ClassImbalance")
    assert (status, step) == (S.ISSUES_FOUND, 20) and "class 0 has 570" in message
    assert _status(tmp_path, "ClassImbalance", samples=1000)[0] is S.NO_ISSUES_FOUND
    assert _status(tmp_path, "ClassImbalance", threshold_imbalance=20)[0] is S.NO_ISSUES_FOUND
    assert _status(healthy_run, "ClassImbalance")[0] is S.NO_ISSUES_FOUND


def test_overfit(healthy_run: Path) -> None:
    trace = TensorTrace()
    _losses(trace, "train", [1.0, 0.8, 0.6, 0.4, 0.3, 0.2], start=10, every=10)
    _losses(trace, "eval", [1.05, 0.85, 0.7, 0.6, 0.7], start=15, every=10)
    # eval/train gaps: 5%, 6%, 17%, 50%, 133%
    finding = RuleConfig(name="Overfit").build().evaluate(trace)
    assert finding is not None and finding.step == 35 and "exceeds training loss" in finding.message
    assert RuleConfig(name="Overfit", parameters={"patience": 3}).build() \
        .evaluate(trace).step == 55  # type: ignore[union-attr]
    assert RuleConfig(name="Overfit", parameters={"start_step": 50, "patience": 2}).build() \
        .evaluate(trace) is None
    assert RuleConfig(name="Overfit", parameters={"ratio_threshold": 2.0}).build() \
        .evaluate(trace) is None
    assert _status(healthy_run, "Overfit")[0] is S.NO_ISSUES_FOUND


def test_overtraining(healthy_run: Path) -> None:
    rule = RuleConfig(name="Overtraining", parameters={"patience_validation": 3}).build()
    trace = TensorTrace()
    _losses(trace, "train", [1.0 - 0.05 * i for i in range(12)], every=10)
    assert rule.evaluate(trace) is None
    _losses(trace, "eval", [0.9, 0.8, 0.805, 0.81, 0.85], start=10, every=20)
    finding = rule.evaluate(trace)
    assert finding is not None and finding.step == 90 and "validation loss" in finding.message
    stalled_train = TensorTrace()
    _losses(stalled_train, "train", [1.0, 0.9, 0.895, 0.9, 0.899, 0.91, 0.92])
    finding = RuleConfig(name="Overtraining").build().evaluate(stalled_train)
    assert finding is not None and finding.step == 7 and "training loss" in finding.message
    assert _status(healthy_run, "Overtraining")[0] is S.NO_ISSUES_FOUND


# -- rule runner -----------------------------------------------------------------------------


class Events:
    """Collects the runner's callbacks."""

    def __init__(self) -> None:
        self.status: list[tuple[str, S, str, int | None]] = []
        self.stops: list[str] = []
        self.stopped = threading.Event()

    def on_status(self, name: str, status: S, message: str, step: int | None) -> None:
        self.status.append((name, status, message, step))

    def on_stop(self, reason: str) -> None:
        self.stops.append(reason)
        self.stopped.set()

    def of(self, name: str) -> list[S]:
        return [s for n, s, _, _ in self.status if n == name]


def test_runner_reports_progress_issue_stop_and_finish(tmp_path: Path) -> None:
    events = Events()
    rules = [RuleConfig(name="ExplodingTensor", actions=["StopTraining"]),
             RuleConfig(name="Overfit"),
             RuleConfig(name="ClassImbalance", actions=["StopTraining"])]
    runner = RuleRunner(tmp_path, rules, events.on_status, events.on_stop, poll_seconds=0.02)
    runner.start()
    assert [(n, s) for n, s, _, _ in events.status] == [
        ("ExplodingTensor", S.IN_PROGRESS), ("Overfit", S.IN_PROGRESS),
        ("ClassImbalance", S.IN_PROGRESS)]
    with DebugHook(tmp_path, save_interval=1) as hook:
        hook.record_train_step(1, loss=0.5, labels=[0, 1])
        hook.record_train_step(2, loss=float("inf"))
        assert events.stopped.wait(10), "on_stop was not called"
    final = runner.finish()
    assert final == {"ExplodingTensor": S.ISSUES_FOUND, "Overfit": S.NO_ISSUES_FOUND,
                     "ClassImbalance": S.NO_ISSUES_FOUND}
    assert events.of("ExplodingTensor") == [S.IN_PROGRESS, S.ISSUES_FOUND]
    assert events.of("Overfit") == [S.IN_PROGRESS, S.NO_ISSUES_FOUND]
    issue = next(e for e in events.status if e[1] is S.ISSUES_FOUND)
    assert issue[3] == 2 and "losses tensor 'loss' is inf" in issue[2]
    assert events.stops == [f"Debugger rule ExplodingTensor found issues at step 2: {issue[2]}"]
    count = len(events.status)
    assert runner.finish(completed=False) == final  # idempotent
    assert len(events.status) == count


def test_runner_stopped_and_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def broken(self: ClassImbalance, trace: TensorTrace) -> None:
        calls.append(len(trace))
        raise RuntimeError("boom")

    monkeypatch.setattr(ClassImbalance, "evaluate", broken)
    events = Events()
    runner = RuleRunner(tmp_path, [RuleConfig(name="ClassImbalance"), RuleConfig(name="Overfit")],
                        events.on_status)
    runner.poll()
    runner.poll()
    assert calls == [0]
    assert ("ClassImbalance", S.ERROR, "RuntimeError: boom", None) in events.status
    assert runner.finish(completed=False) == {"ClassImbalance": S.ERROR, "Overfit": S.STOPPED}
    assert events.of("Overfit") == [S.STOPPED]


def test_runner_reads_only_complete_lines(tmp_path: Path) -> None:
    events = Events()
    runner = RuleRunner(tmp_path, [RuleConfig(name="ExplodingTensor")], events.on_status)
    path = trace_file(tmp_path, 0)
    good = json.dumps({"step": 1, "mode": "train", "collection": "losses", "name": "loss",
                       "stats": {"value": 1.0}, "time": 0.0}) + "\n"
    bad = good.replace("1.0", '"NaN"').replace('"step":1', '"step":2')
    half = len(bad) // 2
    path.write_text(good + "this is not json\n" + bad[:half])
    runner.poll()
    assert len(runner.trace) == 1 and runner.trace.bad_lines == 1
    assert events.of("ExplodingTensor") == []
    with path.open("a") as fh:
        fh.write(bad[half:])
    runner.poll()
    assert len(runner.trace) == 2
    assert events.of("ExplodingTensor") == [S.ISSUES_FOUND]


def test_runner_reads_all_ranks(tmp_path: Path) -> None:
    with DebugHook(tmp_path, save_interval=1, rank=0) as r0, \
            DebugHook(tmp_path, save_interval=1, rank=1) as r1:
        r0.record_train_step(1, loss=1.0, labels=[0] * 300)
        r1.record_train_step(1, loss=3.0, labels=[1] * 300)
        r1.record_tensors(2, "gradients", {"w": np.array([np.nan, 1.0])})
    events = Events()
    runner = RuleRunner(tmp_path, [RuleConfig(name="ExplodingTensor"),
                                   RuleConfig(name="ClassImbalance")], events.on_status)
    runner.poll()
    assert runner.trace.ranks == [0, 1]
    assert runner.trace.label_counts() == {0: 300, 1: 300}
    assert runner.trace.losses() == [(1, 2.0)]  # averaged over ranks
    issue = next(e for e in events.status if e[1] is S.ISSUES_FOUND)
    assert issue[0] == "ExplodingTensor" and "rank 1" in issue[2]
    assert runner.finish()["ClassImbalance"] is S.NO_ISSUES_FOUND
