"""Deterministic matplotlib figures for the command line and the report.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``, so
no global figure state or backend is touched. SVG output uses a fixed ``svg.hashsalt`` (one per
figure, so element ids stay unique when several figures share an HTML page) and no date, which
makes the same figure byte-identical across runs.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnscope.files import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "FIGURE_SUFFIXES",
    "figure_bytes",
    "inline_svg",
    "new_figure",
    "plain_text",
    "plot_robustness",
    "plot_weight_noise",
    "safe_filename",
    "save_figure",
    "unique_filenames",
]

#: Suffixes accepted by :func:`save_figure`.
FIGURE_SUFFIXES: tuple[str, ...] = (".svg", ".png", ".pdf")

_METADATA = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "png": {},
}


def new_figure(width: float = 5.0, height: float = 4.0) -> tuple[Figure, Axes]:
    """Return a new figure with one axes, outside of ``pyplot``.

    Parameters
    ----------
    width, height : float, optional
        Size in inches.

    Returns
    -------
    (Figure, Axes)
        The figure and its axes.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> len(fig.axes)
    1
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def figure_bytes(fig: Figure, fmt: str = "svg", *, salt: str = "rnnscope") -> bytes:
    """Render `fig` deterministically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    fmt : {"svg", "png", "pdf"}, optional
        Output format.
    salt : str, optional
        ``svg.hashsalt`` used for element ids (use a different salt per figure of a page).

    Returns
    -------
    bytes
        The file content.

    Raises
    ------
    ValueError
        If `fmt` is not supported.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> figure_bytes(fig) == figure_bytes(fig)
    True
    """
    import matplotlib

    if fmt not in _METADATA:
        raise ValueError(f"unsupported figure format {fmt!r}; expected svg, png or pdf")
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        fig.savefig(buffer, format=fmt, metadata=_METADATA[fmt], dpi=100)
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | Path, *, salt: str = "rnnscope") -> Path:
    """Write `fig` atomically to `path`; the format follows the suffix (.svg, .png, .pdf).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or pathlib.Path
        Destination; its folder must exist.
    salt : str, optional
        ``svg.hashsalt``.

    Returns
    -------
    pathlib.Path
        The destination.

    Raises
    ------
    ValueError
        If the suffix is not one of :data:`FIGURE_SUFFIXES`.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = new_figure()
    >>> save_figure(fig, Path(tempfile.mkdtemp()) / "a.svg").suffix
    '.svg'
    """
    dest = Path(path)
    fmt = dest.suffix.lower().lstrip(".")
    return atomic_write_bytes(dest, figure_bytes(fig, fmt, salt=salt))


_SVG_START = re.compile(r"<svg\b")
_SVG_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def inline_svg(fig: Figure, *, salt: str) -> str:
    """Return `fig` as an ``<svg>`` element for inlining in HTML.

    The XML declaration, doctype and RDF metadata block are removed; the rest is matplotlib's
    output unchanged.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    salt : str
        ``svg.hashsalt``; give every figure of a page its own salt so that ids do not collide.

    Returns
    -------
    str
        Markup starting with ``<svg``.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> inline_svg(fig, salt="a").startswith("<svg")
    True
    """
    text = figure_bytes(fig, "svg", salt=salt).decode("utf-8")
    match = _SVG_START.search(text)
    text = text[match.start() :] if match else text
    return _SVG_METADATA.sub("", text).strip()


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """Return `name` reduced to a safe file name component.

    Parameters
    ----------
    name : str
        Any name (a matrix key, a model name from a config).

    Returns
    -------
    str
        Letters, digits, ``.``, ``_`` and ``-`` only, never empty and never starting with a dot.

    Examples
    --------
    >>> safe_filename("rnn.weight_hh_l0"), safe_filename("<script>")
    ('rnn.weight_hh_l0', 'script')
    """
    cleaned = _UNSAFE.sub("_", str(name)).strip("._") or "matrix"
    return cleaned


#: Longest stem of a figure file name; longer ones are cut and marked with a hash.
MAX_STEM = 96


def unique_filenames(names: Iterable[str]) -> dict[str, str]:
    """Map each name to a safe file name stem, distinct for distinct names.

    Parameters
    ----------
    names : iterable of str
        Names (matrix keys), in order; duplicates map to the same stem.

    Returns
    -------
    dict of str to str
        :func:`safe_filename` of each name, cut to :data:`MAX_STEM` characters. When two names
        would share a stem (``"a b"``, ``"a_b"``, ``"a?b"``; or names differing only in case,
        which collide on case-insensitive file systems), or a name had to be cut or changed,
        the stem ends in ``-`` and 8 hex digits of the name's SHA-256, so the mapping is the
        same on every run. A name already safe and unique keeps its stem.

    Examples
    --------
    >>> stems = unique_filenames(["a b", "a_b", "a?b", "W"])
    >>> stems["W"], len(set(stems.values()))
    ('W', 4)
    """
    ordered = list(dict.fromkeys(str(n) for n in names))
    base = {n: safe_filename(n)[:MAX_STEM] for n in ordered}
    counts: dict[str, int] = {}
    for stem in base.values():
        counts[stem.lower()] = counts.get(stem.lower(), 0) + 1
    out: dict[str, str] = {}
    for name in ordered:
        stem = base[name]
        if counts[stem.lower()] > 1 or stem != name:
            digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
            stem = f"{stem}-{digest}"
        out[name] = stem
    return out


