"""Classic CNN architectures for lecture 3: published figures, torchvision references, CPU-sized variants.

* :data:`ARCHITECTURES`: year, authors, idea and the figures the papers themselves print
  (parameters, multiply-adds), each with the precision it was written with, so a measured count
  can be checked "within the published rounding" (:meth:`Published.agrees`).
* :func:`reference_model`: torchvision's implementation built with ``weights=None`` (nothing is
  downloaded), on the ``meta`` device by default (exact shapes and counts, no memory).
* :func:`torchvision_figures`: the parameter count and GFLOPS torchvision records for its weights
  (read from the weights' metadata; no download).
* :func:`zfnet`: ZFNet built from torchvision's AlexNet (7x7 / stride-2 first layer); torchvision
  has no ZFNet.
* :func:`small_alexnet`, :func:`small_vgg`: the ideas of AlexNet and VGG at CPU size for 32x32 inputs.

By design (DESIGN.md rule 3) nothing here implements LeNet-5, an Inception module, a ResNet
basic block or a DenseNet dense block / transition: assignment 2 asks students to write those,
and the lecture shows its own small versions in its cells.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources

import torch
from torch import nn

from ._core import check_int
from .lang import tr

__all__ = [
    "Published",
    "Architecture",
    "ARCHITECTURES",
    "TORCHVISION_NAMES",
    "reference_model",
    "torchvision_figures",
    "zfnet",
    "small_alexnet",
    "small_vgg",
]


@dataclass(frozen=True)
class Published:
    """A figure as a paper prints it: ``value`` written with ``digits`` significant digits.

    "60 million" is ``Published(60e6, 1, ...)``: written to one significant digit it stands for
    anything in [55 M, 65 M). ``tolerance`` is half a unit of the last written digit.
    """

    value: float
    digits: int
    text: str
    source: str

    def __post_init__(self) -> None:
        if self.value <= 0:
            raise ValueError(f"a published figure must be positive, got {self.value}")
        if self.digits < 1:
            raise ValueError(f"digits must be >= 1, got {self.digits}")

    @property
    def tolerance(self) -> float:
        """Half a unit in the last significant digit (``60e6`` with 1 digit -> ``5e6``)."""
        return 0.5 * 10 ** (math.floor(math.log10(self.value)) - self.digits + 1)

    def agrees(self, measured: float) -> bool:
        """True when ``measured`` rounds to the published figure (|measured - value| <= tolerance)."""
        return abs(float(measured) - self.value) <= self.tolerance

    def verdict(self, measured: float) -> str:
        """``"agrees (60 M +/- 5 M)"`` or ``"differs by +1.8 % (3.6 G +/- 50 M)"``, for tables (in the notebook's language)."""
        interval = f"({_human(self.value)} +/- {_human(self.tolerance)})"
        if self.agrees(measured):
            return tr("agrees {interval}", interval=interval)
        return tr("differs by {percent:+.1f} % {interval}", percent=100 * (float(measured) - self.value) / self.value,
                  interval=interval)


def _human(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.4g} {unit}"
    return f"{x:.4g}"


@dataclass(frozen=True)
class Architecture:
    """One classic architecture: when, who, the idea, and what its paper reports."""

    name: str
    year: int
    authors: str
    idea: str
    torchvision: str | None
    input_shape: tuple[int, int, int]
    params: Published | None = None
    macs: Published | None = None


def _load_architectures() -> dict[str, Architecture]:
    """The table of ``zoo_architectures.toml`` (shipped beside this module), in lecture order."""
    with resources.files(__package__).joinpath("zoo_architectures.toml").open("rb") as f:
        table = tomllib.load(f)
    out = {}
    for name, row in table.items():
        figures = {k: Published(float(row[k]["value"]), int(row[k]["digits"]), row[k]["text"], row[k]["source"])
                   for k in ("params", "macs") if k in row}
        out[name] = Architecture(name, int(row["year"]), row["authors"], row["idea"], row.get("torchvision"),
                                 tuple(int(s) for s in row["input_shape"]), **figures)
    return out


#: name -> :class:`Architecture`, in the order lecture 3 presents them (data: zoo_architectures.toml).
ARCHITECTURES: dict[str, Architecture] = _load_architectures()

#: torchvision builder name of each architecture torchvision implements.
TORCHVISION_NAMES: dict[str, str] = {a.name: a.torchvision for a in ARCHITECTURES.values() if a.torchvision}

_TV_BUILDERS = ("alexnet", "vgg16", "googlenet", "resnet18", "resnet34", "densenet121")


def reference_model(name: str, *, meta: bool = True, num_classes: int = 1000) -> nn.Module:
    """torchvision's model ``name`` (e.g. ``"resnet18"`` or ``"ResNet-18"``) with ``weights=None``.

    Nothing is downloaded. ``meta=True`` builds it on the ``meta`` device: exact parameter
    counts, shapes and MACs through :mod:`dlcourse.arch`, no memory and no arithmetic.
    GoogLeNet is built without its two auxiliary classifiers (as used at test time and as counted
    in the paper's Table 1) and without the slow truncated-normal initialisation.

    Args:
        name: a torchvision builder name or an :data:`ARCHITECTURES` name.
        meta: build on the ``meta`` device (no memory, no arithmetic).
        num_classes: logits out.

    Returns:
        The torchvision model (GoogLeNet without its auxiliary classifiers).

    Raises:
        ValueError: an unknown name.
        TypeError: ``num_classes`` is not an int (ValueError when < 1).
    """
    tv_name = TORCHVISION_NAMES.get(name, name)
    if tv_name not in _TV_BUILDERS:
        raise ValueError(f"unknown reference model {name!r}; expected one of {', '.join(_TV_BUILDERS)} "
                         f"or {', '.join(TORCHVISION_NAMES)}")
    check_int(num_classes, "num_classes", min=1)
    from torchvision import models as tvm

    kwargs: dict = {"weights": None, "num_classes": num_classes}
    if tv_name == "googlenet":
        kwargs.update(aux_logits=False, init_weights=False)
    builder = getattr(tvm, tv_name)
    if meta:
        with torch.device("meta"):
            return builder(**kwargs)
    return builder(**kwargs)


def torchvision_figures(name: str) -> dict[str, float]:
    """``{"params": int, "gmacs": float}`` that torchvision records for its ImageNet weights of ``name``.

    Read from the weights' metadata (``num_params`` and ``_ops``, which torchvision documents as
    GFLOPS but computes as multiply-accumulates); nothing is downloaded.

    Args:
        name: a torchvision builder name or an :data:`ARCHITECTURES` name.

    Returns:
        ``{"params": int, "gmacs": float}``.

    Raises:
        ValueError: an unknown name.
    """
    tv_name = TORCHVISION_NAMES.get(name, name)
    if tv_name not in _TV_BUILDERS:
        raise ValueError(f"unknown reference model {name!r}; expected one of {', '.join(_TV_BUILDERS)}")
    from torchvision import models as tvm

    meta = tvm.get_model_weights(tv_name).DEFAULT.meta
    return {"params": int(meta["num_params"]), "gmacs": float(meta["_ops"])}


def zfnet(num_classes: int = 1000) -> nn.Module:
    """ZFNet (Zeiler & Fergus, 2013) built from torchvision's AlexNet class.

    Changes to AlexNet: the first layer is 96 filters of 7x7 with stride 2 (AlexNet: 11x11, stride 4),
    the second layer uses stride 2, and the widths are the original AlexNet's 96-256-384-384-256.
    Input ``(N, 3, 224, 224)`` gives first-layer maps of 110x110 (AlexNet: 55x55), then 55, 26, 13
    and 6x6 before the classifier, as in the paper's figure 3. Returns ``(N, num_classes)`` logits.
    """
    from torchvision.models import AlexNet

    check_int(num_classes, "num_classes", min=1)
    model = AlexNet(num_classes=num_classes)
    model.features = nn.Sequential(
        nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1),    # 224 -> 110
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),        # 110 -> 55
        nn.Conv2d(96, 256, kernel_size=5, stride=2),             # 55 -> 26
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),        # 26 -> 13
        nn.Conv2d(256, 384, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),                   # 13 -> 6
    )
    return model


