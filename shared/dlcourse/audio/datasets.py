"""Audio data sets of the course as lists of files (a :class:`ClipSet`), read lazily later.

* **FSDD** (Free Spoken Digit Dataset): ``recordings/{digit}_{speaker}_{take}.wav``. Standard
  split of its README: takes 0-4 are the test set; or a speaker-independent split
  (``scheme="speaker"``) and :func:`leave_one_speaker_out`.
* **Speech Commands v2**: the standard archive layout (one folder per word,
  ``validation_list.txt``, ``testing_list.txt``, ``_background_noise_/``); an existing
  directory, or :func:`download_speechcommands` (SHA-256 checked, resumable). ``subset="core10"``
  keeps the ten command words.
* **folder**: any folder-per-class tree (e.g. a Google Drive folder mounted on Colab).
* **generated**: an offline set of spoken-word-like clips (:func:`make_spoken_words`) whose
  classes differ in their spectrogram (formant patterns, noise bands, their order in time),
  not in loudness or length; many synthetic speakers (pitch, vocal-tract length, speaking
  rate), written as an FSDD-like tree so that every loader and split works on it.

Offline, downloads fail fast with :class:`dlcourse.data.DatasetUnavailable`.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .._core import check_int
from ..data import DatasetUnavailable
from ..lang import tr
from .io import AUDIO_EXTENSIONS, write_audio

__all__ = [
    "DatasetUnavailable",
    "ClipSet",
    "AUDIO_DATASETS",
    "SPEECHCOMMANDS_CORE10",
    "SPEECHCOMMANDS_URL",
    "SPEECHCOMMANDS_SHA256",
    "WORDS",
    "SpeakerTraits",
    "load_fsdd",
    "leave_one_speaker_out",
    "load_speechcommands",
    "download_speechcommands",
    "load_folder",
    "copy_to_local",
    "find_fsdd",
    "speaker_traits",
    "synthesize_word",
    "make_spoken_words",
    "load_generated",
    "get_clips",
]

AUDIO_DATASETS = ("fsdd", "speechcommands", "folder", "generated")
SPEECHCOMMANDS_CORE10 = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SPEECHCOMMANDS_URL = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
SPEECHCOMMANDS_SHA256 = "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58"
_FSDD_NAME = re.compile(r"^(\d+)_([A-Za-z0-9-]+)_(\d+)\.wav$")


# --------------------------------------------------------------------------- the clip list
@dataclass
class ClipSet:
    """A labelled list of audio files; nothing is read until a cache or loader asks.

    Attributes:
        paths: one file per clip.
        labels: ``(N,)`` int64 class indices into ``class_names``.
        speakers: one speaker id per clip (``""`` when unknown).
        class_names: the class of each index.
        takes: the take number of each clip where the naming scheme has one (FSDD), else -1.
    """

    paths: list[Path]
    labels: np.ndarray
    speakers: list[str]
    class_names: tuple[str, ...]
    takes: np.ndarray | None = None
    name: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.paths = [Path(p) for p in self.paths]
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if self.takes is None:
            self.takes = np.full(len(self.paths), -1, dtype=np.int64)
        self.takes = np.asarray(self.takes, dtype=np.int64).reshape(-1)
        n = len(self.paths)
        if not (len(self.labels) == len(self.speakers) == len(self.takes) == n):
            raise ValueError(f"ClipSet: {n} paths, {len(self.labels)} labels, {len(self.speakers)} speakers and "
                             f"{len(self.takes)} takes: they must have the same length")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.class_names)):
            raise ValueError(f"ClipSet: labels must be in [0, {len(self.class_names)}), got "
                             f"[{self.labels.min()}, {self.labels.max()}]")

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return (f"ClipSet({self.name or 'clips'}: {len(self)} clips, {len(self.class_names)} classes, "
                f"{len(set(self.speakers))} speakers)")

    def subset(self, index: Sequence[int] | np.ndarray) -> "ClipSet":
        """The clips at ``index`` (integer positions or a boolean mask), same classes.

        Args:
            index: integer positions (in the order wanted; repeats allowed) or a boolean mask
                ``(N,)``.

        Returns:
            a new :class:`ClipSet` with the same ``class_names`` and ``name`` and a copy of ``info``.

        Raises:
            ValueError: a boolean mask whose shape is not ``(N,)``.
        """
        idx = np.asarray(index)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"a boolean mask must have shape ({len(self)},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64)
        return replace(self, paths=[self.paths[i] for i in idx], labels=self.labels[idx],
                       speakers=[self.speakers[i] for i in idx], takes=self.takes[idx], info=dict(self.info))

    def speaker_set(self) -> list[str]:
        return sorted(set(self.speakers))

    def only_speakers(self, speakers: Sequence[str], *, exclude: bool = False) -> "ClipSet":
        """Clips of the given speakers (or of all other speakers with ``exclude=True``).

        Args:
            speakers: speaker ids, each present in this set.
            exclude: keep every clip *not* spoken by ``speakers`` instead.

        Returns:
            a new :class:`ClipSet` (see :meth:`subset`), clips in their original order.

        Raises:
            ValueError: a speaker this set does not have (the message lists those it has).
        """
        wanted = set(speakers)
        unknown = wanted - set(self.speakers)
        if unknown:
            raise ValueError(f"unknown speakers {sorted(unknown)}; this set has {self.speaker_set()}")
        return self.subset(np.array([(s in wanted) != exclude for s in self.speakers], dtype=bool))

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return {c: int(k) for c, k in zip(self.class_names, counts)}


def _check_split(split: str, allowed=("train", "test", "all")) -> None:
    if split not in allowed:
        raise ValueError(f"split must be one of {', '.join(allowed)}, got {split!r}")


# --------------------------------------------------------------------------- FSDD
def _fsdd_dir(root: Path | str) -> Path:
    root = Path(root).expanduser()
    for cand in (root / "recordings", root / "fsdd" / "recordings", root):
        if cand.is_dir() and any(_FSDD_NAME.match(p.name) for p in cand.glob("*.wav")):
            return cand
    raise DatasetUnavailable(
        f"no FSDD recordings ({{digit}}_{{speaker}}_{{take}}.wav) in {root}, {root / 'recordings'} or "
        f"{root / 'fsdd' / 'recordings'}. Clone https://github.com/Jakobovski/free-spoken-digit-dataset "
        f"(or copy its recordings/ folder) and pass its path, or use the offline set "
        f"(dlcourse.audio.datasets.load_generated).")


def load_fsdd(root: Path | str, split: str = "all", *, scheme: str = "standard",
              test_speakers: Sequence[str] | None = None, test_takes: int = 5,
              class_names: Sequence[str] | None = None) -> ClipSet:
    """FSDD files under ``root`` (the repository, its ``recordings/`` folder, or a folder holding ``fsdd/``).

    Files not named ``{digit}_{speaker}_{take}.wav`` are ignored with a warning.

    Args:
        root: where the recordings are (see above); ``~`` is expanded.
        split: ``"train"``, ``"test"`` or ``"all"``.
        scheme: ``"standard"`` (takes ``0 .. test_takes-1`` are test, the FSDD README's split) or
            ``"speaker"`` (``test_speakers`` are test, every other speaker is train).
        test_speakers: the test speakers of ``scheme="speaker"`` (required there).
        test_takes: with ``scheme="standard"``, takes below it are test (default 5: takes 0-4).
        class_names: names of the digit labels (default ``"0" .. "9"``, or as many as the largest label).

    Returns:
        a :class:`ClipSet` named ``"fsdd"``, sorted by file name, with speakers and takes.

    Raises:
        DatasetUnavailable: no FSDD recordings under ``root``.
        ValueError: an unknown ``split`` or ``scheme``, too few ``class_names``, ``test_takes <= 0``,
            or ``test_speakers`` missing or unknown.
    """
    _check_split(split)
    if scheme not in ("standard", "speaker"):
        raise ValueError(f"scheme must be 'standard' or 'speaker', got {scheme!r}")
    folder = _fsdd_dir(root)
    paths, labels, speakers, takes, odd = [], [], [], [], []
    for p in sorted(folder.iterdir()):
        m = _FSDD_NAME.match(p.name)
        if not m:
            if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS:
                odd.append(p.name)
            continue
        paths.append(p)
        labels.append(int(m.group(1)))
        speakers.append(m.group(2))
        takes.append(int(m.group(3)))
    if odd:
        warnings.warn(tr("{n} audio files in {folder} do not follow {{digit}}_{{speaker}}_{{take}}.wav and were "
                         "ignored, e.g. {examples}", n=len(odd), folder=folder, examples=odd[:3]), stacklevel=2)
    n_classes = max(labels) + 1
    names = tuple(class_names) if class_names is not None else tuple(str(i) for i in range(max(n_classes, 10)))
    if len(names) < n_classes:
        raise ValueError(f"{len(names)} class names for labels up to {n_classes - 1}")
    clips = ClipSet(paths, np.array(labels), speakers, names, np.array(takes), name="fsdd",
                    info={"root": str(folder), "scheme": scheme})
    if split == "all":
        return clips
    if scheme == "standard":
        if test_takes <= 0:
            raise ValueError(f"test_takes must be positive, got {test_takes}")
        is_test = clips.takes < test_takes
    else:
        if not test_speakers:
            raise ValueError(f"scheme='speaker' needs test_speakers (some of {clips.speaker_set()})")
        unknown = set(test_speakers) - set(clips.speakers)
        if unknown:
            raise ValueError(f"unknown test speakers {sorted(unknown)}; the recordings have {clips.speaker_set()}")
        is_test = np.array([s in set(test_speakers) for s in clips.speakers])
        clips.info["test_speakers"] = sorted(test_speakers)
    return clips.subset(is_test if split == "test" else ~is_test)


def leave_one_speaker_out(clips: ClipSet) -> Iterator[tuple[str, ClipSet, ClipSet]]:
    """Yield ``(speaker, train, test)`` once per speaker: test holds only that speaker's clips.

    Args:
        clips: a set with at least two speakers.

    Yields:
        ``(speaker, train, test)`` in sorted speaker order; ``train`` holds every other speaker.

    Raises:
        ValueError: fewer than two speakers (raised at the first ``next``).
    """
    speakers = clips.speaker_set()
    if len(speakers) < 2:
        raise ValueError(f"leave-one-speaker-out needs at least two speakers, got {speakers}")
    for s in speakers:
        yield s, clips.only_speakers([s], exclude=True), clips.only_speakers([s])


# --------------------------------------------------------------------------- Speech Commands v2
def _sc_dir(root: Path) -> Path | None:
    for cand in (root, root / "speech_commands_v0.02", root / "SpeechCommands" / "speech_commands_v0.02"):
        if (cand / "testing_list.txt").is_file() and (cand / "validation_list.txt").is_file():
            return cand
    return None


def load_speechcommands(root: Path | str | None = None, split: str = "train", *, subset: str = "core10",
                        download: bool = False, timeout: float = 3.0) -> ClipSet:
    """Speech Commands v2 in its standard layout (word folders + ``validation_list.txt`` / ``testing_list.txt``).

    Args:
        root: the extracted archive (or a folder holding ``speech_commands_v0.02/``); default
            ``$DLCOURSE_DATA/speech_commands_v0.02``.
        split: ``"train"`` (in neither list), ``"validation"``, ``"test"`` or ``"all"``.
        subset: ``"core10"`` (yes/no/up/down/left/right/on/off/stop/go) or ``"all"`` (35 words).
        download: fetch the archive (2.3 GB) when ``root`` does not hold it.
        timeout: seconds to wait for the download host before calling the machine offline.

    The speaker of a clip is the hash before ``_nohash_`` in its file name.

    Returns:
        a :class:`ClipSet` named ``"speechcommands"``: classes are the words (sorted; the ten
        core words in their usual order with ``"core10"``).

    Raises:
        ValueError: an unknown ``split`` or ``subset``.
        DatasetUnavailable: the set is not under ``root`` and ``download`` is False (or the
            download fails), core words are missing, or ``split`` has no clip.
    """
    from .. import config

    _check_split(split, ("train", "validation", "test", "all"))
    if subset not in ("core10", "all"):
        raise ValueError(f"subset must be 'core10' or 'all', got {subset!r}")
    root = Path(root).expanduser() if root is not None else config.data_dir() / "speech_commands_v0.02"
    folder = _sc_dir(root)
    if folder is None:
        if not download:
            raise DatasetUnavailable(
                f"Speech Commands v2 is not in {root} (no validation_list.txt / testing_list.txt) and download=False. "
                f"Extract {SPEECHCOMMANDS_URL} there, or use the offline set (load_generated).")
        folder = download_speechcommands(root, timeout=timeout)
    lists = {}
    for name in ("validation", "test"):
        fname = "validation_list.txt" if name == "validation" else "testing_list.txt"
        lists[name] = {ln.strip() for ln in (folder / fname).read_text().splitlines() if ln.strip()}
    words = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith(("_", ".")))
    if subset == "core10":
        missing = [w for w in SPEECHCOMMANDS_CORE10 if w not in words]
        if missing:
            raise DatasetUnavailable(f"{folder} lacks the core words {missing}: is the archive fully extracted?")
        words = list(SPEECHCOMMANDS_CORE10)
    paths, labels, speakers = [], [], []
    for label, word in enumerate(words):
        for p in sorted((folder / word).glob("*.wav")):
            rel = f"{word}/{p.name}"
            which = "validation" if rel in lists["validation"] else "test" if rel in lists["test"] else "train"
            if split != "all" and which != split:
                continue
            paths.append(p)
            labels.append(label)
            speakers.append(p.name.split("_nohash_")[0])
    if not paths:
        raise DatasetUnavailable(f"no {split} clips of {words[:3]}... under {folder}")
    return ClipSet(paths, np.array(labels), speakers, tuple(words), name="speechcommands",
                   info={"root": str(folder), "subset": subset})


def _online(url: str, timeout: float) -> bool:
    import socket
    from urllib.parse import urlparse

    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname, u.port or (443 if u.scheme == "https" else 80)), timeout=timeout):
            return True
    except OSError:
        return False


def _sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def download_speechcommands(dest: Path | str, *, url: str = SPEECHCOMMANDS_URL, sha256: str = SPEECHCOMMANDS_SHA256,
                            timeout: float = 3.0) -> Path:
    """Download (resuming a partial ``.part`` file), verify the SHA-256 and extract into ``dest``.

    The archive is extracted into a temporary folder beside ``dest`` and renamed into place, so
    an interrupted extraction never looks complete. The archive is kept beside ``dest``; a
    verified one is not downloaded again.

    Args:
        dest: the folder to extract into (``~`` expanded; its parent is created).
        url: where the archive is.
        sha256: the archive's expected SHA-256 (hex).
        timeout: seconds to wait for the host before calling the machine offline.

    Returns:
        ``dest``, or the folder under it that already holds the set (then nothing is downloaded).

    Raises:
        DatasetUnavailable: the host is unreachable (fails within ``timeout`` seconds), or the
            download does not match ``sha256`` (the partial file is deleted).
    """
    import urllib.request

    dest = Path(dest).expanduser()
    if _sc_dir(dest) is not None:
        return _sc_dir(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    archive = dest.parent / (Path(url).name)
    part = archive.with_name(archive.name + ".part")
    if not (archive.is_file() and _sha256(archive) == sha256):
        if not _online(url, timeout):
            raise DatasetUnavailable(
                f"cannot reach {url} (this machine looks offline). Copy the extracted Speech Commands v2 folder "
                f"to {dest}, or use the offline set (dlcourse.audio.datasets.load_generated).")
        have = part.stat().st_size if part.exists() else 0
        req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        with urllib.request.urlopen(req, timeout=60) as resp:
            mode = "ab" if have and resp.status == 206 else "wb"  # 200: the server ignored Range
            with open(part, mode) as f:
                shutil.copyfileobj(resp, f, length=1 << 20)
        digest = _sha256(part)
        if digest != sha256:
            part.unlink()
            raise DatasetUnavailable(f"{url}: SHA-256 {digest} differs from the expected {sha256}; the partial file "
                                     f"was deleted, try again")
        os.replace(part, archive)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".extract-", dir=dest.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


# --------------------------------------------------------------------------- folder per class
def load_folder(root: Path | str, *, extensions: Sequence[str] = AUDIO_EXTENSIONS) -> ClipSet:
    """Any folder-per-class tree: ``root/<class>/**/*.wav|flac`` (e.g. a mounted Google Drive folder).

    Classes are the sorted sub-folder names (those starting with ``_`` or ``.`` are skipped, like
    Speech Commands' ``_background_noise_``). The speaker of a clip is the part of its file name
    before the first ``_`` (FSDD and Speech Commands style) or ``""``.

    Args:
        root: the tree's top folder (``~`` expanded).
        extensions: file endings counted as audio (case ignored); hidden files are skipped.

    Returns:
        a :class:`ClipSet` named ``"folder"``, files sorted within each class.

    Raises:
        DatasetUnavailable: ``root`` is not a folder, or no class folder holds an audio file.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetUnavailable(f"{root} is not a folder (on Colab, mount Google Drive first: "
                                 f"from google.colab import drive; drive.mount('/content/drive'))")
    exts = tuple(e.lower() for e in extensions)
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(("_", ".")))
    paths, labels, speakers = [], [], []
    for label, c in enumerate(classes):
        for p in sorted((root / c).rglob("*")):
            if p.is_file() and p.suffix.lower() in exts and not p.name.startswith("."):
                paths.append(p)
                labels.append(label)
                speakers.append(p.stem.split("_")[0] if "_" in p.stem else "")
    if not paths:
        raise DatasetUnavailable(f"no {'/'.join(exts)} files in class folders under {root}")
    return ClipSet(paths, np.array(labels), speakers, tuple(classes), name="folder", info={"root": str(root)})


def copy_to_local(src: Path | str, dst: Path | str, *, extensions: Sequence[str] = AUDIO_EXTENSIONS) -> dict:
    """Copy the audio files of the tree ``src`` to ``dst`` (same relative paths), skipping files already there.

    Why: on Colab, a Google Drive folder is a network file system; reading thousands of small
    files from it, epoch after epoch, is slow. Copy once to the machine's local disk
    (``/content``), then build the feature cache there. A file counts as present when ``dst``
    has it with the same size; a second call copies nothing.

    Args:
        src: the tree to copy (``~`` expanded).
        dst: the local folder; created as needed. Each file is written as ``.<name>.part`` and
            renamed, so a crash never leaves a truncated file under its real name.
        extensions: file endings copied (case ignored); hidden files are skipped.

    Returns:
        ``{"copied": int, "present": int, "bytes": int, "seconds": float}`` (``bytes`` counts the
        copied files only).

    Raises:
        DatasetUnavailable: ``src`` is not a folder or holds no audio file.
        ValueError: ``src`` and ``dst`` are the same folder.
    """
    import shutil
    import time

    src, dst = Path(src).expanduser(), Path(dst).expanduser()
    if not src.is_dir():
        raise DatasetUnavailable(f"{src} is not a folder (on Colab, mount Google Drive first)")
    if src.resolve() == dst.resolve():
        raise ValueError("src and dst are the same folder")
    exts = tuple(e.lower() for e in extensions)
    t0 = time.perf_counter()
    copied = present = nbytes = 0
    for p in sorted(src.rglob("*")):
        if not (p.is_file() and p.suffix.lower() in exts and not p.name.startswith(".")):
            continue
        target = dst / p.relative_to(src)
        size = p.stat().st_size
        if target.is_file() and target.stat().st_size == size:
            present += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        shutil.copyfile(p, tmp)
        tmp.replace(target)                 # a file is either absent or complete, even after a crash
        copied += 1
        nbytes += size
    if copied + present == 0:
        raise DatasetUnavailable(f"no {'/'.join(exts)} files under {src}")
    return {"copied": copied, "present": present, "bytes": nbytes, "seconds": time.perf_counter() - t0}


def find_fsdd(candidates: Sequence[Path | str] = ()) -> Path | None:
    """The first folder among ``candidates``, ``$DLCOURSE_FSDD`` and ``config.data_dir()`` that
    :func:`load_fsdd` accepts (the repository, its ``recordings/`` or a folder holding ``fsdd/``);
    ``None`` when none does (then use the generated set)."""
    import os

    from .. import config

    roots = [Path(c) for c in candidates]
    if os.environ.get("DLCOURSE_FSDD"):
        roots.insert(0, Path(os.environ["DLCOURSE_FSDD"]))
    roots.append(config.data_dir())
    for r in roots:
        try:
            _fsdd_dir(r)
        except (DatasetUnavailable, OSError):
            continue
        return Path(r).expanduser()
    return None


# --------------------------------------------------------------------------- generated spoken words
# Phonemes of the synthetic words: vowels by their first three formants (Hz, adult male values
# of Peterson & Barney), fricatives and bursts by a noise band, nasals by a low murmur.
_VOWELS = {"a": (730, 1090, 2440), "i": (270, 2290, 3010), "u": (300, 870, 2240),
           "e": (530, 1840, 2480), "o": (570, 840, 2410)}
_NASALS = {"m": (250, 1000, 2200), "n": (250, 1400, 2500)}
_FRICATIVES = {"s": (3000.0, 3800.0), "sh": (1800.0, 2800.0), "f": (1000.0, 3600.0)}
_BURSTS = {"t": (2800.0, 3700.0), "k": (1400.0, 2300.0)}
#: the ten generated words (class names) and their phonemes; every word has three segments
WORDS: tuple[tuple[str, tuple[str, str, str]], ...] = (
    ("asi", ("a", "s", "i")), ("isa", ("i", "s", "a")), ("uma", ("u", "m", "a")), ("eko", ("e", "k", "o")),
    ("shui", ("sh", "u", "i")), ("foe", ("f", "o", "e")), ("tia", ("t", "i", "a")), ("nou", ("n", "o", "u")),
    ("aku", ("a", "k", "u")), ("emi", ("e", "m", "i")),
)


@dataclass(frozen=True)
class SpeakerTraits:
    """A synthetic speaker: pitch ``f0`` (Hz), vocal-tract ``scale`` of the formants, speaking
    ``rate`` (durations divide by it), glottal ``tilt`` (one-pole low-pass coefficient) and ``breath``
    (aspiration noise share)."""

    f0: float
    scale: float
    rate: float
    tilt: float
    breath: float


def speaker_traits(index: int, seed: int = 0) -> SpeakerTraits:
    """The traits of generated speaker ``index`` (deterministic in ``(seed, index)``)."""
    r = np.random.default_rng([seed, 7919, index])
    scale = r.uniform(0.88, 1.15)
    return SpeakerTraits(f0=float(r.uniform(85, 135) * (scale ** 4 if scale > 1 else 1.0)), scale=float(scale),
                         rate=float(r.uniform(0.85, 1.2)), tilt=float(r.uniform(0.85, 0.97)),
                         breath=float(r.uniform(0.0, 0.12)))


def _resonators(x: np.ndarray, formants: Sequence[float], sr: int, bw_scale: float = 1.0) -> np.ndarray:
    from scipy.signal import lfilter

    for f, bw in zip(formants, (90.0, 110.0, 170.0)):
        f = min(f, 0.45 * sr)
        r = np.exp(-np.pi * bw * bw_scale / sr)
        c = 2 * r * np.cos(2 * np.pi * f / sr)
        x = lfilter([1 - c + r * r], [1, -c, r * r], x)  # unity gain at 0 Hz (Klatt cascade)
    return x


def _band_noise(n: int, band: tuple[float, float], sr: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    lo, hi = band
    hi = min(hi, 0.47 * sr)
    sos = butter(2, [lo, hi], btype="bandpass", fs=sr, output="sos")
    return sosfilt(sos, rng.standard_normal(n))


def synthesize_word(label: int, traits: SpeakerTraits, rng: np.random.Generator, sample_rate: int = 8000,
                    *, loudness_db: float | None = None, pad: tuple[float, float] | None = None) -> np.ndarray:
    """One spoken-word-like clip ``(T,)`` float32 of class ``label`` (an index into :data:`WORDS`).

    Source-filter synthesis: a glottal pulse train (pitch contour, jitter) through formant
    resonators for vowels and nasals, band-limited noise for fricatives, a closure and a burst for
    plosives, cross-faded segment by segment. The class sets only the phonemes and their order:
    the word's duration, its loudness (``loudness_db`` dBFS RMS, random in [-32, -14] by default)
    and the silence around it (``pad`` seconds, random by default) are drawn independently of it.

    Args:
        label: the class, an index into :data:`WORDS`.
        traits: the speaker (:func:`speaker_traits`): pitch, formant scale, rate, tilt, breath.
        rng: NumPy generator that draws every random choice (it is advanced).
        sample_rate: samples per second, at least 8000 Hz.
        loudness_db: RMS level of the word in dBFS; ``None`` draws it in [-32, -14].
        pad: ``(before, after)`` seconds of near-silence around the word; ``None`` draws each in
            [0.05, 0.3].

    Returns:
        ``(T,)`` float32 in [-1, 1]: the word (0.40 to 0.60 s divided by ``traits.rate``) between
        its two pads, with a faint noise floor (-70 to -55 dBFS) everywhere.

    Raises:
        ValueError: ``label`` outside ``[0, len(WORDS))`` or ``sample_rate < 8000``.
    """
    from scipy.signal import lfilter

    if not 0 <= label < len(WORDS):
        raise ValueError(f"label must be in [0, {len(WORDS)}), got {label}")
    if sample_rate < 8000:
        raise ValueError(f"sample_rate must be at least 8000 Hz (the words reach 3.8 kHz), got {sample_rate}")
    sr = sample_rate
    phonemes = WORDS[label][1]
    dur = rng.uniform(0.40, 0.60) / traits.rate
    n = int(dur * sr)
    t = np.arange(n) / sr
    # Pitch contour: slight rise-fall with a random slope, plus jitter.
    f0 = traits.f0 * rng.uniform(0.92, 1.08) * (1 + rng.uniform(-0.15, 0.1) * t / dur
                                                  + 0.03 * np.sin(np.pi * t / dur))
    f0 *= 1 + 0.01 * np.convolve(rng.standard_normal(n), np.ones(200) / 200, mode="same")
    phase = np.cumsum(f0 / sr)
    pulses = np.diff(np.floor(phase), prepend=0.0)
    source = lfilter([1.0], [1.0, -traits.tilt], pulses) + traits.breath * rng.standard_normal(n) * 0.3
    # Segment boundaries: equal shares with jitter, 15 ms cross-fades.
    shares = np.array([rng.uniform(0.8, 1.2) for _ in phonemes])
    edges = np.concatenate([[0], np.cumsum(shares / shares.sum())]) * n
    fade = int(0.015 * sr)
    out = np.zeros(n)
    for k, ph in enumerate(phonemes):
        a, b = int(edges[k]), int(edges[k + 1])
        lo, hi = max(0, a - fade), min(n, b + fade)
        m = hi - lo
        jitter = rng.uniform(0.94, 1.06, size=3)
        if ph in _VOWELS or ph in _NASALS:
            formants = np.array(_VOWELS.get(ph) or _NASALS[ph]) * traits.scale * jitter
            seg = _resonators(source[lo:hi], formants, sr, bw_scale=2.0 if ph in _NASALS else 1.0)
            if ph in _NASALS:
                seg = lfilter([1.0], [1.0, -0.7], seg)  # nasal murmur: energy below 500 Hz
        elif ph in _FRICATIVES:
            band = np.array(_FRICATIVES[ph]) * min(traits.scale, 1.05) * jitter[:2].mean()
            seg = _band_noise(m, tuple(band), sr, rng)
        else:  # plosive: closure (near silence), burst, aspiration
            band = np.array(_BURSTS[ph]) * min(traits.scale, 1.05) * jitter[:2].mean()
            seg = _band_noise(m, tuple(band), sr, rng) * 0.05
            burst = int(0.5 * m)
            env = np.exp(-np.arange(m - burst) / (0.012 * sr))
            seg[burst:] += _band_noise(m - burst, tuple(band), sr, rng) * env * 3
        seg = seg / (np.sqrt(np.mean(seg ** 2)) + 1e-12)
        win = np.ones(m)
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        if lo > 0:
            win[:fade] = ramp[: min(fade, m)]
        if hi < n:
            win[-fade:] = ramp[::-1][: min(fade, m)]
        out[lo:hi] += seg * win
    env = np.minimum(1, np.minimum(t / 0.02, (dur - t) / 0.04).clip(0))
    out *= env
    level = loudness_db if loudness_db is not None else rng.uniform(-32, -14)
    out *= 10 ** (level / 20) / (np.sqrt(np.mean(out ** 2)) + 1e-12)
    before, after = pad if pad is not None else rng.uniform(0.05, 0.3, size=2)
    clip = np.concatenate([np.zeros(int(before * sr)), out, np.zeros(int(after * sr))])
    clip += rng.standard_normal(clip.size) * 10 ** (rng.uniform(-70, -55) / 20)
    return np.clip(clip, -1, 1).astype(np.float32)


def make_spoken_words(root: Path | str, *, n_speakers: int = 8, takes: int = 10, seed: int = 0,
                      sample_rate: int = 8000, n_classes: int = len(WORDS), first_speaker: int = 0) -> Path:
    """Write the generated set as an FSDD-like tree ``root/recordings/{label}_{speaker}_{take}.wav``.

    ``n_speakers`` speakers (``spk00``, ``spk01``, ... from ``first_speaker``) say each of the first
    ``n_classes`` words ``takes`` times. Deterministic in ``seed``; ``root/generated.json`` records
    the parameters, so a second call with the same ones writes nothing. Returns ``root``.

    Args:
        root: the folder to write (``~`` expanded; created).
        n_speakers: synthetic speakers (>= 1).
        takes: clips per speaker and word (>= 1).
        seed: seeds the speakers' traits and every clip.
        sample_rate: samples per second of the files (at least 8000 Hz).
        n_classes: how many of :data:`WORDS` to use, from the first (1 .. ``len(WORDS)``).
        first_speaker: index of the first speaker (another range of indices gives new speakers).

    Returns:
        ``root`` as a :class:`pathlib.Path`.

    Raises:
        TypeError: ``n_speakers``, ``takes`` or ``n_classes`` is not an int.
        ValueError: one of them is < 1, ``n_classes > len(WORDS)``, ``sample_rate < 8000``, or
            ``root`` already holds a generated set made with other parameters.
    """
    for name, v in (("n_speakers", n_speakers), ("takes", takes), ("n_classes", n_classes)):
        check_int(v, name, min=1)
    if n_classes > len(WORDS):
        raise ValueError(f"n_classes must be at most {len(WORDS)}, got {n_classes}")
    root = Path(root).expanduser()
    params = {"n_speakers": n_speakers, "takes": takes, "seed": seed, "sample_rate": sample_rate,
              "n_classes": n_classes, "first_speaker": first_speaker, "version": 1,
              "class_names": [w for w, _ in WORDS[:n_classes]]}
    meta = root / "generated.json"
    rec = root / "recordings"
    if meta.is_file():
        existing = json.loads(meta.read_text())
        if existing != params:
            raise ValueError(f"{root} already holds a generated set with other parameters ({existing}); "
                             f"use another folder")
        expected = n_speakers * takes * n_classes
        if rec.is_dir() and sum(1 for _ in rec.glob("*.wav")) == expected:
            return root
    rec.mkdir(parents=True, exist_ok=True)
    for s in range(first_speaker, first_speaker + n_speakers):
        traits = speaker_traits(s, seed)
        for label in range(n_classes):
            for take in range(takes):
                rng = np.random.default_rng([seed, s, label, take])
                wave = synthesize_word(label, traits, rng, sample_rate)
                write_audio(rec / f"{label}_spk{s:02d}_{take}.wav", wave, sample_rate)
    tmp = meta.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(params, indent=1))
    os.replace(tmp, meta)
    return root


def load_generated(root: Path | str | None = None, split: str = "all", *, n_speakers: int = 8, takes: int = 10,
                   seed: int = 0, sample_rate: int = 8000, n_classes: int = len(WORDS),
                   test_speakers: int | Sequence[str] = 2, scheme: str = "speaker") -> ClipSet:
    """The generated set as a :class:`ClipSet`; written by :func:`make_spoken_words` when ``root`` holds none.

    A ``root`` that already holds a generated set is read as it is (the generation arguments
    then only apply to a new one). ``scheme="speaker"`` (default) holds out speakers:
    ``test_speakers`` is how many (the last ones) or their names; ``scheme="standard"`` holds
    out takes 0-4 as FSDD does. ``root`` defaults to ``$DLCOURSE_DATA/generated-words``.

    Args:
        root: the set's folder; ``None`` uses the default above.
        split: ``"train"``, ``"test"`` or ``"all"``.
        n_speakers: speakers of a new set (see :func:`make_spoken_words`).
        takes: clips per speaker and word of a new set.
        seed: seed of a new set.
        sample_rate: sample rate of a new set.
        n_classes: words of a new set.
        test_speakers: with ``scheme="speaker"``, the number of held-out speakers (the last
            ones, 1 .. speakers - 1) or their names (``"spk06"``, ...).
        scheme: ``"speaker"`` or ``"standard"`` (see :func:`load_fsdd`).

    Returns:
        a :class:`ClipSet` named ``"generated"``.

    Raises:
        ValueError: ``test_speakers`` a count outside [1, speakers - 1] (and the errors of
            :func:`make_spoken_words` and :func:`load_fsdd`).
    """
    from .. import config

    root = Path(root).expanduser() if root is not None else config.data_dir() / "generated-words"
    if not (root / "generated.json").is_file():
        make_spoken_words(root, n_speakers=n_speakers, takes=takes, seed=seed, sample_rate=sample_rate,
                          n_classes=n_classes)
    params = json.loads((root / "generated.json").read_text())
    names = tuple(params["class_names"])
    speakers = [f"spk{s:02d}" for s in range(params["first_speaker"], params["first_speaker"] + params["n_speakers"])]
    if split == "all" or scheme == "standard":
        clips = load_fsdd(root, split, scheme=scheme, class_names=names)
        clips.name = "generated"
        return clips
    if isinstance(test_speakers, int):
        if not 0 < test_speakers < len(speakers):
            raise ValueError(f"test_speakers must be in [1, {len(speakers) - 1}], got {test_speakers}")
        test_speakers = speakers[-test_speakers:]
    clips = load_fsdd(root, split, scheme=scheme, test_speakers=test_speakers, class_names=names)
    clips.name = "generated"
    return clips


# --------------------------------------------------------------------------- one entry point
def get_clips(dataset: str, root: Path | str | None, split: str = "all", **options) -> ClipSet:
    """One entry point: ``dataset`` in ``fsdd``, ``speechcommands``, ``folder``, ``generated``.

    ``options`` go to the loader (e.g. ``scheme``/``test_speakers`` for FSDD, ``subset`` for
    Speech Commands). ``folder`` has no split of its own: ``split`` must be ``"all"``.

    Args:
        dataset: one of :data:`AUDIO_DATASETS`.
        root: the data's folder; required for ``fsdd`` and ``folder``, ``None`` means the
            default folder for ``speechcommands`` and ``generated``.
        split: passed to the loader (``"all"`` only for ``folder``).
        **options: keyword arguments of the loader (:func:`load_fsdd`,
            :func:`load_speechcommands`, :func:`load_folder`, :func:`load_generated`).

    Returns:
        the loader's :class:`ClipSet`.

    Raises:
        ValueError: an unknown ``dataset``, no ``root`` for ``fsdd`` / ``folder``, or a split
            other than ``"all"`` for ``folder``.
    """
    if dataset not in AUDIO_DATASETS:
        raise ValueError(f"unknown audio dataset {dataset!r}; expected one of {', '.join(AUDIO_DATASETS)}")
    if dataset == "fsdd":
        if root is None:
            raise ValueError("fsdd needs root= (the FSDD repository or its recordings/ folder)")
        return load_fsdd(root, split, **options)
    if dataset == "speechcommands":
        return load_speechcommands(root, split, **options)
    if dataset == "folder":
        if root is None:
            raise ValueError("folder needs root= (a folder with one sub-folder per class)")
        if split != "all":
            raise ValueError(f"a folder-per-class tree has no {split!r} split: use split='all' "
                             f"(and separate folders for training and testing)")
        return load_folder(root, **options)
    return load_generated(root, split, **options)
