"""A small, fast training loop for the course: ``fit`` / ``evaluate`` / ``predict``.

* ``fit`` returns a :class:`History` (one record per epoch: losses, accuracies, seconds).
* Progress with ``tqdm.auto`` (a widget in JupyterLab, text in a terminal).
* Callbacks are objects with any of ``on_train_begin(model)``, ``on_epoch_end(history)``,
  ``on_train_end(history)``; :class:`LivePlot` redraws learning curves in a notebook and
  prints one line per epoch elsewhere.
* On CUDA: mixed precision (``torch.autocast`` + ``GradScaler``) and ``non_blocking`` copies.
* ``time_budget`` (seconds) stops training early, between steps, and says so in the history.
* :func:`load_or_train`: load a checkpoint if present, else train and save it atomically.

The device is the model's (``device=None``): batches are moved to it automatically.
"""
from __future__ import annotations

import io
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ._core import (
    atomic_write_bytes,
    check_bool,
    check_choice,
    check_float,
    check_int,
    in_notebook,
    model_device,
    train_mode,
)
from .lang import tr

__all__ = [
    "History",
    "fit",
    "evaluate",
    "predict",
    "model_device",
    "eval_mode",
    "count_parameters",
    "LivePlot",
    "load_or_train",
    "save_checkpoint",
    "load_checkpoint",
]


_BUDGET_REASON = re.compile(r"time budget of (?P<seconds>\S+) s reached in epoch (?P<epoch>\d+)")
_BUDGET_AFTER = re.compile(r"time budget of (?P<seconds>\S+) s reached after (?P<epochs>\d+) epochs")  # audio.models


class History:
    """Per-epoch records of a training run.

    ``history["train_loss"]`` is the list of that metric over epochs (``nan`` where absent);
    ``history.records`` the raw dicts; ``history.stop_reason`` why training ended (a stable English value
    programs compare: ``"completed"`` or ``"time budget of <s> s reached in epoch <n>"``);
    ``history.stop_message`` the same in the notebook's language, to show.
    """

    def __init__(self, records: Iterable[dict[str, float]] | None = None, stop_reason: str = "completed"):
        self.records: list[dict[str, float]] = [dict(r) for r in (records or [])]
        self.stop_reason = stop_reason

    @property
    def stop_message(self) -> str:
        """:attr:`stop_reason` in the notebook's language (see :func:`dlcourse.lang.tr`), for printing."""
        if self.stop_reason == "completed":
            return tr("completed")
        budget = _BUDGET_REASON.fullmatch(self.stop_reason)
        if budget:
            return tr("time budget of {seconds} s reached in epoch {epoch}", **budget.groupdict())
        after = _BUDGET_AFTER.fullmatch(self.stop_reason)
        if after:
            return tr("time budget of {seconds} s reached after {epochs} epochs", **after.groupdict())
        return self.stop_reason

    def append(self, record: dict[str, float]) -> None:
        self.records.append(dict(record))

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.records:
            seen.update(dict.fromkeys(r))
        return list(seen)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.keys():
            raise KeyError(f"no metric {key!r} in this history; it has {self.keys()}")
        return [float(r.get(key, math.nan)) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last(self) -> dict[str, float]:
        """The metrics of the last finished epoch (``{"train_loss": ..., "val_loss": ...}``).

        Raises:
            IndexError: the history is empty (no epoch finished).
        """
        if not self.records:
            raise IndexError("the history is empty (no epoch finished)")
        return self.records[-1]

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "History":
        return cls(data.get("records", []), data.get("stop_reason", "completed"))

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.records[-1].items()) if self.records else "empty"
        return f"History({len(self)} epochs, {self.stop_reason}; last: {last})"