def plain_text(text: object) -> str:
    r"""Return a name to show in a figure as plain text, never parsed as mathtext.

    Matplotlib reads text between two ``$`` as mathtext, and a name such as ``$\foo$`` then
    fails to parse; every ``$`` is escaped, and control characters are shown as escapes
    (:func:`rnnscope.safetext.printable`).

    Parameters
    ----------
    text : object
        A name (matrix key, model name).

    Returns
    -------
    str
        Text that matplotlib draws as written.

    Examples
    --------
    >>> plain_text("$\\alpha$")
    '\\$\\alpha\\$'
    """
    from rnnscope.safetext import printable

    return printable(text).replace("$", r"\$")


def _accuracy_axes(ax: Axes, *, xlabel: str, title: str) -> None:
    """Labels, limits and grid shared by the accuracy plots."""
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)


def plot_robustness(
    ax: Axes,
    curves: Mapping[str, tuple[Sequence[float], Sequence[float | None]]],
    *,
    title: str,
    xlabel: str = "epsilon",
    clean: float | None = None,
    bands: Mapping[str, Sequence[Sequence[float] | None]] | None = None,
    clean_band: Sequence[float] | None = None,
) -> Axes:
    """Plot accuracy against perturbation size for several curves, with interval bands.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Target axes.
    curves : mapping of str to (eps, accuracy)
        Label -> x values and accuracies (``None`` entries are skipped).
    title : str
        Axes title.
    xlabel : str, optional
        Label of the x axis.
    clean : float, optional
        Clean accuracy, drawn at ``eps = 0`` of every curve and as a dotted line.
    bands : mapping of str to sequence of (lo, hi), optional
        Label -> a 95 % interval per x value (``None`` entries are skipped), drawn as a shaded
        band around that curve.
    clean_band : (lo, hi), optional
        Interval of the clean accuracy, the band's value at ``eps = 0``.

    Returns
    -------
    matplotlib.axes.Axes
        `ax`.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> _ = plot_robustness(ax, {"pgd": ([0.1, 0.2], [0.5, 0.2])}, title="Linf", clean=0.9,
    ...                     bands={"pgd": [(0.4, 0.6), (0.1, 0.3)]}, clean_band=(0.8, 0.95))
    >>> len(ax.collections)
    1
    """
    markers = "osD^v<>px*"
    bands = bands or {}
    for index, (label, (xs, ys)) in enumerate(curves.items()):
        points = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True) if y is not None]
        if clean is not None:
            points = [(0.0, float(clean)), *points]
        if not points:
            continue
        px, py = zip(*points, strict=True)
        (line,) = ax.plot(px, py, marker=markers[index % len(markers)], label=label, linewidth=1.5)
        if label in bands:
            _band(ax, xs, bands[label], clean_band if clean is not None else None, line)
    if clean is not None:
        ax.axhline(clean, color="0.6", linestyle=":", linewidth=1)
    _accuracy_axes(ax, xlabel=xlabel, title=title)
    if curves:
        ax.legend(fontsize="small")
    return ax


def _band(
    ax: Axes,
    xs: Sequence[float],
    intervals: Sequence[Sequence[float] | None],
    first: Sequence[float] | None,
    line: Any,
) -> None:
    """Shade the intervals of one curve in its colour (``first`` at x = 0 when given)."""
    spans = [(float(x), b) for x, b in zip(xs, intervals, strict=False) if b is not None]
    if first is not None:
        spans = [(0.0, first), *spans]
    if not spans:
        return
    bx = [x for x, _ in spans]
    ax.fill_between(
        bx,
        [float(b[0]) for _, b in spans],
        [float(b[1]) for _, b in spans],
        color=line.get_color(),
        alpha=0.15,
        linewidth=0,
    )


def plot_weight_noise(
    ax: Axes,
    eps: Sequence[float],
    mean: Sequence[float | None],
    std: Sequence[float | None] | None = None,
    *,
    clean: float | None = None,
    bands: Sequence[Sequence[float] | None] | None = None,
) -> Axes:
    r"""Plot accuracy against the relative size of a weight perturbation :math:`W + E`.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Target axes.
    eps : sequence of float
        Relative perturbation sizes :math:`\|E\|_2 / \|W\|_2`.
    mean : sequence of float
        Mean accuracy over the draws.
    std : sequence of float, optional
        Standard deviation over the draws (drawn as error bars).
    clean : float, optional
        Accuracy of the unperturbed model (dotted line).
    bands : sequence of (lo, hi), optional
        A 95 % interval of the mean per size (``None`` entries are skipped), shaded.

    Returns
    -------
    matplotlib.axes.Axes
        `ax`.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> _ = plot_weight_noise(ax, [0.01, 0.1], [0.9, 0.5], [0.01, 0.1], clean=0.92,
    ...                       bands=[(0.85, 0.95), (0.4, 0.6)])
    >>> len(ax.collections) > 0
    True
    """
    xs = np.asarray(eps, dtype=float)
    ys = np.asarray([np.nan if m is None else m for m in mean], dtype=float)
    err = None
    if std is not None:
        err = np.asarray([0.0 if s is None else s for s in std], dtype=float)
    container = ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, linewidth=1.5)
    if bands is not None:
        _band(ax, xs, bands, None, container.lines[0])
    if clean is not None:
        ax.axhline(clean, color="0.6", linestyle=":", linewidth=1, label="clean")
        ax.legend(fontsize="small")
    if np.all(xs > 0) and xs.size > 1:
        from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(xs))
        ax.xaxis.set_major_formatter(lambda value, _: f"{value:g}")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    _accuracy_axes(ax, xlabel=r"relative weight noise $\|E\|_2 / \|W\|_2$", title="weight noise")
    return ax
