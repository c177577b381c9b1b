"""BlazingText's hyperparameters and metrics, declared once.

SageMaker BlazingText text-classification (``mode=supervised``) hyperparameters keep their
SageMaker names and defaults. Tuning ranges follow SageMaker's recommendations, except
``learning_rate`` (SageMaker suggests 0.005-0.01, below its own default; mlyard searches
0.005-1.0 on a log scale, which covers fastText's usual 0.1-1.0).

mlyard extras: ``threads``, ``seed``, ``backend``, ``shuffle`` and ``batch_size``.
"""

from __future__ import annotations

from mlyard.algorithms.base import MetricDefinition
from mlyard.core.params import Hyperparameter, boolean, categorical, continuous, integer

SUPPORTED_MODE = "supervised"
WORD2VEC_MODES = ("cbow", "skipgram", "batch_skipgram")
BACKENDS = ("auto", "cpu", "torch")

HYPERPARAMETERS: tuple[Hyperparameter, ...] = (
    categorical(
        "mode", SUPPORTED_MODE, (SUPPORTED_MODE,),
        description="Training mode. Only 'supervised' (text classification) is implemented; "
        "SageMaker's Word2Vec modes (cbow, skipgram, batch_skipgram) are refused.",
    ),
    integer(
        "epochs", 5, 1, 1000, tunable=True, tuning_min=5, tuning_max=15, scaling="Linear",
        description="Complete passes through the training data.",
    ),
    continuous(
        "learning_rate", 0.05, 1e-6, 10.0, tunable=True, tuning_min=0.005, tuning_max=1.0,
        scaling="Logarithmic",
        description="Step size of SGD; decays linearly to 0 over all epochs.",
    ),
    integer(
        "min_count", 5, 0, 1_000_000_000, tunable=True, tuning_min=0, tuning_max=100,
        scaling="Linear",
        description="Words seen fewer than min_count times in the training data are dropped "
        "(their n-grams are still hashed).",
    ),
    integer(
        "vector_dim", 100, 1, 1000, tunable=True, tuning_min=32, tuning_max=300,
        scaling="Linear",
        description="Dimension of the word and n-gram embeddings.",
    ),
    integer(
        "word_ngrams", 2, 1, 6, tunable=True, tuning_min=1, tuning_max=3, scaling="Linear",
        description="Longest word n-gram used as a feature (1 = words only).",
    ),
    integer(
        "buckets", 2_000_000, 1, 100_000_000, tunable=True, tuning_min=1_000_000,
        tuning_max=10_000_000, scaling="Logarithmic",
        description="Hash buckets for word n-grams (only buckets the training data uses "
        "take memory).",
    ),
    boolean(
        "early_stopping", False,
        description="Stop when validation accuracy has not improved for `patience` epochs "
        "(after `min_epochs`). Needs a validation channel.",
    ),
    integer(
        "patience", 4, 1, 1000,
        description="Epochs without validation-accuracy improvement before early stopping.",
    ),
    integer(
        "min_epochs", 5, 1, 1000,
        description="Epochs trained before early stopping may apply.",
    ),
    # --- mlyard extras -------------------------------------------------------------------
    integer(
        "threads", 0, 0, 1024,
        description="(mlyard) CPU threads. 0 = the job's TrainingContext.num_threads when it "
        "is above 1, else all cores available to the process.",
    ),
    integer(
        "seed", -1, -1, 2**31 - 1,
        description="(mlyard) Random seed of initialization and shuffling; -1 = the job's "
        "seed. Results are exactly repeatable only with threads=1 (Hogwild is racy).",
    ),
    categorical(
        "backend", "auto", BACKENDS,
        description="(mlyard) 'cpu' = numba Hogwild per-example SGD (fastText's algorithm); "
        "'torch' = minibatch SGD with torch (CUDA or CPU); 'auto' = torch when the job's "
        "device is CUDA or, with device 'auto', when CUDA is available; else cpu.",
    ),
    boolean(
        "shuffle", False,
        description="(mlyard) Reshuffle the training examples every epoch. Off by default, "
        "as fastText and BlazingText read the file in order: shuffle a file sorted by label, "
        "or set this (training logs a warning when the labels look sorted).",
    ),
    integer(
        "batch_size", 256, 1, 1_048_576,
        description="(mlyard) Examples per minibatch of the torch backend (ignored by cpu).",
    ),
)

METRICS: tuple[MetricDefinition, ...] = (
    MetricDefinition("train:accuracy", r"#train_accuracy: (\S+)", maximize=True),
    MetricDefinition("validation:accuracy", r"#validation_accuracy: (\S+)", maximize=True),
    MetricDefinition("validation:macro_f1", r"#validation_macro_f1: (\S+)", maximize=True),
)
