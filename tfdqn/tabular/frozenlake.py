"""FrozenLake pictures for tabular Q-learning: the greedy policy drawn over the map, and a GIF of one
greedy episode; and the exact check of a saved DQN (`check_q_network`). Files are written atomically;
nothing here touches pyplot's global state.

(This module steps FrozenLake directly, with a policy given per state, not per observation batch.)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.patheffects as pe
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from PIL import Image, ImageDraw, ImageFont

from tfdqn.envs.make import has_display
from tfdqn.envs.spaces import check_model_fits
from tfdqn.fileio import atomic_write
from tfdqn.tabular.dp import compare_with_optimum
from tfdqn.tabular.mdp import ACTION_NAMES, discrete_size, make_frozenlake

# (dx, dy) of each action in image coordinates (y grows downwards): left, down, right, up.
_ARROWS = ((-1.0, 0.0), (0.0, 1.0), (1.0, 0.0), (0.0, -1.0))


def _desc(desc: Any) -> np.ndarray:
    """The map as a 2-D array of one-character strings ("S", "F", "H", "G")."""
    desc = np.asarray(desc)
    if desc.dtype.kind == "S":
        desc = np.char.decode(desc, "ascii")
    if desc.ndim == 1:  # a list of row strings
        desc = np.array([list(row) for row in desc])
    return desc


def policy_grid(policy: Sequence[int] | np.ndarray, desc: Any) -> list[str]:
    """The policy as rows of letters, one per cell: L/D/R/U for the action, H and G for holes and goal."""
    desc = _desc(desc)
    letters = np.array([ACTION_NAMES[a][0].upper() for a in np.asarray(policy)]).reshape(desc.shape)
    letters = np.where(np.isin(desc, ("H", "G")), desc, letters)
    return ["".join(row) for row in letters]


def plot_policy(
    q_table: np.ndarray,
    desc: Any,
    path: str | os.PathLike,
    title: str | None = None,
    reference: np.ndarray | None = None,
    reference_title: str = "value iteration (optimal)",
) -> Path:
    """Draw the map with the greedy action of `q_table` as an arrow in each cell and the state value
    `max_a Q(s, a)` as colour; holes (H) and the goal (G) are marked, the start labelled S.

    With `reference` (e.g. value iteration's Q*), a second panel shows its greedy policy, and arrows of
    the first panel that are not among the reference's best actions are drawn in red. Writes a PNG.
    """
    desc = _desc(desc)
    nrow, ncol = desc.shape
    q_table = np.asarray(q_table, dtype=float)
    if q_table.shape[0] != nrow * ncol:
        raise ValueError(f"q_table has {q_table.shape[0]} states but the map has {nrow * ncol} cells")
    panels = [(q_table, title or "learned Q-table")]
    best_ref = None
    if reference is not None:
        reference = np.asarray(reference, dtype=float)
        panels.append((reference, reference_title))
        best_ref = reference >= reference.max(axis=1, keepdims=True) - 1e-9
    vmax = max(1e-9, max(float(q.max()) for q, _ in panels))
    cell = 0.75 if nrow <= 4 else 0.6
    figure = Figure(figsize=(len(panels) * ncol * cell + 1.2, nrow * cell + 0.9))
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    images = []
    for ax, (q, panel_title) in zip(axes, panels):
        images.append(_draw_panel(ax, q, desc, vmax, best_ref if q is q_table else None))
        ax.set_title(panel_title, fontsize=10)
    colorbar = figure.colorbar(images[-1], ax=list(axes), fraction=0.046 / len(panels), pad=0.02)
    colorbar.set_label("state value  max$_a$ Q(s, a)")
    if best_ref is not None:
        live = ~np.isin(desc.ravel(), ("H", "G"))
        greedy = np.argmax(q_table, axis=1)
        wrong = int(sum(1 for s in np.flatnonzero(live) if not best_ref[s, greedy[s]]))
        note = (
            "every greedy action is one of value iteration's best"
            if wrong == 0
            else f"red: {wrong} state{'s' if wrong > 1 else ''} where the greedy action is not one of "
            "value iteration's best"
        )
        axes[0].set_xlabel(note, fontsize=7, color="black" if wrong == 0 else "red")
    return atomic_write(path, lambda tmp: figure.savefig(tmp, dpi=110, bbox_inches="tight"))


def _draw_panel(ax: Axes, q: np.ndarray, desc: np.ndarray, vmax: float, best_ref: np.ndarray | None) -> AxesImage:
    """One panel: state values as colour, the greedy action as an arrow (red where `best_ref` disagrees)."""
    nrow, ncol = desc.shape
    values = q.max(axis=1).reshape(nrow, ncol)
    terminal = np.isin(desc, ("H", "G"))
    image = ax.imshow(np.where(terminal, np.nan, values), cmap="viridis", vmin=0.0, vmax=vmax)
    policy = np.argmax(q, axis=1)
    big = nrow <= 4
    for r in range(nrow):
        for c in range(ncol):
            s, letter = r * ncol + c, desc[r, c]
            if letter == "H":
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color="#1b2a3a"))
                ax.text(
                    c, r, "H", ha="center", va="center", color="#9ecae1", fontsize=12 if big else 9, fontweight="bold"
                )
                continue
            if letter == "G":
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color="gold"))
                ax.text(
                    c, r, "G", ha="center", va="center", color="black", fontsize=12 if big else 9, fontweight="bold"
                )
                continue
            dx, dy = _ARROWS[policy[s]]
            wrong = best_ref is not None and not best_ref[s, policy[s]]
            color = "red" if wrong else "white"
            length = 0.3
            ax.annotate(
                "",
                xy=(c + dx * length, r + dy * length - 0.08),
                xytext=(c - dx * length, r - dy * length - 0.08),
                arrowprops=dict(
                    arrowstyle="-|>",
                    color=color,
                    lw=2.2 if big else 1.6,
                    mutation_scale=14 if big else 10,
                    path_effects=[pe.withStroke(linewidth=4, foreground="black")],
                ),
            )
            ink = "black" if values[r, c] > 0.55 * vmax else "white"  # readable on viridis
            ax.text(c, r + 0.33, f"{values[r, c]:.2f}", ha="center", va="center", color=ink, fontsize=7 if big else 5.5)
            if letter == "S":
                ax.text(
                    c - 0.44, r - 0.44, "S", ha="left", va="top", color=ink, fontsize=8 if big else 6, fontweight="bold"
                )
    ax.set_xticks(np.arange(-0.5, ncol, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, nrow, 1), minor=True)
    ax.grid(which="minor", color="black", linewidth=0.6)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_xlim(-0.5, ncol - 0.5)
    ax.set_ylim(nrow - 0.5, -0.5)
    return image


def record_episode_gif(
    policy: Sequence[int] | np.ndarray,
    map_name: str,
    is_slippery: bool,
    path: str | os.PathLike,
    seed: int = 0,
    fps: float = 4.0,
    max_side: int = 256,
) -> dict[str, Any]:
    """Render one episode of the deterministic `policy` (an action per state) on FrozenLake into a GIF.

    Each frame has a caption (step, action; the outcome on the last). Frames are scaled down to at most
    `max_side` pixels. Returns `{"return", "length", "success", "terminated", "truncated"}`.
    """
    if not has_display():  # rgb_array needs no window; stop SDL complaining that it has none
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    policy = np.asarray(policy)
    env = make_frozenlake(map_name, is_slippery, render_mode="rgb_array")
    frames: list[Image.Image] = []
    try:
        font = ImageFont.load_default(size=11)
    except (TypeError, OSError):  # older Pillow, or no FreeType: the small bitmap font
        font = ImageFont.load_default()

    def grab(caption: str) -> None:
        frame = Image.fromarray(np.asarray(env.render()))
        scale = min(1.0, max_side / max(frame.size))
        if scale < 1.0:
            frame = frame.resize((round(frame.width * scale), round(frame.height * scale)), Image.Resampling.NEAREST)
        canvas = Image.new("RGB", (frame.width, frame.height + 18), "white")
        canvas.paste(frame, (0, 0))
        ImageDraw.Draw(canvas).text((4, frame.height + 3), caption, fill="black", font=font)
        frames.append(canvas)

    total, t, terminated, truncated = 0.0, 0, False, False
    try:
        state, _ = env.reset(seed=seed)
        grab("step 0")
        while not (terminated or truncated):
            action = int(policy[state])
            state, step_reward, terminated, truncated, _ = env.step(action)
            reward = float(step_reward)
            total += reward
            t += 1
            if terminated:
                outcome = "reached the goal" if reward > 0 else "fell into a hole"
            elif truncated:
                outcome = "time limit"
            else:
                outcome = ""
            grab(f"step {t}: action {ACTION_NAMES[action]}" + (f" - {outcome}" if outcome else ""))
    finally:
        env.close()
    duration = [round(1000 / fps)] * len(frames)
    duration[-1] = 2000  # hold the outcome
    atomic_write(
        Path(path),
        lambda tmp: frames[0].save(
            tmp, format="GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0
        ),
    )
    return {
        "return": total,
        "length": t,
        "success": bool(terminated and total > 0),
        "terminated": bool(terminated),
        "truncated": bool(truncated),
    }


def q_table_of(model: Any, n_states: int) -> np.ndarray:
    """The Q-network's values for every FrozenLake state, shape (n_states, 4): it takes the raw state
    integers (its one-hot encoding is inside it)."""
    return np.asarray(
        model(np.arange(n_states)[:, None] if len(model.inputs[0].shape) == 2 else np.arange(n_states)), dtype=float
    )


def check_q_network(
    path: str | os.PathLike, map_name: str = "4x4", is_slippery: bool = True, gamma: float = 0.99
) -> dict[str, Any]:
    """`tfdqn.tabular.dp.compare_with_optimum` for a saved `.keras` Q-network: the exact success probability of
    its greedy policy within the time limit, beside value iteration's at `gamma` (and the Q-errors)."""
    # Imported here: it loads TensorFlow (~3 s), which tabular Q-learning and `tfdqn frozenlake` never need.
    from tfdqn.networks.export import load_q_network

    env = make_frozenlake(map_name, is_slippery)
    try:
        model = load_q_network(path, n_actions=discrete_size(env.action_space))
        check_model_fits(model, env.observation_space, f"model file {str(path)!r}")
        return compare_with_optimum(q_table_of(model, discrete_size(env.observation_space)), env, gamma)
    finally:
        env.close()
