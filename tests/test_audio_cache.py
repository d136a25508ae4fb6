"""dlcourse.audio.cache: content, key invalidation, atomic builds, warm rebuilds, corrupt input, lazy reads."""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dlcourse.audio import augment as A
from dlcourse.audio import cache as C
from dlcourse.audio import datasets as D
from dlcourse.audio import features as F
from dlcourse.audio import io as aio

FEATS = F.FeatureParams(clip_seconds=0.6, n_mels=32)


@pytest.fixture(scope="module")
def words(tmp_path_factory) -> Path:
    """A tiny generated FSDD-like tree: 3 speakers x 4 words x 2 takes = 24 clips."""
    root = tmp_path_factory.mktemp("words")
    D.make_spoken_words(root, n_speakers=3, takes=2, n_classes=4, seed=3)
    return root


@pytest.fixture()
def clips(words, tmp_path) -> D.ClipSet:
    """A private copy of the tree (tests modify files)."""
    import shutil

    dst = tmp_path / "data"
    shutil.copytree(words, dst)
    return D.load_fsdd(dst, class_names=["asi", "isa", "uma", "eko"])


def _final_dirs(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_build_contents(clips, tmp_path):
    cache = C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=2,
                          batch_size=10, verbose=False)
    assert cache.stats["mode"] == "cold" and cache.stats["features_computed"] == 24 * 3
    assert cache.shape == (24, 3, 32, FEATS.n_frames)
    np.testing.assert_array_equal(cache.labels, clips.labels)
    assert cache.class_names == clips.class_names and cache.speakers == clips.speakers
    assert cache.files == [str(p) for p in clips.paths] and cache.skipped == []
    mm = cache.memmap()
    assert isinstance(mm, np.memmap) and mm.dtype == np.float16
    # variant 0 is the clean clip's log-mel (float16 precision)
    want = F.log_mel(aio.load_clip(clips.paths[5], FEATS.sample_rate, FEATS.clip_samples), FEATS)
    torch.testing.assert_close(torch.from_numpy(mm[5, 0].astype(np.float32)), want, atol=0.02, rtol=2e-3)
    # augmented variants differ from the clean one and from each other
    assert not np.allclose(mm[5, 0], mm[5, 1]) and not np.allclose(mm[5, 1], mm[5, 2])
    ref = np.concatenate([mm[:, 0].astype(np.float64).transpose(0, 2, 1).reshape(-1, 32)])
    np.testing.assert_allclose(cache.band_mean, ref.mean(0), rtol=1e-3, atol=1e-3)
    # the in-RAM pipeline computes the same features
    arr, labels, skipped = C.compute_variants(clips, features=FEATS, augment=A.AugmentConfig(), n_variants=2,
                                              batch_size=10)
    assert arr.dtype == np.float32 and arr.shape == cache.shape and skipped == []
    np.testing.assert_allclose(arr, mm.astype(np.float32), atol=0.02, rtol=2e-3)


def test_warm_rebuild_does_no_feature_work(clips, tmp_path, monkeypatch):
    first = C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=1, verbose=False)

    def boom(*a, **k):
        raise AssertionError("a warm rebuild must not read audio or compute features")

    monkeypatch.setattr(C, "load_clip", boom)
    monkeypatch.setattr(C, "log_mel", boom)
    monkeypatch.setattr(C, "random_variants", boom)
    again = C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=1, verbose=False)
    assert again.stats["mode"] == "warm" and again.stats["features_computed"] == 0
    assert again.path == first.path and len(_final_dirs(tmp_path / "c")) == 1