# ``model_device`` and ``eval_mode`` are the core's, public here because the notebooks use them
# as ``training.model_device(model)`` and ``with training.eval_mode(model): ...`` (evaluation
# mode for the block, then every submodule's own train/eval flag restored).
eval_mode = train_mode


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters (``sum(p.numel())``).

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``trainable_only`` is not a bool.
    """
    _check_model(model)
    check_bool(trainable_only, "trainable_only")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _check_model(model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _move_model(model: nn.Module, device: torch.device | str | None) -> torch.device:
    """Move ``model`` to ``device`` when one is given; return the device it is on."""
    if device is not None:
        model.to(device)
    return model_device(model)


def _check_target(target: Any) -> None:
    check_choice(target, "target", ("label", "input"))


def _check_loader(loader: Any, name: str) -> None:
    if loader is None or isinstance(loader, (torch.Tensor, str, bytes)) or not hasattr(loader, "__iter__"):
        raise TypeError(
            f"{name} must be an iterable of batches such as a torch DataLoader, got {type(loader).__name__}"
        )


def _length(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def _unpack(batch: Any, target: str) -> tuple[torch.Tensor, torch.Tensor]:
    if torch.is_tensor(batch):
        if target != "input":
            raise ValueError("a batch is a single tensor: pass target='input' (autoencoders) or yield (x, y) pairs")
        return batch, batch
    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError(f"a batch must be a tensor or a (inputs, targets, ...) tuple, got {type(batch).__name__}")
    x = batch[0]
    if target == "input":
        return x, x
    if len(batch) < 2:
        raise ValueError("a batch holds only inputs: pass target='input' or yield (x, y) pairs")
    return x, batch[1]


def _is_classification(out: torch.Tensor, y: torch.Tensor) -> bool:
    return out.ndim == 2 and y.ndim == 1 and not torch.is_floating_point(y)


def fit(
    model: nn.Module,
    train_loader: Iterable,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    val_loader: Iterable | None = None,
    lr: float = 1e-3,
    scheduler: Any | None = None,
    device: torch.device | str | None = None,
    amp: bool | None = None,
    target: str = "label",
    callbacks: Sequence[Any] = (),
    time_budget: float | None = None,
    grad_clip: float | None = None,
    progress: bool = True,
    desc: str = "train",
) -> History:
    """Train ``model`` and return its :class:`History`.

    Args:
        model: the network; it is moved to ``device`` if one is given, else its own device is used.
        train_loader: iterable of batches ``(x, y)`` with ``x: (N, ...)``, ``y: (N,)`` class
            indices (or any target ``loss_fn`` accepts); with ``target="input"`` the target is ``x``.
        epochs: number of passes over ``train_loader`` (an int >= 0).
        optimizer: defaults to ``Adam(model.parameters(), lr)``.
        loss_fn: defaults to cross-entropy (``target="label"``) or MSE (``target="input"``).
        val_loader: evaluated after every epoch when given.
        lr: learning rate of the default optimizer (ignored when ``optimizer`` is given).
        scheduler: stepped once per epoch (``ReduceLROnPlateau`` gets the validation loss).
        device: move the model there first; ``None`` keeps the model's device.
        amp: mixed precision; default on for CUDA only.
        target: ``"label"`` (``y`` is the target) or ``"input"`` (autoencoders: ``x`` is).
        callbacks: objects with ``on_train_begin/on_epoch_end/on_train_end`` (any subset).
        time_budget: seconds; training stops between steps once exceeded.
        grad_clip: clip the global gradient norm to this value.
        progress: show a ``tqdm`` bar per epoch.
        desc: the bar's label.

    Returns:
        The :class:`History`: one record per epoch (``train_loss``, ``train_acc`` for
        classification, ``val_loss``/``val_acc`` with ``val_loader``, ``lr``, ``seconds``) and
        ``stop_reason``. The model's own train/eval flag is restored.

    Raises:
        TypeError: ``model`` is not a module, ``epochs`` not an int, a loader not an iterable of
            batches, ``time_budget``/``grad_clip`` not numbers.
        ValueError: ``epochs < 0``, unknown ``target``, ``time_budget``/``grad_clip`` not
            positive, ``amp=True`` off CUDA, or a loader that yields no batches.
    """
    _check_model(model)
    check_int(epochs, "epochs", min=0)
    _check_target(target)
    if time_budget is not None:
        check_float(time_budget, "time_budget (seconds)", min=0, min_open=True)
    if grad_clip is not None:
        check_float(grad_clip, "grad_clip", min=0, min_open=True)
    _check_loader(train_loader, "train_loader")
    if val_loader is not None:
        _check_loader(val_loader, "val_loader")

    dev = _move_model(model, device)
    non_blocking = dev.type == "cuda"
    use_amp = (dev.type == "cuda") if amp is None else check_bool(amp, "amp")
    if use_amp and dev.type != "cuda":
        raise ValueError("amp=True needs a CUDA device; on CPU leave amp=None")
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if loss_fn is None:
        loss_fn = nn.CrossEntropyLoss() if target == "label" else nn.MSELoss()
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    history = History()
    start = time.perf_counter()
    stop_reason = "completed"
    for cb in callbacks:
        if hasattr(cb, "on_train_begin"):
            cb.on_train_begin(model)
    with train_mode(model, True):  # afterwards every submodule's own flag is back
        for epoch in range(1, epochs + 1):
            model.train()
            loss_sum = torch.zeros((), device=dev)
            correct = torch.zeros((), device=dev, dtype=torch.long)
            n_seen = 0
            n_cls = 0
            # A progress bar beside the loop (not wrapping it): tqdm.auto's asyncio flavour calls
            # iter() on a wrapped iterable twice, which re-draws a DataLoader's shuffle seed.
            bar = tqdm(total=_length(train_loader), desc=f"{desc} {epoch}/{epochs}", leave=False, disable=not progress)
            for batch in train_loader:
                x, y = _unpack(batch, target)
                x = x.to(dev, non_blocking=non_blocking)
                y = y.to(dev, non_blocking=non_blocking)
                with torch.autocast(dev.type, enabled=use_amp):
                    out = model(x)
                    loss = loss_fn(out, y)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if grad_clip is not None:
                    scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                scaler.step(optimizer)
                scaler.update()
                bs = x.shape[0]
                loss_sum += loss.detach() * bs
                n_seen += bs
                if _is_classification(out, y):
                    correct += (out.detach().argmax(1) == y).sum()
                    n_cls += bs
                bar.update()
                if time_budget is not None and time.perf_counter() - start > time_budget:
                    stop_reason = f"time budget of {time_budget:g} s reached in epoch {epoch}"
                    break
            bar.close()
            if n_seen == 0:
                raise ValueError("train_loader yielded no batches")
            record = {"epoch": float(epoch), "train_loss": float(loss_sum) / n_seen}
            if n_cls:
                record["train_acc"] = float(correct) / n_cls
            if val_loader is not None:
                val = evaluate(model, val_loader, loss_fn=loss_fn, target=target, progress=False)
                record["val_loss"] = val["loss"]
                if "accuracy" in val:
                    record["val_acc"] = val["accuracy"]
            record["lr"] = float(optimizer.param_groups[0]["lr"])
            record["seconds"] = time.perf_counter() - start
            history.append(record)
            if scheduler is not None:
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(record.get("val_loss", record["train_loss"]))
                else:
                    scheduler.step()
            for cb in callbacks:
                if hasattr(cb, "on_epoch_end"):
                    cb.on_epoch_end(history)
            if stop_reason != "completed":
                break
    history.stop_reason = stop_reason
    for cb in callbacks:
        if hasattr(cb, "on_train_end"):
            cb.on_train_end(history)
    return history


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str | None = None,
    target: str = "label",
    progress: bool = False,
) -> dict[str, float]:
    """Mean loss (and accuracy for classification) of ``model`` over ``loader``.

    Args:
        model: the network, run in evaluation mode without gradients.
        loader: iterable of batches ``(x: (N, ...), y: (N,))`` (or tensors with ``target="input"``).
        loss_fn: defaults to cross-entropy (``target="label"``) or MSE (``target="input"``).
        device: move the model there first; ``None`` keeps the model's device.
        target: ``"label"`` or ``"input"``, as in :func:`fit`.
        progress: show a ``tqdm`` bar.

    Returns:
        ``{"loss": float, "accuracy": float (classification only), "n": int}``.
        The model's train/eval flags are restored afterwards.

    Raises:
        TypeError: ``model`` is not a module or ``loader`` not an iterable of batches.
        ValueError: unknown ``target`` or a loader that yields no batches.
    """
    _check_model(model)
    _check_loader(loader, "loader")
    _check_target(target)
    dev = _move_model(model, device)
    if loss_fn is None:
        loss_fn = nn.CrossEntropyLoss() if target == "label" else nn.MSELoss()
    loss_sum, correct, n, n_cls = 0.0, 0, 0, 0
    bar = tqdm(total=_length(loader), desc="eval", leave=False, disable=not progress)
    with eval_mode(model):
        for batch in loader:
            bar.update()
            x, y = _unpack(batch, target)
            x, y = x.to(dev, non_blocking=dev.type == "cuda"), y.to(dev, non_blocking=dev.type == "cuda")
            out = model(x)
            loss_sum += float(loss_fn(out, y)) * x.shape[0]
            n += x.shape[0]
            if _is_classification(out, y):
                correct += int((out.argmax(1) == y).sum())
                n_cls += x.shape[0]
    bar.close()
    if n == 0:
        raise ValueError("loader yielded no batches")
    result: dict[str, float] = {"loss": loss_sum / n, "n": n}
    if n_cls:
        result["accuracy"] = correct / n_cls
    return result


@torch.no_grad()
def predict(
    model: nn.Module, loader: Iterable, *, device: torch.device | str | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run ``model`` over ``loader``; return ``(outputs, targets)`` concatenated on the CPU.

    Args:
        model: the network, run in evaluation mode without gradients (flags restored after).
        loader: batches ``x: (N, ...)`` or ``(x, y, ...)`` tuples.
        device: move the model there first; ``None`` keeps the model's device.

    Returns:
        ``outputs: (N_total, ...)`` and ``targets: (N_total,)``, or ``None`` when batches carry
        only inputs.

    Raises:
        TypeError: ``model`` is not a module or ``loader`` not an iterable of batches.
        ValueError: a loader that yields no batches.
    """
    _check_model(model)
    _check_loader(loader, "loader")
    dev = _move_model(model, device)
    outs, ys = [], []
    with eval_mode(model):
        for batch in loader:
            x = batch if torch.is_tensor(batch) else batch[0]
            outs.append(model(x.to(dev)).cpu())
            if not torch.is_tensor(batch) and len(batch) > 1:
                ys.append(batch[1].cpu())
    if not outs:
        raise ValueError("loader yielded no batches")
    return torch.cat(outs), (torch.cat(ys) if ys else None)


