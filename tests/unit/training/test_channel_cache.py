"""The prepared-channel cache: keys follow file content, entries are atomic and checked,
and a corrupt or partial entry is never used (issue 10, item 16)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlyard.training.channel_cache import ENV, MANIFEST, ChannelCache

PARAMS = {"min_count": 2, "word_ngrams": 2}


def _file(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _entry() -> tuple[dict[str, np.ndarray], dict[str, object]]:
    return ({"ids": np.arange(10, dtype=np.int32), "w": np.ones((2, 3), np.float32)},
            {"vocab": ["a", "b"], "n": 2})


def test_key_follows_content_not_names(tmp_path: Path) -> None:
    a = _file(tmp_path / "a" / "train.csv", "label,text\n1,good\n")
    copy = _file(tmp_path / "b" / "other.csv", "label,text\n1,good\n")
    key = ChannelCache.key("bt", {"train": [a]}, PARAMS)
    assert ChannelCache.key("bt", {"train": [copy]}, PARAMS) == key
    assert ChannelCache.key("bt", {"train": [a]}, {**PARAMS, "word_ngrams": 3}) != key
    assert ChannelCache.key("other", {"train": [a]}, PARAMS) != key
    a.write_text("label,text\n1,bad\n")
    assert ChannelCache.key("bt", {"train": [a]}, PARAMS) != key


def test_store_then_load_round_trips(tmp_path: Path) -> None:
    cache = ChannelCache(tmp_path / "cache")
    arrays, meta = _entry()
    assert cache.load("k1") is None
    assert cache.store("k1", arrays, meta) is True
    found = cache.load("k1")
    assert found is not None
    assert found[1] == meta
    for name, array in arrays.items():
        assert np.array_equal(found[0][name], array) and found[0][name].dtype == array.dtype
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "no manifest", "bad manifest",
                                    "missing array", "other format"])
def test_a_damaged_entry_is_never_used(tmp_path: Path, damage: str) -> None:
    cache = ChannelCache(tmp_path / "cache")
    arrays, meta = _entry()
    cache.store("k1", arrays, meta)
    folder = tmp_path / "cache" / "k1"
    array_file = folder / "ids.npy"
    if damage == "flip a byte":
        raw = bytearray(array_file.read_bytes())
        raw[-1] ^= 0xFF
        array_file.write_bytes(bytes(raw))
    elif damage == "truncate":
        array_file.write_bytes(array_file.read_bytes()[:20])
    elif damage == "no manifest":
        (folder / MANIFEST).unlink()
    elif damage == "bad manifest":
        (folder / MANIFEST).write_text("{not json")
    elif damage == "missing array":
        array_file.unlink()
    else:
        manifest = json.loads((folder / MANIFEST).read_text())
        (folder / MANIFEST).write_text(json.dumps({**manifest, "format": 0}))
    assert cache.load("k1") is None
    assert not folder.exists()  # moved aside
    assert cache.store("k1", arrays, meta) is True  # and prepared again
    assert cache.load("k1") is not None


def test_a_left_over_temporary_folder_is_not_an_entry(tmp_path: Path) -> None:
    cache = ChannelCache(tmp_path / "cache")
    arrays, meta = _entry()
    cache.store("k1", arrays, meta)
    partial = tmp_path / "cache" / ".tmp-k2-dead"
    shutil.copytree(tmp_path / "cache" / "k1", partial)
    assert cache.load("k2") is None


def test_concurrent_stores_of_one_key_leave_one_intact_entry(tmp_path: Path) -> None:
    cache = ChannelCache(tmp_path / "cache")
    arrays, meta = _entry()
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(cache.store("k", arrays, meta)))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) >= 1
    assert cache.load("k") is not None
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["k"]


def test_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert ChannelCache.from_env() is None
    monkeypatch.setenv(ENV, str(tmp_path))
    found = ChannelCache.from_env()
    assert found is not None and found.root == tmp_path


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_in_place_of_an_array_are_a_miss(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cache = ChannelCache(Path(tmp))
        arrays, meta = _entry()
        cache.store("k", arrays, meta)
        (Path(tmp) / "k" / "ids.npy").write_bytes(data)
        assert cache.load("k") is None
