"""The design checklist: the design rules of the class notes (section III-E) applied to a model.

The rules, as the course teaches them (with the notes' missing stride filled in):

1. ``input-even``: the input side is divisible by 2, so that every 2/2 pooling halves it
   exactly; the check also *measures* every conv/pool layer and reports the ones that never
   look at the last row or column of their input (the output size was floored, pixels lost).
2. ``small-kernels``: convolutions use small receptive fields, 3x3 or at most 5x5.
3. ``stride-1``: convolutions use stride 1 (downsampling is the pooling layers' job).
4. ``same-padding``: zero padding keeps the spatial size through every convolution.
5. ``pool-2x2``: pooling is max-pooling with a 2x2 window and stride 2; other settings need
   more care with the sizes, and windows larger than 3 are rare.

Everything is measured by running the model once on a random input of ``input_shape``
(hooks record each layer's input and output; hooks are removed and the train/eval flags
restored afterwards). Usage::

    findings = checklist.check_design(model, (1, 32, 32))
    print(checklist.format_findings(findings))
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ._core import check_int, forward_hooks, model_device, train_mode
from .lang import tr

__all__ = ["RULES", "Finding", "check_design", "format_findings", "worst_statuses", "findings_table"]

#: rule id -> the rule in one sentence
RULES: dict[str, str] = {
    "input-even": "the input side is divisible by 2 and no layer drops its last row/column (floor)",
    "small-kernels": "convolutions use small kernels: 3x3, at most 5x5",
    "stride-1": "convolutions use stride 1 (pooling downsamples)",
    "same-padding": "zero padding keeps the spatial size through each convolution",
    "pool-2x2": "pooling is max-pooling with a 2x2 window and stride 2",
}

STATUSES = ("ok", "note", "warn")


@dataclass(frozen=True)
class Finding:
    """One line of the checklist.

    Attributes:
        rule: a key of :data:`RULES`.
        status: ``"ok"`` (rule followed), ``"note"`` (allowed but needs care) or ``"warn"`` (broken).
        layer: the module's name in the model (``""`` for the whole model).
        message: what was measured and, for a warning, what to change.
    """

    rule: str
    status: str
    layer: str
    message: str

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}; expected one of {list(RULES)}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


def _pair(v) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _hw(t: torch.Tensor) -> tuple[int, int]:
    return int(t.shape[-2]), int(t.shape[-1])


def _uses_last(module: nn.Module, x: torch.Tensor, dim: int) -> bool:
    """True if the output of ``module`` changes when the last row (dim=-2) / column (dim=-1)
    of its input ``x: (1, C, H, W)`` is set to a huge value (so a max-pool notices it too)."""
    y0 = module(x)
    x2 = x.clone()
    if dim == -2:
        x2[..., -1, :] = 1e4
    else:
        x2[..., :, -1] = 1e4
    return not torch.equal(y0, module(x2))


def _capture(model: nn.Module, input_shape: tuple[int, ...], seed: int) -> list[tuple[str, nn.Module, torch.Tensor, torch.Tensor]]:
    """Run the model once; return ``(name, module, input, output)`` of every 2-D conv and pool call."""
    kinds = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
    calls: list[tuple[str, nn.Module, torch.Tensor, torch.Tensor]] = []

    def hook(name: str):
        def fn(module, inputs, output):
            if inputs and torch.is_tensor(inputs[0]) and torch.is_tensor(output):
                calls.append((name, module, inputs[0].detach().clone(), output.detach()))
        return fn

    pairs = [(module, hook(name)) for name, module in model.named_modules() if isinstance(module, kinds)]
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand((1, *input_shape), generator=gen).to(model_device(model))
    try:
        with train_mode(model), torch.no_grad(), forward_hooks(pairs):
            model(x)
    except RuntimeError as e:
        raise ValueError(f"the model cannot run on an input of shape {(1, *input_shape)}: {e}") from None
    return calls


def check_design(model: nn.Module, input_shape: Sequence[int], *, seed: int = 0) -> list[Finding]:
    """Apply the §III-E checklist to ``model`` for one input of ``input_shape = (C, H, W)``.

    Args:
        model: a network of 2-D convolutions and poolings; its train/eval flags are restored and
            the hooks removed afterwards.
        input_shape: ``(C, H, W)``, the size of one input image.
        seed: seed of the random input the model is run on.

    Returns:
        One :class:`Finding` per broken or noteworthy layer, and one ``"ok"`` finding for each
        rule that holds everywhere, in the order of :data:`RULES`.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: ``input_shape`` is not ``(C, H, W)`` of positive ints, or the model
            cannot run on it.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), e.g. (1, 32, 32); got {input_shape!r}")
    try:
        shape = tuple(check_int(s, "size", min=1) for s in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must hold positive ints, got {input_shape!r}") from None
    calls = _capture(model, shape, seed)
    per_rule: dict[str, list[Finding]] = {r: [] for r in RULES}

    # 1. input divisible by 2 + no floored (dropped) rows or columns anywhere
    h, w = shape[1:]
    if h % 2 or w % 2:
        per_rule["input-even"].append(Finding(
            "input-even", "warn", "", tr("the input is {h}x{w}: an odd side loses a row/column at the first 2/2 pooling; "
                                         "resize or crop to an even size (better: divisible by 2 per pooling layer)",
                                         h=h, w=w)))
    with train_mode(model), torch.no_grad():
        for name, module, x, y in calls:
            lost = [what for what, dim in ((tr("row"), -2), (tr("column"), -1)) if not _uses_last(module, x, dim)]
            if lost:
                (ih, iw), (oh, ow) = _hw(x), _hw(y)
                per_rule["input-even"].append(Finding(
                    "input-even", "warn", name,
                    tr("{layer} maps {ih}x{iw} to {oh}x{ow} and never looks at the last {lost} of its input: "
                       "the output size was floored, those pixels are lost", layer=type(module).__name__, ih=ih, iw=iw,
                       oh=oh, ow=ow, lost=tr(" and ").join(lost))))

    convs = [(n, m, x, y) for n, m, x, y in calls if isinstance(m, nn.Conv2d)]
    pools = [(n, m, x, y) for n, m, x, y in calls if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
    seen: set[int] = set()
    for name, conv, x, y in convs:
        first_call = id(conv) not in seen
        seen.add(id(conv))
        kh, kw = _pair(conv.kernel_size)
        sh, sw = _pair(conv.stride)
        # 2. small kernels
        if first_call and max(kh, kw) > 5:
            per_rule["small-kernels"].append(Finding(
                "small-kernels", "warn", name,
                tr("{kh}x{kw} kernel: a stack of 3x3 convolutions sees as far with fewer parameters and more ReLUs",
                   kh=kh, kw=kw)))
        # 3. stride 1
        if first_call and (sh, sw) != (1, 1):
            per_rule["stride-1"].append(Finding(
                "stride-1", "warn", name,
                tr("stride {sh}x{sw}: keep convolutions at stride 1 and let a 2/2 pooling downsample", sh=sh, sw=sw)))
        # 4. same padding (measured: spatial size in == out)
        if _hw(x) != _hw(y):
            (ih, iw), (oh, ow) = _hw(x), _hw(y)
            hint = ""
            if (sh, sw) == (1, 1) and kh % 2 and kw % 2:
                dh, dw = _pair(conv.dilation)
                ph, pw = (kh - 1) // 2 * dh, (kw - 1) // 2 * dw
                hint = tr("; padding={padding} keeps it", padding=ph if ph == pw else (ph, pw))
            per_rule["same-padding"].append(Finding(
                "same-padding", "warn", name,
                f"{ih}x{iw} -> {oh}x{ow} with padding={conv.padding}{hint}"))
    # 5. pooling 2/2
    for name, pool, x, y in pools:
        k, s = _pair(pool.kernel_size), _pair(pool.stride)
        kind = type(pool).__name__
        if max(k) > 3:
            per_rule["pool-2x2"].append(Finding(
                "pool-2x2", "warn", name,
                tr("{kind} with a {kh}x{kw} window: windows larger than 3 discard too much", kind=kind, kh=k[0], kw=k[1])))
        elif k != (2, 2) or s != (2, 2) or isinstance(pool, nn.AvgPool2d):
            per_rule["pool-2x2"].append(Finding(
                "pool-2x2", "note", name,
                tr("{kind} window {kh}x{kw}, stride {sh}x{sw}: allowed, but check the sizes with care "
                   "(the common choice is MaxPool2d(2, 2))", kind=kind, kh=k[0], kw=k[1], sh=s[0], sw=s[1])))

    ok_text = {
        "input-even": tr("input {h}x{w} is even and every layer uses all of its input", h=h, w=w),
        "small-kernels": tr("all {n} convolution(s) use kernels of at most 5x5", n=len(convs)) if convs
        else tr("no convolution"),
        "stride-1": tr("every convolution has stride 1") if convs else tr("no convolution"),
        "same-padding": tr("every convolution keeps the spatial size") if convs else tr("no convolution"),
        "pool-2x2": tr("all {n} pooling layer(s) are MaxPool2d(2, 2)", n=len(pools)) if pools else tr("no pooling layer"),
    }
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(per_rule[rule] or [Finding(rule, "ok", "", ok_text[rule])])
    return findings


def worst_statuses(findings: Sequence[Finding]) -> dict[str, str]:
    """Worst status per rule: ``{"input-even": "ok", "stride-1": "warn", ...}``.

    Args:
        findings: :func:`check_design` findings (several per rule allowed).

    Returns:
        ``{rule: status}`` for every rule that has a finding, ``"warn"`` over ``"note"`` over
        ``"ok"``.

    Raises:
        TypeError: an item is not a :class:`Finding`.
    """
    order = {s: i for i, s in enumerate(STATUSES)}
    out: dict[str, str] = {}
    for f in findings:
        if not isinstance(f, Finding):
            raise TypeError(f"findings must be Finding objects, got {type(f).__name__}")
        if f.rule not in out or order[f.status] > order[out[f.rule]]:
            out[f.rule] = f.status
    return out


_MARK = {"ok": "[ok]  ", "note": "[note]", "warn": "[WARN]"}


def format_findings(findings: Sequence[Finding]) -> str:
    """The checklist as plain text, one line per finding.

    Args:
        findings: :func:`check_design` findings, printed in their order.

    Returns:
        the lines ``[WARN] rule  layer: message`` joined by newlines (empty for no findings).

    Raises:
        TypeError: an item is not a :class:`Finding`.
    """
    lines = []
    for f in findings:
        if not isinstance(f, Finding):
            raise TypeError(f"findings must be Finding objects, got {type(f).__name__}")
        where = f" {f.layer}:" if f.layer else ""
        lines.append(f"{_MARK[f.status]} {f.rule:13s}{where} {f.message}")
    return "\n".join(lines)


def findings_table(checks: dict[str, Sequence[Finding]]) -> str:
    """A rules x models grid of worst statuses, e.g. for comparing several example networks.

    ``checks`` maps a model's name to its :func:`check_design` findings.
    """
    names = list(checks)
    width = max([len(n) for n in names] + [6])
    rule_col = tr("rule")
    header = f"{rule_col:14s}" + "".join(f"{n:>{width + 2}s}" for n in names)
    lines = [header, "-" * len(header)]
    sums = {n: worst_statuses(f) for n, f in checks.items()}
    for rule in RULES:
        lines.append(f"{rule:14s}" + "".join(f"{sums[n].get(rule, '-'):>{width + 2}s}" for n in names))
    return "\n".join(lines)
