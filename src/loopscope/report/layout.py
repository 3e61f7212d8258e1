"""A deterministic force-directed layout for the network picture.

Fruchterman & Reingold (1991), "Graph drawing by force-directed placement", Software: Practice and
Experience 21(11):1129-1164, with a fixed start (parties on a circle in label order) and a fixed
number of cooling steps, so the same ledger always gives the same picture.
"""

from __future__ import annotations

import numpy as np


def force_layout(n: int, edges: list[tuple[int, int, float]], iterations: int = 300, size: float = 1000.0) -> np.ndarray:
    """Positions (n × 2, in ``[0, size]``) for ``n`` nodes joined by weighted ``edges`` (i, j, weight).

    Attraction grows with an edge's weight (log-scaled), repulsion acts between all pairs; the
    temperature falls linearly to zero.  No randomness: the start is a circle.
    """
    if n == 0:
        return np.zeros((0, 2))
    if n == 1:
        return np.full((1, 2), size / 2)
    angle = 2 * np.pi * np.arange(n) / n
    pos = np.column_stack([np.cos(angle), np.sin(angle)])
    k = np.sqrt(9.0 / n)  # ideal distance: roomy enough for labels
    if edges:
        src = np.array([e[0] for e in edges])
        dst = np.array([e[1] for e in edges])
        weight = np.log1p(np.array([max(e[2], 0.0) for e in edges]) / 1e9) + 1.0
        weight = weight / weight.mean()
    temperature = 0.2
    for step in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        distance = np.sqrt((delta**2).sum(-1)) + 1e-9
        np.fill_diagonal(distance, np.inf)
        force = (delta * (k * k / distance**2)[:, :, None]).sum(1)
        if edges:
            d = pos[src] - pos[dst]
            length = np.sqrt((d**2).sum(1)) + 1e-9
            pull = d * (length * weight / k)[:, None]
            np.add.at(force, src, -pull)
            np.add.at(force, dst, pull)
        force -= pos * 0.25  # gravity keeps disconnected parties in view
        length = np.sqrt((force**2).sum(1)) + 1e-12
        pos += force / length[:, None] * np.minimum(length, temperature)[:, None]
        temperature = 0.2 * (1 - (step + 1) / iterations) + 1e-3
    pos -= pos.min(0)
    span = pos.max(0)
    span[span == 0] = 1
    return np.round(pos / span * size, 1)