def test_key_covers_parameters_and_files(clips, tmp_path):
    def build(c=clips, **kw):
        args = dict(features=FEATS, augment=A.AugmentConfig(), n_variants=1, seed=0, verbose=False)
        args.update(kw)
        return C.build_cache(c, tmp_path / "c", **args)

    base = build()
    variants = [
        build(features=F.FeatureParams(clip_seconds=0.6, n_mels=24)),
        build(augment=A.AugmentConfig(snr_db=(0.0, 5.0))),
        build(n_variants=2),
        build(seed=1),
        build(extra_augment=lambda w, rng: w * 0.5, extra_id="half-v1"),
        build(extra_augment=lambda w, rng: w * 0.5, extra_id="half-v2"),
    ]
    paths = {base.path} | {v.path for v in variants}
    assert len(paths) == 7, "every parameter change must give a new cache"
    assert all(v.stats["mode"] == "cold" for v in variants)
    # change one input file: same name, new content
    target = clips.paths[3]
    wave, sr = aio.read_audio(target)
    time.sleep(0.01)
    aio.write_audio(target, wave[0].flip(0), sr)
    changed = build()
    assert changed.stats["mode"] == "cold" and changed.path != base.path
    # fewer files: another key too; and the first cache is still valid and found warm
    assert build(c=clips.subset(range(10))).path not in paths | {changed.path}
    assert C.FeatureCache.open(base.path).manifest["key"] == base.manifest["key"]


def test_interrupted_build_leaves_no_cache(clips, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = C.log_mel

    def interrupt_on_third(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the build
        return real(*a, **k)

    monkeypatch.setattr(C, "log_mel", interrupt_on_third)
    with pytest.raises(KeyboardInterrupt):
        C.build_cache(clips, tmp_path / "c", features=FEATS, batch_size=8, verbose=False)
    assert list((tmp_path / "c").iterdir()) == [], "an interrupted build must leave nothing behind"
    monkeypatch.setattr(C, "log_mel", real)
    cache = C.build_cache(clips, tmp_path / "c", features=FEATS, batch_size=8, verbose=False)
    assert cache.stats["mode"] == "cold" and len(cache) == 24


def test_killed_build_never_looks_valid(clips, tmp_path):
    """SIGKILL (no cleanup at all) in the middle of a build: nothing that looks like a cache remains."""
    marker = tmp_path / "started"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from dlcourse.audio import cache as C, datasets as D, features as F
        clips = D.load_fsdd({str(clips.info['root'])!r}, class_names=["asi", "isa", "uma", "eko"])
        real = C.log_mel
        def slow(*a, **k):
            Path({str(marker)!r}).touch()
            time.sleep(0.5)
            return real(*a, **k)
        C.log_mel = slow
        C.build_cache(clips, {str(tmp_path / "c")!r}, features=F.FeatureParams(clip_seconds=0.6, n_mels=32),
                      batch_size=4, verbose=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 120
        while not marker.exists():
            assert proc.poll() is None, "the build finished or failed before it could be killed"
            assert time.time() < deadline, "the build did not start"
            time.sleep(0.05)
        time.sleep(0.7)  # a batch or two written
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    left = list((tmp_path / "c").iterdir())
    assert left and all(p.name.startswith(".") for p in left), f"only hidden temporary folders may remain: {left}"
    for p in left:
        with pytest.raises(C.CorruptCache):
            C.FeatureCache.open(p)
    cache = C.build_cache(clips, tmp_path / "c", features=FEATS, batch_size=4, verbose=False)
    assert cache.stats["mode"] == "cold" and len(cache) == 24
    assert not any(p.exists() for p in left), "the dead build's temporary folder is cleaned up by the next build"


def test_corrupt_files_are_skipped_and_reported(clips, tmp_path):
    clips.paths[2].write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot really audio")
    clips.paths[7].write_bytes(b"")
    with pytest.warns(C.CacheWarning) as rec:
        cache = C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=1,
                              verbose=False)
    text = "\n".join(str(w.message) for w in rec)
    assert clips.paths[2].name in text and clips.paths[7].name in text
    assert len(cache) == 22 and {s["path"] for s in cache.skipped} == {str(clips.paths[2]), str(clips.paths[7])}
    keep = [i for i in range(24) if i not in (2, 7)]
    np.testing.assert_array_equal(cache.labels, clips.labels[keep])
    assert cache.files == [str(clips.paths[i]) for i in keep]
    # the rows hold the right clips: row 2 is clip 3
    want = F.log_mel(aio.load_clip(clips.paths[3], FEATS.sample_rate, FEATS.clip_samples), FEATS)
    torch.testing.assert_close(torch.from_numpy(cache.memmap()[2, 0].astype(np.float32)), want, atol=0.02,
                               rtol=2e-3)
    with pytest.warns(C.CacheWarning, match=clips.paths[2].name):  # reported again when found warm
        again = C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=1,
                              verbose=False)
    assert again.stats["mode"] == "warm"


def test_all_files_unreadable_is_an_error(clips, tmp_path):
    for p in clips.paths:
        p.write_bytes(b"junk")
    with pytest.warns(C.CacheWarning), pytest.raises(ValueError, match="no clip"):
        C.build_cache(clips, tmp_path / "c", features=FEATS, verbose=False)
    assert not [p for p in (tmp_path / "c").iterdir() if not p.name.startswith(".")]


def test_damaged_cache_is_detected_and_rebuilt(clips, tmp_path):
    cache = C.build_cache(clips, tmp_path / "c", features=FEATS, verbose=False)
    f = cache.path / "features.f16"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(C.CorruptCache, match="bytes"):
        C.FeatureCache.open(cache.path)
    with pytest.warns(C.CacheWarning, match="damaged"):
        again = C.build_cache(clips, tmp_path / "c", features=FEATS, verbose=False)
    assert again.stats["mode"] == "cold" and again.path == cache.path
    assert (cache.path / "features.f16").stat().st_size == again.nbytes


def test_dataset_reads_lazily_from_disk(clips, tmp_path):
    cache = C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=1,
                          verbose=False)
    ds = cache.dataset()
    assert ds._file is None, "opening the dataset must not open or read the file"
    x, y = ds[4]
    assert x.shape == (1, 32, FEATS.n_frames) and x.dtype == torch.float32 and y == int(cache.labels[4])
    # rewrite clip 9 on disk after the dataset was opened: the next read sees the new values
    rw = np.memmap(cache.path / "features.f16", dtype=np.float16, mode="r+", shape=cache.shape)
    rw[9, 1] = 7.0
    rw.flush()
    del rw
    x9, _ = ds[(9, 1)]
    assert torch.all(x9 == 7.0), "items must be read from the file when asked for, not from a copy in RAM"
    state = pickle.dumps(ds)
    assert len(state) < 20_000 and pickle.loads(state)._file is None  # workers get no open file, no data
    batch = ds.__getitems__([(0, 0), (9, 1), 3])
    assert [b[1] for b in batch] == cache.labels[[0, 9, 3]].tolist()
    assert torch.all(batch[1][0] == 7.0)
    with pytest.raises(IndexError):
        ds[(0, 5)]
    with pytest.raises(TypeError):
        ds["a"]


