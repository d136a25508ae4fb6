"""dlcourse.audio.datasets: FSDD splits (standard, speaker-independent, leave-one-speaker-out), Speech
Commands layout and download (checksum, resume, offline), folder trees, and the generated set."""
from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dlcourse.audio import datasets as D
from dlcourse.audio import io as aio
from dlcourse.data import DatasetUnavailable

SPEAKERS = ("ana", "ben", "cho", "dev")


@pytest.fixture(scope="module")
def fsdd_tree(tmp_path_factory) -> Path:
    """An FSDD-like tree of generated words: 4 speakers x 10 digits x 6 takes, plus a stray file."""
    root = tmp_path_factory.mktemp("fsdd")
    rec = root / "recordings"
    for s, name in enumerate(SPEAKERS):
        traits = D.speaker_traits(s, seed=11)
        for digit in range(10):
            for take in range(6):
                wave = D.synthesize_word(digit, traits, np.random.default_rng([s, digit, take]), 8000)
                aio.write_audio(rec / f"{digit}_{name}_{take}.wav", wave, 8000)
    return root


def test_fsdd_standard_split(fsdd_tree):
    all_ = D.load_fsdd(fsdd_tree)
    assert len(all_) == 240 and all_.class_names == tuple(str(i) for i in range(10))
    train, test = D.load_fsdd(fsdd_tree, "train"), D.load_fsdd(fsdd_tree / "recordings", "test")
    assert len(test) == 4 * 10 * 5 and len(train) == 4 * 10 * 1
    assert set(test.takes.tolist()) == {0, 1, 2, 3, 4} and set(train.takes.tolist()) == {5}
    assert not set(map(str, train.paths)) & set(map(str, test.paths))
    assert set(train.speakers) == set(test.speakers) == set(SPEAKERS)
    p = test.paths[0]
    digit, speaker, take = p.stem.split("_")
    i = 0
    assert test.labels[i] == int(digit) and test.speakers[i] == speaker and test.takes[i] == int(take)


def test_fsdd_root_layouts(fsdd_tree, tmp_path):
    """The repository, its recordings/ folder, or a data root holding fsdd/ (the benches' --data-root)."""
    (tmp_path / "fsdd").symlink_to(fsdd_tree, target_is_directory=True)
    for root in (fsdd_tree, fsdd_tree / "recordings", tmp_path):
        clips = D.load_fsdd(root)
        assert len(clips) == 240 and Path(clips.info["root"]).name == "recordings"


def test_fsdd_speaker_independent_split(fsdd_tree):
    train = D.load_fsdd(fsdd_tree, "train", scheme="speaker", test_speakers=["cho"])
    test = D.load_fsdd(fsdd_tree, "test", scheme="speaker", test_speakers=["cho"])
    assert set(test.speakers) == {"cho"} and set(train.speakers) == {"ana", "ben", "dev"}
    assert len(train) + len(test) == 240 and len(test) == 60
    assert test.class_counts() == {str(d): 6 for d in range(10)}
    with pytest.raises(ValueError, match="unknown test speakers"):
        D.load_fsdd(fsdd_tree, "test", scheme="speaker", test_speakers=["zed"])
    with pytest.raises(ValueError, match="test_speakers"):
        D.load_fsdd(fsdd_tree, "test", scheme="speaker")
    with pytest.raises(ValueError, match="split"):
        D.load_fsdd(fsdd_tree, "validation")


def test_leave_one_speaker_out(fsdd_tree):
    folds = list(D.leave_one_speaker_out(D.load_fsdd(fsdd_tree)))
    assert [s for s, _, _ in folds] == sorted(SPEAKERS)
    for s, train, test in folds:
        assert set(test.speakers) == {s} and s not in train.speakers and len(train) + len(test) == 240
    with pytest.raises(ValueError, match="two speakers"):
        list(D.leave_one_speaker_out(D.load_fsdd(fsdd_tree).only_speakers(["ana"])))


def test_fsdd_missing_and_stray_files(tmp_path, fsdd_tree):
    with pytest.raises(DatasetUnavailable, match="FSDD"):
        D.load_fsdd(tmp_path)
    import shutil

    shutil.copytree(fsdd_tree, tmp_path / "copy")
    aio.write_audio(tmp_path / "copy" / "recordings" / "notes.wav", np.zeros(100), 8000)
    with pytest.warns(UserWarning, match="notes.wav"):
        assert len(D.load_fsdd(tmp_path / "copy")) == 240


