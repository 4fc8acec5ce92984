"""What ``losskit bench`` measures: one :class:`Case` per loss and problem size.

A case builds its tensors and its contenders when it runs (peers are imported then, never at
``import losskit``): the losskit function, every peer library that has the same loss
(``torch.nn.functional``, the torchvision formulation, kornia, MONAI, Keras 3 on the torch
backend, torchmetrics, pytorch-metric-learning, rapidfuzz) and, for the elementwise losses, two
floors on as many elements:

* ``fused BCE floor``: torch's fused ``binary_cross_entropy_with_logits`` forward + backward;
* ``bandwidth floor``: a copy of as many bytes as the loss must at least move (read every
  input once, write the gradient once), i.e. ``(inputs + 1) * numel / 2`` elements copied.

A peer that is not installed is skipped with a note. The targets are the product's (SPEC
section 7, CPU float32): a ratio ``losskit / other`` at most the given value.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import functional as lk
from . import _reference as tv

__all__ = ["CASES", "FAMILIES", "Built", "Case", "Contender", "Target"]

Thunk = Callable[[], object]


@dataclass(frozen=True)
class Target:
    """Upper bounds of ``losskit / other``: time, and saved-for-backward bytes (``None``: none)."""

    time: float | None = None
    saved: float | None = None


@dataclass
class Contender:
    """One implementation of a case.

    ``role`` is ``"losskit"``, ``"peer"`` or ``"floor"``; ``items`` the units of work one call
    does (ratios are per item: a slow peer may be timed on a subset); ``backward`` whether a
    call is followed by ``.backward()``.
    """

    name: str
    role: str
    thunk: Thunk
    items: float = 1.0
    backward: bool = True


@dataclass
class Built:
    """A case ready to run: contenders, the leaves whose ``.grad`` is reset before each call,
    the inputs (not counted as saved memory), targets per other contender, notes."""

    contenders: list[Contender]
    leaves: list[Tensor]
    inputs: list[Tensor]
    targets: dict[str, Target] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    """A loss at one problem size; ``build(quick, device)`` makes the tensors and contenders."""

    family: str
    name: str
    size: str
    quick_size: str
    build: Callable[[bool, torch.device], Built]

    @property
    def key(self) -> str:
        """``family:name``, unique."""
        return f"{self.family}:{self.name}"


TV = "torchvision formulation"
BCE_FLOOR = "fused BCE floor"
BW_FLOOR = "bandwidth floor"
ELEMENTWISE = Target(time=1.5)


def _peer(module: str, notes: list[str]) -> Any | None:
    """``importlib.import_module(module)``, or ``None`` with a note when it is not installed."""
    try:
        if module.startswith("keras"):
            os.environ.setdefault("KERAS_BACKEND", "torch")
        mod = importlib.import_module(module)
    except ImportError as exc:
        notes.append(f"{module.split('.')[0]} not installed: skipped ({exc.__class__.__name__})")
        return None
    if module.startswith("keras"):
        keras = importlib.import_module("keras")
        if keras.backend.backend() != "torch":
            notes.append(f"keras backend is {keras.backend.backend()!r}, not torch: skipped")
            return None
    return mod


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _floors(numel: int, inputs: int, device: torch.device, leaves: list[Tensor]) -> list[Contender]:
    """The fused-BCE and bandwidth floors for an elementwise loss of ``numel`` elements."""
    g = _gen()
    x = torch.randn(numel, generator=g).to(device).requires_grad_()
    t = torch.rand(numel, generator=g).to(device)
    leaves.append(x)
    moved = max(1, (inputs + 1) * numel // 2)
    src = torch.rand(moved, generator=g).to(device)
    dst = torch.empty_like(src)
    return [
        Contender(BCE_FLOOR, "floor", lambda: F.binary_cross_entropy_with_logits(x, t)),
        Contender(BW_FLOOR, "floor", lambda: dst.copy_(src), backward=False),
    ]


# ---- focal ---------------------------------------------------------------------------------


def _focal(quick: bool, device: torch.device) -> Built:
    numel = 1 << (18 if quick else 22)
    g = _gen()
    shape = (numel // 1024, 1024)
    x = torch.randn(shape, generator=g).to(device).requires_grad_()
    t = (torch.rand(shape, generator=g) < 0.1).float().to(device)
    notes: list[str] = []
    leaves = [x]
    cs = [
        Contender("sigmoid_focal_loss", "losskit", lambda: lk.sigmoid_focal_loss(x, t, alpha=0.25)),
        Contender(TV, "peer", lambda: tv.sigmoid_focal_loss(x, t, 0.25, 2.0)),
    ]
    kornia = _peer("kornia.losses", notes)
    if kornia is not None:
        cs.append(
            Contender(
                "kornia binary_focal_loss_with_logits",
                "peer",
                lambda: kornia.binary_focal_loss_with_logits(
                    x, t, alpha=0.25, gamma=2.0, reduction="mean"
                ),
            )
        )
    kl = _peer("keras.losses", notes)
    if kl is not None:
        cs.append(
            Contender(
                "keras binary_focal_crossentropy",
                "peer",
                lambda: kl.binary_focal_crossentropy(
                    t, x, apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True
                ).mean(),
            )
        )
    cs += _floors(numel, 2, device, leaves)
    targets = {TV: Target(time=1 / 3, saved=1 / 3), BCE_FLOOR: ELEMENTWISE}
    return Built(cs, leaves, [x, t], targets, notes)


# ---- boxes ---------------------------------------------------------------------------------


def _boxes(n: int, device: torch.device) -> tuple[Tensor, Tensor]:
    g = _gen()

    def boxes() -> Tensor:
        lo = 10 * torch.rand(n, 2, generator=g)
        return torch.cat([lo, lo + 0.1 + 5 * torch.rand(n, 2, generator=g)], -1).to(device)

    return boxes(), boxes()


def _box_case(name: str) -> Callable[[bool, torch.device], Built]:
    ours = {
        "iou": lk.iou_loss,
        "giou": lk.generalized_box_iou_loss,
        "diou": lk.distance_box_iou_loss,
        "ciou": lk.complete_box_iou_loss,
    }[name]
    theirs = {"iou": tv.iou_loss, "giou": tv.giou_loss, "diou": tv.diou_loss, "ciou": tv.ciou_loss}[
        name
    ]

    def build(quick: bool, device: torch.device) -> Built:
        n = 1 << (16 if quick else 20)
        p0, t = _boxes(n, device)
        p = p0.requires_grad_()
        leaves = [p]
        cs = [
            Contender(ours.__name__, "losskit", lambda: ours(p, t, reduction="none").sum()),
            Contender(TV, "peer", lambda: theirs(p, t).sum()),
        ]
        # Per box: the floors run on n elements; the inputs are 8 floats a box, the gradient 4.
        cs += _floors(n, 2, device, leaves)
        targets = {TV: Target(time=1 / 3, saved=1 / 3), BCE_FLOOR: ELEMENTWISE}
        return Built(cs, leaves, [p, t], targets)

    return build


# ---- cross-entropy -------------------------------------------------------------------------


def _sparse_ce(quick: bool, device: torch.device) -> Built:
    n, c = (512, 1000) if quick else (4096, 1000)
    g = _gen()
    x = torch.randn(n, c, generator=g).to(device).requires_grad_()
    y = torch.randint(0, c, (n,), generator=g).to(device)
    notes: list[str] = []
    cs = [
        Contender(
            "sparse_softmax_cross_entropy", "losskit", lambda: lk.sparse_softmax_cross_entropy(x, y)
        ),
        Contender("F.cross_entropy", "peer", lambda: F.cross_entropy(x, y)),
    ]
    kl = _peer("keras.losses", notes)
    if kl is not None:
        cs.append(
            Contender(
                "keras sparse_categorical_crossentropy",
                "peer",
                lambda: kl.sparse_categorical_crossentropy(y, x, from_logits=True).mean(),
            )
        )
    return Built(cs, [x], [x, y], {"F.cross_entropy": Target(time=1.05)}, notes)


def _sigmoid_ce(balanced: bool) -> Callable[[bool, torch.device], Built]:
    def build(quick: bool, device: torch.device) -> Built:
        numel = 1 << (18 if quick else 22)
        g = _gen()
        x = torch.randn(numel // 1024, 1024, generator=g).to(device).requires_grad_()
        t = (torch.rand(numel // 1024, 1024, generator=g) < 0.2).float().to(device)
        leaves = [x]
        if balanced:
            cs = [
                Contender(
                    "balanced_sigmoid_cross_entropy",
                    "losskit",
                    lambda: lk.balanced_sigmoid_cross_entropy(x, t),
                )
            ]
        else:
            cs = [
                Contender(
                    "sigmoid_cross_entropy", "losskit", lambda: lk.sigmoid_cross_entropy(x, t)
                ),
                Contender(
                    "F.binary_cross_entropy_with_logits",
                    "peer",
                    lambda: F.binary_cross_entropy_with_logits(x, t),
                ),
            ]
        cs += _floors(numel, 2, device, leaves)
        targets = {BCE_FLOOR: ELEMENTWISE, "F.binary_cross_entropy_with_logits": Target(1.05)}
        return Built(cs, leaves, [x, t], targets)

    return build


# ---- ctc -----------------------------------------------------------------------------------


def _ctc(quick: bool, device: torch.device) -> Built:
    t_len, n, c, s = 200, (8 if quick else 32), 40, 20
    g = _gen()
    lp = torch.randn(t_len, n, c, generator=g).log_softmax(-1).to(device).requires_grad_()
    targets = torch.randint(1, c, (n, s), generator=g).to(device)
    il = torch.randint(160, t_len + 1, (n,), generator=g).to(device)
    tl = torch.randint(10, s + 1, (n,), generator=g).to(device)
    cs = [
        Contender("ctc_loss", "losskit", lambda: lk.ctc_loss(lp, targets, il, tl)),
        Contender(
            "ctc_loss (validate=False)",
            "losskit",
            lambda: lk.ctc_loss(lp, targets, il, tl, validate=False),
        ),
        Contender("F.ctc_loss", "peer", lambda: F.ctc_loss(lp, targets, il, tl)),
    ]
    return Built(cs, [lp], [lp, targets, il, tl], {"F.ctc_loss": Target(time=1.05)})


# ---- dice ----------------------------------------------------------------------------------


def _dice(mode: str) -> Callable[[bool, torch.device], Built]:
    def build(quick: bool, device: torch.device) -> Built:
        n = 2 if quick else 16
        shape = (n, 1, 256, 256) if mode == "binary" else (n, 4, 128, 128)
        g = _gen()
        x = torch.randn(shape, generator=g).to(device).requires_grad_()
        notes: list[str] = []
        monai = _peer("monai.losses", notes)
        cs: list[Contender]
        if mode == "multiclass":
            labels = torch.randint(0, shape[1], (n, *shape[2:]), generator=g).to(device)
            labels1 = labels.unsqueeze(1)
            inputs = [x, labels, labels1]
            cs = [
                Contender(
                    "dice_loss",
                    "losskit",
                    lambda: lk.dice_loss(
                        x, labels, mode="multiclass", from_logits=True, smooth=1e-5, eps=0.0
                    ),
                )
            ]
            if monai is not None:
                m = monai.DiceLoss(softmax=True, to_onehot_y=True)
                cs.append(Contender("MONAI DiceLoss", "peer", lambda: m(x, labels1)))
            kornia = _peer("kornia.losses", notes)
            if kornia is not None:
                cs.append(
                    Contender("kornia dice_loss", "peer", lambda: kornia.dice_loss(x, labels))
                )
        else:
            t = (torch.rand(shape, generator=g) > 0.7).float().to(device)
            inputs = [x, t]
            cs = [
                Contender(
                    "dice_loss",
                    "losskit",
                    lambda: lk.dice_loss(x, t, mode=mode, from_logits=True, smooth=1e-5, eps=0.0),
                )
            ]
            if monai is not None:
                m = monai.DiceLoss(sigmoid=True)
                cs.append(Contender("MONAI DiceLoss", "peer", lambda: m(x, t)))
        return Built(cs, [x], inputs, {"MONAI DiceLoss": Target(time=0.67)}, notes)

    return build


# ---- divergence ----------------------------------------------------------------------------


def _kl(quick: bool, device: torch.device) -> Built:
    n, c = (512, 1000) if quick else (4096, 1000)
    g = _gen()
    logits = torch.randn(n, c, generator=g).to(device).requires_grad_()
    p = torch.softmax(torch.randn(n, c, generator=g), 1).to(device)
    leaves = [logits]
    cs = [
        Contender("kl_divergence", "losskit", lambda: lk.kl_divergence(logits, p)),
        Contender(
            "F.kl_div(log_softmax)",
            "peer",
            lambda: F.kl_div(F.log_softmax(logits, 1), p, reduction="batchmean"),
        ),
    ]
    cs += _floors(n * c, 2, device, leaves)
    targets = {"F.kl_div(log_softmax)": Target(time=1.1), BCE_FLOOR: ELEMENTWISE}
    return Built(cs, leaves, [logits, p], targets)


# ---- edit distance -------------------------------------------------------------------------


def _edit(quick: bool, device: torch.device) -> Built:
    pairs, length = (1000, 64) if quick else (10_000, 64)
    g = _gen()
    hyp = torch.randint(0, 26, (pairs, length), generator=g)
    ref = torch.randint(0, 26, (pairs, length), generator=g)
    hyp_text = ["".join(chr(97 + c) for c in row) for row in hyp.tolist()]
    ref_text = ["".join(chr(97 + c) for c in row) for row in ref.tolist()]
    hyp, ref = hyp.to(device), ref.to(device)
    notes: list[str] = []
    cs = [
        Contender(
            "edit_distance",
            "losskit",
            lambda: lk.edit_distance(hyp, ref, normalize=False),
            items=pairs,
            backward=False,
        )
    ]
    targets = {}
    lev = _peer("rapidfuzz.distance", notes)
    if lev is not None:
        dist = lev.Levenshtein.distance

        def rapidfuzz_tensors() -> object:
            # over the same tensors: their rows as lists of ints, converted in the timing
            rows = zip(hyp.tolist(), ref.tolist(), strict=True)
            return torch.tensor([dist(a, b) for a, b in rows])

        cs.append(Contender("rapidfuzz loop", "peer", rapidfuzz_tensors, pairs, False))
        cs.append(
            Contender(
                "rapidfuzz loop (prepared strings)",
                "peer",
                lambda: [dist(a, b) for a, b in zip(hyp_text, ref_text, strict=True)],
                items=pairs,
                backward=False,
            )
        )
        targets["rapidfuzz loop"] = Target(time=1.0)
    tm = _peer("torchmetrics.text", notes)
    if tm is not None:
        sub = 20 if quick else 200

        def torchmetrics() -> object:
            metric = tm.EditDistance(reduction="none")
            metric.update(hyp_text[:sub], ref_text[:sub])
            return metric.compute()

        cs.append(Contender("torchmetrics EditDistance", "peer", torchmetrics, sub, False))
        targets["torchmetrics EditDistance"] = Target(time=1 / 50)
    return Built(cs, [], [hyp, ref], targets, notes)


# ---- hinge ---------------------------------------------------------------------------------


def _hinge(squared: bool) -> Callable[[bool, torch.device], Built]:
    def build(quick: bool, device: torch.device) -> Built:
        numel = 1 << (18 if quick else 22)
        g = _gen()
        x = torch.randn(numel // 64, 64, generator=g).to(device).requires_grad_()
        y = torch.randint(0, 2, (numel // 64, 64), generator=g).float().to(device)
        leaves = [x]
        notes: list[str] = []
        ours = lk.squared_hinge_loss if squared else lk.hinge_loss
        cs = [Contender(ours.__name__, "losskit", lambda: ours(x, y))]
        kl = _peer("keras.losses", notes)
        if kl is not None:
            theirs = kl.squared_hinge if squared else kl.hinge
            cs.append(Contender(f"keras {theirs.__name__}", "peer", lambda: theirs(y, x).mean()))
        cs += _floors(numel, 2, device, leaves)
        return Built(cs, leaves, [x, y], {BCE_FLOOR: ELEMENTWISE}, notes)

    return build


# ---- margin --------------------------------------------------------------------------------


def _margin(kind: str) -> Callable[[bool, torch.device], Built]:
    def build(quick: bool, device: torch.device) -> Built:
        n, d, c = (128, 128, 500) if quick else (1024, 256, 4000)
        g = _gen()
        x = torch.randn(n, d, generator=g).to(device).requires_grad_()
        y = torch.randint(0, c, (n,), generator=g).to(device)
        w = (torch.randn(c, d, generator=g) / math.sqrt(d)).to(device).requires_grad_()
        notes: list[str] = []
        if kind == "arcface":
            cs = [
                Contender(
                    "arcface_loss",
                    "losskit",
                    lambda: lk.arcface_loss(x, y, w, scale=64.0, margin=math.radians(28.6)),
                )
            ]
        else:
            cs = [
                Contender(
                    "cosface_loss",
                    "losskit",
                    lambda: lk.cosface_loss(x, y, w, scale=64.0, margin=0.35),
                )
            ]
        pml = _peer("pytorch_metric_learning.losses", notes)
        if pml is not None:
            cls = pml.ArcFaceLoss if kind == "arcface" else pml.CosFaceLoss
            margin = 28.6 if kind == "arcface" else 0.35
            ref = cls(num_classes=c, embedding_size=d, margin=margin, scale=64).to(device)
            ref.W.data = w.detach().T.clone()
            cs.append(
                Contender(f"pytorch-metric-learning {cls.__name__}", "peer", lambda: ref(x, y))
            )
            leaves = [x, w, ref.W]
        else:
            leaves = [x, w]
        cs.append(
            Contender(
                "F.cross_entropy(F.linear) floor",
                "floor",
                lambda: F.cross_entropy(F.linear(x, w), y),
            )
        )
        return Built(cs, leaves, [x, y, w], {}, notes)

    return build


# ---- regression ----------------------------------------------------------------------------


def _regression(name: str) -> Callable[[bool, torch.device], Built]:
    def build(quick: bool, device: torch.device) -> Built:
        numel = 1 << (18 if quick else 22)
        g = _gen()
        x = torch.randn(numel // 64, 64, generator=g).to(device).requires_grad_()
        y = torch.randn(numel // 64, 64, generator=g).to(device)
        leaves = [x]
        notes: list[str] = []
        ours = {"huber": lk.huber_loss, "log_cosh": lk.log_cosh_loss, "mse": lk.mse_loss}[name]
        cs = [Contender(ours.__name__, "losskit", lambda: ours(x, y))]
        targets = {BCE_FLOOR: ELEMENTWISE}
        torch_twin: Any = {
            "huber": F.huber_loss,
            "mse": F.mse_loss,
        }.get(name)
        if torch_twin is not None:
            twin = torch_twin
            cs.append(Contender(f"F.{twin.__name__}", "peer", lambda: twin(x, y)))
        kl = _peer("keras.losses", notes)
        if kl is not None:
            theirs = {"huber": kl.huber, "log_cosh": kl.log_cosh, "mse": kl.mean_squared_error}[
                name
            ]
            cs.append(Contender(f"keras {theirs.__name__}", "peer", lambda: theirs(y, x).mean()))
        cs += _floors(numel, 2, device, leaves)
        return Built(cs, leaves, [x, y], targets, notes)

    return build


CASES: tuple[Case, ...] = (
    Case("focal", "sigmoid_focal_loss", "2^22", "2^18", _focal),
    *(
        Case("boxes", loss, "2^20 box pairs", "2^16 box pairs", _box_case(name))
        for name, loss in (
            ("iou", "iou_loss"),
            ("giou", "generalized_box_iou_loss"),
            ("diou", "distance_box_iou_loss"),
            ("ciou", "complete_box_iou_loss"),
        )
    ),
    Case("cross_entropy", "sparse_softmax_cross_entropy", "4096x1000", "512x1000", _sparse_ce),
    Case("cross_entropy", "sigmoid_cross_entropy", "2^22", "2^18", _sigmoid_ce(False)),
    Case("cross_entropy", "balanced_sigmoid_cross_entropy", "2^22", "2^18", _sigmoid_ce(True)),
    Case("ctc", "ctc_loss", "T200 N32 C40 S20", "T200 N8 C40 S20", _ctc),
    Case("dice", "dice_loss multilabel", "16x4x128x128", "2x4x128x128", _dice("multilabel")),
    Case("dice", "dice_loss multiclass", "16x4x128x128", "2x4x128x128", _dice("multiclass")),
    Case("dice", "dice_loss binary", "16x1x256x256", "2x1x256x256", _dice("binary")),
    Case("divergence", "kl_divergence", "4096x1000", "512x1000", _kl),
    Case("edit_distance", "edit_distance", "10000x64", "1000x64", _edit),
    Case("hinge", "hinge_loss", "2^22", "2^18", _hinge(False)),
    Case("hinge", "squared_hinge_loss", "2^22", "2^18", _hinge(True)),
    Case(
        "margin",
        "arcface_loss",
        "1024x256, 4000 classes",
        "128x128, 500 classes",
        _margin("arcface"),
    ),
    Case(
        "margin",
        "cosface_loss",
        "1024x256, 4000 classes",
        "128x128, 500 classes",
        _margin("cosface"),
    ),
    Case("regression", "huber_loss", "2^22", "2^18", _regression("huber")),
    Case("regression", "log_cosh_loss", "2^22", "2^18", _regression("log_cosh")),
    Case("regression", "mse_loss", "2^22", "2^18", _regression("mse")),
)

FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(case.family for case in CASES))