def _mapped_kib(path: Path) -> int | None:
    """Resident KiB of this process's mappings of ``path`` (None where /proc/self/smaps is missing)."""
    smaps = Path("/proc/self/smaps")
    if not smaps.exists():
        return None
    total, current = 0, False
    for line in smaps.read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
            current = len(head) >= 6 and head[-1] == str(path)
        elif current and line.startswith("Rss:"):
            total += int(head[1])
    return total


def test_dataset_keeps_nothing_mapped_and_checks_the_file(clips, tmp_path):
    cache = C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=2,
                          verbose=False)
    feats = (cache.path / "features.f16").resolve()
    ds = cache.dataset()
    batches = list(C.make_loader(ds, batch_size=4))
    ref = cache.memmap()
    for (i, v), x in zip([(0, 0), (7, 2), (11, 1)], ds.__getitems__([(0, 0), (7, 2), (11, 1)])):
        np.testing.assert_array_equal(x[0][0].numpy(), np.asarray(ref[i, v], np.float32))
    del ref
    if (kib := _mapped_kib(feats)) is not None:
        assert kib == 0, f"{kib} KiB of the feature file stay mapped after reading {len(batches)} batches"
    sub = cache.dataset(indices=[5, 6])
    assert len(sub) == 2 and sub[1][1] == int(cache.labels[6])
    x, y = sub.arrays()
    assert x.shape == (2, 1, 32, FEATS.n_frames) and y.tolist() == cache.labels[[5, 6]].tolist()
    # a truncated feature file is refused with the sizes, not read as garbage
    short = tmp_path / "short.f16"
    short.write_bytes((cache.path / "features.f16").read_bytes()[:-10])
    with pytest.raises(C.CorruptCache, match="expected"):
        C.VariantDataset(short, cache.shape, cache.labels)