def test_clipset_subset_and_validation(fsdd_tree):
    clips = D.load_fsdd(fsdd_tree)
    sub = clips.subset(np.array([3, 1]))
    assert sub.paths == [clips.paths[3], clips.paths[1]] and sub.labels.tolist() == clips.labels[[3, 1]].tolist()
    with pytest.raises(ValueError, match="boolean mask"):
        clips.subset(np.array([True, False]))
    with pytest.raises(ValueError, match="same length"):
        D.ClipSet([Path("a.wav")], np.array([0, 1]), ["x"], ("a", "b"))
    with pytest.raises(ValueError, match="labels must be in"):
        D.ClipSet([Path("a.wav")], np.array([2]), ["x"], ("a", "b"))


# --------------------------------------------------------------------------- Speech Commands
def _speech_commands_tree(root: Path, words=("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
                                              "bed")) -> Path:
    for w in words:
        for spk in ("0a1b2c3d", "ffee0011"):
            for k in range(2):
                aio.write_audio(root / w / f"{spk}_nohash_{k}.wav", np.zeros(1600, np.float32), 16000)
    aio.write_audio(root / "_background_noise_" / "white_noise.wav", np.zeros(16000, np.float32), 16000)
    (root / "validation_list.txt").write_text("yes/0a1b2c3d_nohash_1.wav\nno/0a1b2c3d_nohash_1.wav\n")
    (root / "testing_list.txt").write_text("yes/ffee0011_nohash_1.wav\nbed/ffee0011_nohash_1.wav\n")
    return root


def test_speechcommands_layout(tmp_path):
    root = _speech_commands_tree(tmp_path / "speech_commands_v0.02")
    train = D.load_speechcommands(root, "train")
    assert train.class_names == D.SPEECHCOMMANDS_CORE10 and len(train) == 10 * 4 - 2 - 1
    val = D.load_speechcommands(tmp_path, "validation")  # the parent folder works too
    assert sorted(p.parent.name + "/" + p.name for p in val.paths) == ["no/0a1b2c3d_nohash_1.wav",
                                                                       "yes/0a1b2c3d_nohash_1.wav"]
    test_all = D.load_speechcommands(root, "test", subset="all")
    assert "bed" in test_all.class_names and "_background_noise_" not in test_all.class_names
    assert len(test_all) == 2 and set(test_all.speakers) == {"ffee0011"}
    assert len(D.load_speechcommands(root, "all", subset="all")) == 11 * 4


