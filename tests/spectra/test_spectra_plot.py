"""Figures: drawn on a given Axes, returned, with contours, lines and images as promised."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

import spectra
from spectra import plot
from spectra.matrices import chain, random_orthogonal


def _normal_pseudospectrum(eigenvalues: np.ndarray, n: int = 61) -> SimpleNamespace:
    """Exact sigma_min of a normal matrix: the distance to the spectrum."""
    re = np.linspace(-1.6, 1.6, n)
    im = np.linspace(-1.5, 1.5, n - 2)
    z = re[None, :] + 1j * im[:, None]
    sigma = np.min(np.abs(z[..., None] - eigenvalues), axis=-1)
    return SimpleNamespace(re=re, im=im, sigma=sigma, eigenvalues=eigenvalues)


@pytest.fixture
def ax() -> object:
    return Figure().add_subplot()


def test_pseudospectrum_draws_contours_points_and_circle(ax: object) -> None:
    ps = _normal_pseudospectrum(np.array([0.5, -0.5j, 0.2 + 0.3j]))
    backend = matplotlib.get_backend()
    out = plot.pseudospectrum(ps, eps=[1e-2, 1e-1], ax=ax)
    assert out is ax
    assert len(ax.collections) >= 1  # the contour set
    assert len(ax.texts) >= 1  # contour labels
    markers = [line for line in ax.lines if line.get_linestyle() == "None"]
    assert any(len(line.get_xdata()) == 3 for line in markers)  # the eigenvalues
    assert any(line.get_linestyle() == "--" for line in ax.lines)  # the unit circle
    assert matplotlib.get_backend() == backend


def test_pseudospectrum_overlay_and_automatic_levels(ax: object) -> None:
    ps = _normal_pseudospectrum(np.array([0.0j]))
    extra = np.random.default_rng(0).standard_normal(40) * 0.1 + 0j
    plot.pseudospectrum(ps, ax=ax, unit_circle=False, overlay=extra)
    assert len(ax.collections) >= 1
    assert any(len(line.get_xdata()) == 40 for line in ax.lines)
    assert not any(line.get_linestyle() == "--" for line in ax.lines)


def test_pseudospectrum_rejects_bad_input(ax: object) -> None:
    ps = _normal_pseudospectrum(np.array([0.0j]))
    with pytest.raises(ValueError, match="eps"):
        plot.pseudospectrum(ps, eps=[-1.0], ax=ax)
    bad = SimpleNamespace(re=ps.re, im=ps.im, sigma=ps.sigma.T, eigenvalues=ps.eigenvalues)
    with pytest.raises(ValueError, match="shape"):
        plot.pseudospectrum(bad, ax=ax)


def test_pseudospectrum_of_the_package_result(ax: object) -> None:
    pseudospectra = pytest.importorskip("spectra.pseudospectra")
    ps = pseudospectra.pseudospectrum(chain(8, 0.9), n=30)
    assert plot.pseudospectrum(ps, ax=ax) is ax
    assert len(ax.collections) >= 1


def test_schur_heatmap_with_path(ax: object) -> None:
    Q = random_orthogonal(6, seed=0)
    A = Q @ chain(6) @ Q.T
    sf = spectra.schur(A)
    report = spectra.chains(A)
    out = plot.schur(sf, ax=ax, path=report)
    assert out is ax
    assert len(ax.images) == 1
    blank = np.ma.getmaskarray(ax.images[0].get_array())
    assert blank[5, 0] and not blank[0, 5]  # the lower triangle is left blank
    (line,) = ax.lines
    assert list(line.get_xdata()) == list(report.path[1:])
    assert list(line.get_ydata()) == list(report.path[:-1])


def test_schur_single_mode_path_and_errors(ax: object) -> None:
    sf = spectra.schur(np.eye(3))
    plot.schur(sf, ax=ax, path=[0])
    assert len(ax.lines) == 1
    with pytest.raises(ValueError, match="range"):
        plot.schur(sf, ax=Figure().add_subplot(), path=[0, 5])
    with pytest.raises(ValueError, match="square"):
        plot.schur(SimpleNamespace(T=np.ones((2, 3))), ax=ax)


def test_transient_linear_and_log_scale() -> None:
    ax = Figure().add_subplot()
    assert plot.transient([1.0, 1.5, 1.2, 0.9], ax=ax) is ax
    assert ax.get_yscale() == "linear" and len(ax.lines) == 2
    ax = Figure().add_subplot()
    plot.transient(spectra.transient_growth(chain(6, 5.0), 8), ax=ax)
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="1-D"):
        plot.transient(np.ones((2, 2)), ax=ax)


def test_without_axes_uses_pyplot() -> None:
    import matplotlib.pyplot as plt

    ax = plot.transient([1.0, 2.0])
    try:
        assert ax.figure is not None and len(ax.lines) == 2
    finally:
        plt.close(ax.figure)


def test_drawing_on_given_axes_does_not_import_pyplot() -> None:
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from matplotlib.figure import Figure\n"
        "import spectra\n"
        "ax = Figure().add_subplot()\n"
        "spectra.plot.transient([1.0, 2.0], ax=ax)\n"
        "spectra.plot.schur(spectra.schur(np.eye(2)), ax=Figure().add_subplot())\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
