"""The training kind's preload list: what a warm standby imports before a trial."""

from __future__ import annotations

from mlyard.core.specs import Channel
from mlyard.training.kind import TrainingKind
from mlyard.training.spec import TrainingJobSpec


def test_standbys_preload_the_algorithm_and_its_warm_kernels() -> None:
    spec = TrainingJobSpec(algorithm="blazingtext",
                           channels=[Channel(name="train", uri="/data/train.csv")])
    modules = TrainingKind().preload(spec)
    assert "mlyard.algorithms.blazingtext" in modules
    # numba and the Hogwild kernel load in the standby, not in the trial (issue 10 item 16)
    assert "mlyard.algorithms.blazingtext.warm" in modules


def test_script_jobs_preload_only_the_runner() -> None:
    spec = TrainingJobSpec(entry_point="train.py", source_dir=".")
    assert list(TrainingKind().preload(spec)) == ["mlyard.training.run"]
