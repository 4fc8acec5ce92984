"""box_convert against hand-written conversions, and the aligned box_iou against the diagonal of
the pairwise one and hand-derived values."""

from __future__ import annotations

import itertools

import pytest
import torch

import losskit

FORMATS = ("xyxy", "xywh", "cxcywh")


def _boxes(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(*shape, 2, generator=gen, dtype=torch.float64) * 10
    wh = torch.rand(*shape, 2, generator=gen, dtype=torch.float64) * 5 + 0.1
    return torch.cat([xy, xy + wh], dim=-1)


def _from_xyxy(b: torch.Tensor, fmt: str) -> torch.Tensor:
    x1, y1, x2, y2 = b.unbind(-1)
    if fmt == "xyxy":
        return b
    if fmt == "xywh":
        return torch.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(FORMATS, FORMATS)))
def test_box_convert_matches_hand_conversion(src: str, dst: str) -> None:
    xyxy = _boxes((3, 5))
    got = losskit.box_convert(_from_xyxy(xyxy, src), src, dst)
    torch.testing.assert_close(got, _from_xyxy(xyxy, dst))
    back = losskit.box_convert(got, dst, src)
    torch.testing.assert_close(back, _from_xyxy(xyxy, src))


def test_box_convert_known_values_and_dtype() -> None:
    b = torch.tensor([[1.0, 2.0, 5.0, 4.0]], dtype=torch.float16)
    out = losskit.box_convert(b, "xyxy", "cxcywh")
    assert out.dtype == torch.float16
    assert out.tolist() == [[3.0, 3.0, 4.0, 2.0]]
    assert losskit.box_convert(torch.zeros(0, 4), "xywh", "xyxy").shape == (0, 4)


@pytest.mark.parametrize(("src", "dst"), [("xyxy", "cxcywh"), ("xywh", "xyxy"), ("cxcywh", "xywh")])
def test_box_convert_gradcheck(src: str, dst: str) -> None:
    b = _boxes((4,)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: losskit.box_convert(x, src, dst), (b,))


def test_box_convert_errors() -> None:
    with pytest.raises(ValueError, match=r"^box_convert: in_fmt must be one of"):
        losskit.box_convert(torch.zeros(2, 4), "xy", "xyxy")
    with pytest.raises(ValueError, match=r"^box_convert: out_fmt must be one of"):
        losskit.box_convert(torch.zeros(2, 4), "xyxy", "yolo")
    with pytest.raises(ValueError, match=r"^box_convert: boxes must have shape \(\.\.\., 4\)"):
        losskit.box_convert(torch.zeros(2, 5), "xyxy", "xywh")
    with pytest.raises(TypeError, match=r"^box_convert: boxes"):
        losskit.box_convert(torch.zeros(2, 4, dtype=torch.long), "xyxy", "xywh")


@pytest.mark.parametrize("fmt", FORMATS)
def test_aligned_iou_is_the_pairwise_diagonal(fmt: str) -> None:
    a, b = _boxes((7,), 1), _boxes((7,), 2)
    a[0] = b[0]  # one identical pair
    fa, fb = _from_xyxy(a, fmt), _from_xyxy(b, fmt)
    aligned = losskit.box_iou(fa, fb, box_format=fmt, aligned=True)
    pairwise = losskit.box_iou(fa, fb, box_format=fmt)
    assert aligned.shape == (7,)
    torch.testing.assert_close(aligned, pairwise.diagonal())
    torch.testing.assert_close(aligned[0], torch.tensor(1.0, dtype=torch.float64))


def test_aligned_iou_hand_values_and_leading_dims() -> None:
    a = torch.tensor([[[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]]])
    b = torch.tensor([[[1.0, 1.0, 3.0, 3.0], [2.0, 2.0, 3.0, 3.0]]])
    got = losskit.box_iou(a, b, aligned=True, eps=0.0)
    torch.testing.assert_close(got, torch.tensor([[1.0 / 7.0, 0.0]]))
    assert losskit.box_iou(torch.zeros(0, 4), torch.zeros(0, 4), aligned=True).shape == (0,)


def test_aligned_iou_errors_name_box_arguments() -> None:
    with pytest.raises(ValueError, match=r"^box_iou: boxes1 and boxes2 must have the same shape"):
        losskit.box_iou(torch.zeros(2, 4), torch.zeros(3, 4), aligned=True)
    bad = torch.tensor([[2.0, 2.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"^box_iou: boxes1 must hold valid boxes"):
        losskit.box_iou(bad, torch.ones(1, 4), aligned=True)