def test_loader_workers_read_their_own_file(clips, tmp_path):
    cache = C.build_cache(clips, tmp_path / "c", features=FEATS, verbose=False)
    ds = cache.dataset()
    serial = list(C.make_loader(ds, batch_size=4, shuffle=False, variants="clean"))
    workers = list(C.make_loader(ds, batch_size=4, shuffle=False, variants="clean", num_workers=2))
    assert len(serial) == len(workers)
    for (xa, ya), (xb, yb) in zip(serial, workers):
        torch.testing.assert_close(xa, xb)
        assert ya.tolist() == yb.tolist()


def test_variant_batch_sampler_epochs():
    s = C.VariantBatchSampler(10, 4, 3, seed=1)
    e0, e1 = list(s), list(s)
    assert len(s) == 4 and len(e0) == 4 and [len(b) for b in e0] == [3, 3, 3, 1]
    for ep in (e0, e1):
        assert sorted(i for b in ep for i, _ in b) == list(range(10))
        assert all(0 <= v < 4 for b in ep for _, v in b)
    assert e0 != e1, "every epoch draws a new order and new variants"
    assert list(C.VariantBatchSampler(10, 4, 3, seed=1)) == e0, "reproducible from the seed"
    clean = list(C.VariantBatchSampler(10, 4, 3, shuffle=False, variants="clean", drop_last=True))
    assert clean == [[(0, 0), (1, 0), (2, 0)], [(3, 0), (4, 0), (5, 0)], [(6, 0), (7, 0), (8, 0)]]
    with pytest.raises(ValueError, match="variants"):
        C.VariantBatchSampler(10, 4, 3, variants="some")


def test_make_loader_batches(clips, tmp_path):
    cache = C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=2,
                          verbose=False)
    loader = C.make_loader(cache.dataset(), batch_size=8)
    xs, ys = zip(*loader)
    assert [len(y) for y in ys] == [8, 8, 8] and xs[0].shape == (8, 1, 32, FEATS.n_frames)
    assert sorted(torch.cat(ys).tolist()) == sorted(cache.labels.tolist())
    mem = C.VariantDataset(cache.memmap().astype(np.float32), None, cache.labels)
    torch.testing.assert_close(mem[(3, 2)][0], cache.dataset()[(3, 2)][0])


def test_argument_errors(clips, tmp_path):
    with pytest.raises(TypeError, match="ClipSet"):
        C.build_cache(["a.wav"], tmp_path / "c")
    with pytest.raises(ValueError, match="AugmentConfig"):
        C.build_cache(clips, tmp_path / "c", n_variants=2)
    with pytest.raises(ValueError, match="n_variants"):
        C.build_cache(clips, tmp_path / "c", n_variants=-1)
    with pytest.raises(ValueError, match="empty"):
        C.build_cache(clips.subset([]), tmp_path / "c")


def test_cache_messages_follow_the_notebook_language(clips, tmp_path, monkeypatch, capsys):
    """A Spanish notebook's cache lines and warnings are Spanish (from the package catalog), the fields filled in."""
    monkeypatch.setenv("DLCOURSE_LANG", "es")
    clips.paths[4].write_bytes(b"")
    with pytest.warns(C.CacheWarning) as rec:
        C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=1, verbose=True)
    out = capsys.readouterr()
    assert out.out.startswith("Caché construida en ") and "clips/s" in out.out and "[en]" not in out.out
    assert "1 archivo(s) no se pudieron leer" in out.err
    assert any(str(w.message).startswith(f"se omitió un archivo de audio ilegible {clips.paths[4]}: ") for w in rec)
    with pytest.warns(C.CacheWarning):
        C.build_cache(clips, tmp_path / "c", features=FEATS, augment=A.AugmentConfig(), n_variants=1, verbose=True)
    assert capsys.readouterr().out.startswith("Caché reutilizada: ")