def _check_small(in_channels: int, num_classes: int, width: int) -> None:
    for name, v in (("in_channels", in_channels), ("num_classes", num_classes), ("width", width)):
        check_int(v, name, min=1)


def small_alexnet(in_channels: int = 1, num_classes: int = 10, width: int = 16) -> nn.Sequential:
    """AlexNet's ideas at CPU size for ``x: (N, in_channels, 32, 32)`` -> ``(N, num_classes)``.

    A large first kernel with a stride (5x5/2 here, 11x11/4 in AlexNet), ReLU, overlapping 3x3/2 max
    pooling, three 3x3 convolutions, and a dropout-regularised two-layer classifier.

    Args:
        in_channels: channels of the 32x32 input.
        num_classes: logits out.
        width: channels of the first convolution.

    Returns:
        The ``nn.Sequential`` network.

    Raises:
        TypeError, ValueError: a size that is not a positive int.
    """
    _check_small(in_channels, num_classes, width)
    w = width
    return nn.Sequential(
        nn.Conv2d(in_channels, w, 5, stride=2, padding=2), nn.ReLU(inplace=True),   # 32 -> 16
        nn.MaxPool2d(3, stride=2, padding=1),                                          # 16 -> 8
        nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2, padding=1),                                          # 8 -> 4
        nn.Flatten(),
        nn.Dropout(0.3), nn.Linear(2 * w * 16, 4 * w), nn.ReLU(inplace=True),
        nn.Dropout(0.3), nn.Linear(4 * w, num_classes),
    )


def small_vgg(in_channels: int = 1, num_classes: int = 10, width: int = 16) -> nn.Sequential:
    """VGG's idea at CPU size: stages of two 3x3 convolutions (stride 1, padding 1) and a 2x2 max pool.

    ``x: (N, in_channels, 32, 32)`` -> three stages of ``width, 2*width, 4*width`` channels at 16, 8, 4
    pixels -> global average pooling -> ``(N, num_classes)``.

    Args:
        in_channels, num_classes: as in :func:`small_alexnet`.
        width: channels of the first stage (the others have twice and four times as many).

    Returns:
        The ``nn.Sequential`` network. Raises ``TypeError`` / ``ValueError`` for a size that is
        not a positive int.
    """
    _check_small(in_channels, num_classes, width)
    layers: list[nn.Module] = []
    c = in_channels
    for out in (width, 2 * width, 4 * width):
        layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(inplace=True),
                   nn.Conv2d(out, out, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        c = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)
