"""Importing this module warms BlazingText's CPU training kernel in the importing process.

Why: a warm standby process (:func:`mlyard.core.runner.run_standby`) imports the modules
an algorithm lists in ``PRELOAD`` before it takes a job. Importing numba and loading the
Hogwild kernel from numba's on-disk cache (or compiling it, the first time) costs about
1.4 s per process, which every tuning trial paid inside its training time; done here, it
happens while the standby waits. The warm-up trains one step on a two-example data set
with the same array types as a real run, so the specialization a job uses is the one
loaded.
"""

from __future__ import annotations

from mlyard.algorithms.blazingtext.features import FeatureSpace
from mlyard.algorithms.blazingtext.hogwild import HogwildTrainer


def warm_up() -> float:
    """Load (or compile) the kernel; returns the seconds it took."""
    space, data = FeatureSpace.fit(["warm up", "the kernel"], ["a", "b"], 1, 2, 1024)
    trainer = HogwildTrainer(space.n_rows, 4, len(space.labels), data, epochs=1,
                             learning_rate=0.1, threads=1, seed=0)
    try:
        return float(trainer.compile_seconds)
    finally:
        trainer.close()


SECONDS = warm_up()
