"""The Google-Drive-on-Colab flow off Colab: a folder-per-class tree (made here) copied once to local
disk, loaded with the folder loader, cached on local disk; and ``find_fsdd``."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcourse.audio import cache as C
from dlcourse.audio import datasets as D
from dlcourse.audio import io


def _tree(root, words=("no", "yes"), speakers=("ana", "bo"), takes=2):
    t = np.arange(4000) / 8000
    for w_i, w in enumerate(words):
        for s_i, s in enumerate(speakers):
            for k in range(takes):
                wave = 0.3 * np.sin(2 * np.pi * (300 + 200 * w_i + 37 * s_i + 5 * k) * t)
                io.write_audio(root / w / f"{s}_{k}.wav", torch.from_numpy(wave).float(), 8000)
    (root / "_background_noise_").mkdir(parents=True)
    (root / "yes" / "notes.txt").write_text("not audio")
    (root / "no" / "sub").mkdir()
    io.write_audio(root / "no" / "sub" / "cy_0.wav", torch.zeros(4000), 8000)   # nested files count too


def test_copy_once_then_load_the_local_folder_per_class_tree(tmp_path):
    drive, local = tmp_path / "drive" / "words", tmp_path / "content" / "words"
    _tree(drive)
    first = D.copy_to_local(drive, local)
    assert first["copied"] == 9 and first["present"] == 0 and first["bytes"] > 0
    again = D.copy_to_local(drive, local)
    assert again["copied"] == 0 and again["present"] == 9, "a second call must copy nothing"
    (local / "yes" / "bo_1.wav").write_bytes(b"RIFF")          # a partial copy (size differs) is redone
    assert D.copy_to_local(drive, local)["copied"] == 1
    assert not (local / "yes" / "notes.txt").exists() and not list(local.rglob(".*.part"))
    clips = D.load_folder(local)
    assert clips.class_names == ("no", "yes") and len(clips) == 9
    assert sorted(set(clips.speakers)) == ["ana", "bo", "cy"]
    assert np.bincount(clips.labels).tolist() == [5, 4]
    c = C.build_cache(clips, tmp_path / "content" / "cache", verbose=False)
    assert c.shape[0] == 9 and c.class_names == ("no", "yes")
    with pytest.raises(D.DatasetUnavailable, match="not a folder"):
        D.copy_to_local(tmp_path / "nowhere", local)
    with pytest.raises(ValueError, match="same folder"):
        D.copy_to_local(local, local)
    (tmp_path / "empty").mkdir()
    with pytest.raises(D.DatasetUnavailable, match="no "):
        D.copy_to_local(tmp_path / "empty", tmp_path / "e2")


def test_find_fsdd_takes_the_first_usable_root(tmp_path, monkeypatch):
    monkeypatch.delenv("DLCOURSE_FSDD", raising=False)
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path / "home"))
    assert D.find_fsdd([tmp_path / "missing"]) is None
    rec = tmp_path / "repo" / "recordings"
    io.write_audio(rec / "3_ana_0.wav", torch.zeros(800), 8000)
    assert D.find_fsdd([tmp_path / "missing", tmp_path / "repo"]) == tmp_path / "repo"
    monkeypatch.setenv("DLCOURSE_FSDD", str(tmp_path / "repo"))
    assert D.find_fsdd() == tmp_path / "repo"
