r"""A toy CTC task: a small convolutional model learns to transcribe synthetic sequences.

Each sample is a random string of 2 to 5 characters over a 6-letter alphabet. Every character
becomes 1 to 3 frames of its (random, fixed) 8-dimensional prototype, followed by one gap frame
(the zero vector), all with Gaussian noise: so the frames are unaligned and runs have unknown
length, the setting CTC was made for. The model (two 1-D convolutions, receptive field of 5
frames) outputs log-probabilities over blank + 6 letters per frame and is trained with
:func:`losskit.ctc_loss` on fresh random batches. Every few steps the held-out batch is decoded
greedily (:func:`losskit.ctc_greedy_decode`) and scored with :func:`losskit.edit_distance`: the
character error rate (edits over truth characters) falls as the loss does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Generator, Tensor, nn

from ..functional import ctc_greedy_decode, ctc_loss, edit_distance

__all__ = ["ALPHABET", "CTCToyResult", "ctc_batch", "ctc_toy"]

ALPHABET = "abcdef"
"""The letters of the toy task (class ``i + 1`` is ``ALPHABET[i]``; class 0 is the blank)."""

_DIM = 8
_NOISE = 0.5


@dataclass(frozen=True)
class CTCToyResult:
    """Training curves of :func:`ctc_toy`.

    Attributes:
        losses: the training loss at every step.
        eval_steps: steps at which the held-out batch was decoded.
        cer: character error rate of the held-out batch at each of ``eval_steps``.
        examples: ``(truth, decoded)`` strings of a few held-out samples after training.
    """

    losses: tuple[float, ...]
    eval_steps: tuple[int, ...]
    cer: tuple[float, ...]
    examples: tuple[tuple[str, str], ...]


def _prototypes() -> Tensor:
    return torch.randn(len(ALPHABET) + 1, _DIM, generator=Generator().manual_seed(1234)) * 1.5


def ctc_batch(
    batch: int, generator: Generator, prototypes: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """A random batch: ``(frames (T, N, 8), targets (N, 5), input_lengths, target_lengths)``.

    Targets are padded with 0 after their length; frames past an input length are zero.

    Example:
        >>> x, y, il, tl = ctc_batch(4, torch.Generator().manual_seed(0))
        >>> x.shape[1:], y.shape, bool((il >= 2 * tl).all())
        (torch.Size([4, 8]), torch.Size([4, 5]), True)
    """
    protos = _prototypes() if prototypes is None else prototypes
    tl = torch.randint(2, 6, (batch,), generator=generator)
    targets = torch.randint(1, len(ALPHABET) + 1, (batch, 5), generator=generator)
    targets = torch.where(torch.arange(5) < tl[:, None], targets, 0)
    runs = torch.randint(1, 4, (batch, 5), generator=generator)
    seqs = []
    for n in range(batch):
        frames = []
        for i in range(int(tl[n])):
            frames += [int(targets[n, i])] * int(runs[n, i]) + [0]
        seqs.append(torch.tensor(frames))
    il = torch.tensor([len(s) for s in seqs])
    t_max = int(il.max())
    ids = torch.zeros(t_max, batch, dtype=torch.long)
    for n, s in enumerate(seqs):
        ids[: len(s), n] = s
    x = protos[ids] + _NOISE * torch.randn(t_max, batch, _DIM, generator=generator)
    x = x * (torch.arange(t_max)[:, None] < il).unsqueeze(-1)
    return x, targets, il, tl


def _decode_text(seq: Tensor, length: int) -> str:
    return "".join(ALPHABET[int(c) - 1] for c in seq[:length])


def ctc_toy(
    *,
    steps: int = 200,
    batch: int = 32,
    eval_every: int = 10,
    lr: float = 3e-3,
    seed: int = 0,
    progress: Callable[[int], object] | None = None,
) -> CTCToyResult:
    """Train the toy model (see the module docstring) and record loss and CER.

    Example:
        >>> r = ctc_toy(steps=20, eval_every=10)
        >>> len(r.losses), r.eval_steps
        (20, (0, 10, 20))
    """
    torch.manual_seed(seed)
    gen = Generator().manual_seed(seed)
    protos = _prototypes()
    model = nn.Sequential(
        nn.Conv1d(_DIM, 48, 3, padding=1),
        nn.ReLU(),
        nn.Conv1d(48, 48, 3, padding=1),
        nn.ReLU(),
        nn.Conv1d(48, len(ALPHABET) + 1, 1),
    )

    def log_probs(x: Tensor) -> Tensor:  # (T, N, D) -> (T, N, C)
        return model(x.permute(1, 2, 0)).permute(2, 0, 1).log_softmax(-1)

    held = ctc_batch(128, Generator().manual_seed(seed + 1), protos)

    def cer() -> float:
        with torch.no_grad():
            x, y, il, tl = held
            out = ctc_greedy_decode(log_probs(x), il)
            edits = edit_distance(
                out.sequences.clamp_min(0),
                y,
                hypothesis_lengths=out.lengths,
                truth_lengths=tl,
                normalize=False,
            )
            return float(edits.sum() / tl.sum())

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses: list[float] = []
    eval_steps, rates = [0], [cer()]
    for step in range(1, steps + 1):
        x, y, il, tl = ctc_batch(batch, gen, protos)
        loss = ctc_loss(log_probs(x), y, il, tl)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if step % eval_every == 0 or step == steps:
            eval_steps.append(step)
            rates.append(cer())
        if progress is not None:
            progress(1)
    with torch.no_grad():
        x, y, il, tl = held
        out = ctc_greedy_decode(log_probs(x), il)
    examples = tuple(
        (_decode_text(y[n], int(tl[n])), _decode_text(out.sequences[n], int(out.lengths[n])))
        for n in range(5)
    )
    return CTCToyResult(tuple(losses), tuple(eval_steps), tuple(rates), examples)