class LivePlot:
    """Learning curves redrawn after every epoch in a notebook; one printed line per epoch elsewhere.

    Args:
        metrics: groups of history keys to draw, one panel each.
        mode: ``"auto"`` (figure in a notebook kernel, text otherwise), ``"figure"`` or ``"text"``.
        title: the figure's title.

    Raises:
        ValueError: unknown ``mode``.
    """

    def __init__(
        self,
        metrics: Sequence[Sequence[str]] = (("train_loss", "val_loss"), ("train_acc", "val_acc")),
        mode: str = "auto",
        title: str = "Learning curves",
    ):
        check_choice(mode, "mode", ("auto", "figure", "text"))
        self.metrics = [tuple(m) for m in metrics]
        self.mode = mode
        self.title = title
        self._handle = None
        self.lines: list[str] = []

    def _use_figure(self) -> bool:
        return self.mode == "figure" or (self.mode == "auto" and in_notebook())

    def on_epoch_end(self, history: History) -> None:
        rec = history.last
        line = f"epoch {int(rec['epoch'])}: " + ", ".join(
            f"{k}={v:.4f}" for k, v in rec.items() if k not in ("epoch", "lr")
        )
        self.lines.append(line)
        if not self._use_figure():
            print(line, flush=True)
            return
        import matplotlib.pyplot as plt
        from IPython.display import display

        from .plotting import plot_history

        fig = plot_history(history, metrics=self.metrics, title=self.title)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)