def test_speechcommands_missing_fails_fast(tmp_path, monkeypatch):
    with pytest.raises(DatasetUnavailable, match="download=False"):
        D.load_speechcommands(tmp_path / "nothing")
    monkeypatch.setattr(D, "_online", lambda url, timeout: False)
    with pytest.raises(DatasetUnavailable, match="offline"):
        D.load_speechcommands(tmp_path / "nothing", download=True)


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one in-memory file with HTTP Range support; records the Range headers it saw."""

    payload = b""
    ranges: list = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        rng = self.headers.get("Range")
        type(self).ranges.append(rng)
        data, status = self.payload, 200
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            data, status = self.payload[start:], 206
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def _archive() -> bytes:
    buf = io.BytesIO()
    src = io.BytesIO()
    sf.write(src, np.zeros(1600, np.float32), 16000, format="WAV", subtype="PCM_16")
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in [("validation_list.txt", b""), ("testing_list.txt", b"")] + \
                [(f"{w}/abcd_nohash_0.wav", src.getvalue()) for w in D.SPEECHCOMMANDS_CORE10]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_download_resumes_and_checks_sha256(tmp_path):
    payload = _archive()
    _RangeHandler.payload, _RangeHandler.ranges = payload, []
    server = http.server.HTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/speech_commands_v0.02.tar.gz"
        sha = hashlib.sha256(payload).hexdigest()
        dest = tmp_path / "speech_commands_v0.02"
        half = len(payload) // 2
        (tmp_path / "speech_commands_v0.02.tar.gz.part").write_bytes(payload[:half])  # an interrupted download
        got = D.download_speechcommands(dest, url=url, sha256=sha)
        assert got == dest and _RangeHandler.ranges == [f"bytes={half}-"], "the download must resume"
        assert len(D.load_speechcommands(dest, "all")) == 10
        assert D.download_speechcommands(dest, url=url, sha256=sha) == dest  # present: nothing fetched
        assert _RangeHandler.ranges == [f"bytes={half}-"]
        with pytest.raises(DatasetUnavailable, match="SHA-256"):
            D.download_speechcommands(tmp_path / "other" / "sc", url=url, sha256="0" * 64)
        assert not (tmp_path / "other" / "speech_commands_v0.02.tar.gz.part").exists()
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- folder tree
def test_folder_per_class(tmp_path):
    for cls in ("dog", "cat"):
        aio.write_audio(tmp_path / cls / "a_1.wav", np.zeros(800), 8000)
        aio.write_audio(tmp_path / cls / "sub" / "b_2.flac", np.zeros(800), 8000)
    aio.write_audio(tmp_path / "_background_noise_" / "n.wav", np.zeros(800), 8000)
    (tmp_path / "dog" / "readme.txt").write_text("not audio")
    clips = D.load_folder(tmp_path)
    assert clips.class_names == ("cat", "dog") and len(clips) == 4
    assert clips.labels.tolist() == [0, 0, 1, 1] and sorted(set(clips.speakers)) == ["a", "b"]
    assert len(D.load_folder(tmp_path, extensions=(".wav",))) == 2
    with pytest.raises(DatasetUnavailable, match="mount"):
        D.load_folder(tmp_path / "nope")
    with pytest.raises(ValueError, match="no 'train' split"):
        D.get_clips("folder", tmp_path, "train")
    with pytest.raises(ValueError, match="unknown audio dataset"):
        D.get_clips("timit", tmp_path)


# --------------------------------------------------------------------------- generated set
def test_generated_set_is_deterministic_and_speaker_split(tmp_path):
    a = D.load_generated(tmp_path / "a", "all", n_speakers=3, takes=2, n_classes=4, seed=5)
    b = D.load_generated(tmp_path / "b", "all", n_speakers=3, takes=2, n_classes=4, seed=5)
    assert len(a) == 24 and a.class_names == ("asi", "isa", "uma", "eko")
    for pa, pb in zip(a.paths, b.paths):
        assert pa.name == pb.name and pa.read_bytes() == pb.read_bytes()
    test = D.load_generated(tmp_path / "a", "test", test_speakers=1)
    train = D.load_generated(tmp_path / "a", "train", test_speakers=1)
    assert set(test.speakers) == {"spk02"} and set(train.speakers) == {"spk00", "spk01"}
    with pytest.raises(ValueError, match="other parameters"):
        D.make_spoken_words(tmp_path / "a", n_speakers=5)
    mtime = a.paths[0].stat().st_mtime_ns
    D.make_spoken_words(tmp_path / "a", n_speakers=3, takes=2, n_classes=4, seed=5)  # same: writes nothing
    assert a.paths[0].stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match="label"):
        D.synthesize_word(10, D.speaker_traits(0), np.random.default_rng(0))


def test_generated_classes_differ_in_spectrum_not_loudness_or_length(tmp_path):
    """Loudness and duration predict the word at chance level; the average spectrum predicts it well."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.preprocessing import StandardScaler
    from sklearn.pipeline import make_pipeline

    import torch

    from dlcourse.audio import features as F

    clips = D.load_generated(tmp_path, "all", n_speakers=6, takes=4, seed=2)
    p = F.FeatureParams()
    trivial, spectral = [], []
    for path in clips.paths:
        wave, sr = aio.read_audio(path)
        w = wave[0].numpy()
        frames = w[: len(w) // 80 * 80].reshape(-1, 80)
        level = 10 * np.log10((frames ** 2).mean(1) + 1e-12)
        active = level > level.max() - 30
        trivial.append([10 * np.log10((w ** 2).mean()), len(w) / sr, active.sum() * 80 / sr,
                        10 * np.log10(np.abs(w).max())])
        feats = F.log_mel(aio.pad_or_trim(torch.from_numpy(w), p.clip_samples), p)
        spectral.append(torch.cat([feats.mean(1), feats.std(1)]).numpy())
    y = clips.labels
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    acc_trivial = cross_val_score(model, np.array(trivial), y, cv=4).mean()
    acc_spectral = cross_val_score(model, np.array(spectral), y, cv=4).mean()
    assert acc_trivial < 0.25, f"loudness/length predict the class too well: {acc_trivial:.2f} (chance 0.10)"
    assert acc_spectral > 0.8, f"the spectrum should separate the words: {acc_spectral:.2f}"