def save_checkpoint(model: nn.Module, path: Path | str, history: History | None = None, **meta: Any) -> Path:
    """Save ``model.state_dict()`` (+ history and metadata) to ``path`` atomically.

    Args:
        model: the trained network.
        path: the checkpoint file (parent folders are created).
        history: stored with the weights so :func:`load_or_train` can return it.
        **meta: any further picklable metadata.

    Returns:
        ``path``.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
    """
    _check_model(model)
    path = Path(path)
    buf = io.BytesIO()
    torch.save(
        {
            "state_dict": model.state_dict(),
            "model_class": type(model).__name__,
            "n_params": count_parameters(model),
            "history": history.to_dict() if history is not None else None,
            "meta": meta,
        },
        buf,
    )
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(model: nn.Module, path: Path | str) -> History | None:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (on its device).

    Returns:
        The stored :class:`History`, or ``None`` when none was saved.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not a dlcourse checkpoint, or saved from a different model.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    ckpt = torch.load(path, map_location=model_device(model), weights_only=True)
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise ValueError(f"{path} is not a dlcourse checkpoint (no 'state_dict' entry)")
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise ValueError(
            f"the checkpoint {path} was saved from a different model ({ckpt.get('model_class')}, "
            f"{ckpt.get('n_params')} parameters) than {type(model).__name__} "
            f"({count_parameters(model)} parameters); delete it to retrain. PyTorch said: {e}"
        ) from None
    return History.from_dict(ckpt["history"]) if ckpt.get("history") else None


def load_or_train(
    model: nn.Module, path: Path | str, train: Callable[[], History | None], *, verbose: bool = True
) -> History | None:
    """Load ``path`` into ``model`` if it exists; else call ``train()`` and save the result.

    Args:
        model: the network ``train()`` trains (in place).
        path: the checkpoint file.
        train: called without arguments when there is no checkpoint; may return a History.
        verbose: print one line saying which happened.

    Returns:
        The history stored in (or produced for) the checkpoint.

    Raises:
        FileNotFoundError, ValueError: as :func:`load_checkpoint` (a checkpoint of another model).
    """
    path = Path(path)
    if path.is_file():
        history = load_checkpoint(model, path)
        if verbose:
            print(tr("Loaded trained weights from {path} (delete the file to retrain).", path=path))
        return history
    history = train()
    save_checkpoint(model, path, history if isinstance(history, History) else None)
    if verbose:
        print(tr("Saved trained weights to {path}.", path=path))
    return history
