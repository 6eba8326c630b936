"""Report section ``dynamics``: Lyapunov spectrum, gradient flow, fixed points, chain profile.

The network is driven by the same evaluated test sequences as the robustness section (at most
16 of them); the comparison table gets the top Lyapunov exponent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnscope.measures import fmt
from rnnscope.report.sections import Column, ModelContext, Section
from rnnscope.settings import ReportSettings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rnnscope.dynamics import DynamicsResult
    from rnnscope.report.document import ModelReport

__all__ = ["SECTION", "DynamicsSection"]

#: Sequences, exponents and fixed-point starts of the report (kept small: one per model).
SAMPLES, EXPONENTS, STARTS = 16, 10, 64


class DynamicsSection(Section):
    """Dynamics of every rnnscope model with a task (matrices alone have none).

    Examples
    --------
    >>> DynamicsSection().json_key
    'dynamics'
    """

    key = "dynamics"
    json_key = "dynamics"
    template = "dynamics"

    def compute(self, context: ModelContext) -> DynamicsResult | None:
        """Run :func:`rnnscope.dynamics.dynamics_of_model` on the model's test inputs.

        Parameters
        ----------
        context : ModelContext
            The model (``None`` is returned without a model or a task).

        Returns
        -------
        rnnscope.dynamics.DynamicsResult or None
            The result.
        """
        import time

        from rnnscope.dynamics import dynamics_of_model

        model = context.checkpoint.model
        if model is None or not context.checkpoint.task:
            return None
        start = time.perf_counter()
        result = dynamics_of_model(
            model,
            task=context.task,
            lyapunov=EXPONENTS,
            fixed_points=True,
            samples=min(SAMPLES, context.settings.samples),
            starts=STARTS,
            seed=context.settings.seed,
        )
        context.timings["dynamics"] = time.perf_counter() - start
        return result

    def figures(
        self, context: ModelContext, result: DynamicsResult | None
    ) -> list[tuple[str, str, Figure]]:
        """Gradient flow against the powers of W, Lyapunov convergence, fixed points, chains.

        Parameters
        ----------
        context : ModelContext
            The model.
        result : rnnscope.dynamics.DynamicsResult or None
            This section's result.

        Returns
        -------
        list of (str, str, matplotlib.figure.Figure)
            ``gradient-flow``, ``lyapunov``, ``fixed-points``, ``chain-profile``.
        """
        from models.dynamics import plot

        if result is None:
            return []
        objs = result.objects
        out = [
            (
                "gradient-flow",
                "‖∂s_T/∂s_t‖₂ along the test inputs (median and quartiles) and ‖W^k‖₂",
                plot.gradient_flow(objs["gradient_flow"]),
            ),
            (
                "lyapunov",
                "running estimate of the leading Lyapunov exponents (nats per step)",
                plot.lyapunov(objs["lyapunov"]),
            ),
            (
                "fixed-points",
                "fixed points at zero input, first two principal components of the states",
                plot.fixed_points(objs["fixed_points"], trajectories=objs.get("states")),
            ),
        ]
        if "chain_profile" in objs:
            out.append(
                (
                    "chain-profile",
                    "mean W_ij against the order difference of peak activity, shuffled band",
                    plot.chain_profile(objs["chain_profile"]),
                )
            )
        return out

    def to_json(self, result: DynamicsResult | None) -> Any:
        """Return the summary of :func:`rnnscope.dynamics.dynamics_of_model` (or ``None``).

        Parameters
        ----------
        result : rnnscope.dynamics.DynamicsResult or None
            This section's result.

        Returns
        -------
        dict or None
            ``lyapunov``, ``gradient_flow``, ``fixed_points``, ``chain_profile``, ...
        """
        return None if result is None else result.summary

    def view(self, model: ModelReport, result: DynamicsResult | None) -> dict[str, Any] | None:
        """Exponents, gradient flow at a few lags, fixed points and the chain verdict.

        Parameters
        ----------
        model : ModelReport
            The model.
        result : rnnscope.dynamics.DynamicsResult or None
            This section's result.

        Returns
        -------
        dict or None
            ``exponents``, ``flow``, ``fixed_points``, ``points``, ``chain``, ``inputs``.
        """
        if result is None:
            return None
        s = result.summary
        lyap = s["lyapunov"]
        flow = s["gradient_flow"]
        lags = flow["lags"]
        linear = flow.get("linear_log10") or [None] * len(lags)
        picks = sorted({1, 5, 10, 20, 50, len(lags) - 1} & set(range(1, len(lags))))
        fps = s["fixed_points"]
        chain = s["chain_profile"]
        if "skipped" in chain:
            verdict = f"skipped: {chain['skipped']}"
        else:
            outside = [d for d, o in zip(chain["offsets"], chain["outside"], strict=True) if o]
            verdict = (
                ("chain-like" if chain["chain_like"] else "not chain-like")
                + " (offsets outside the shuffled-weights band: "
                + (", ".join(map(str, outside)) or "none")
                + ")"
            )
        return {
            "inputs": f"{s['inputs']['samples']} test sequences of {s['inputs']['steps']} steps",
            "exponents": [
                {"i": i + 1, "value": fmt(e, 4), "stderr": fmt(se, 2)}
                for i, (e, se) in enumerate(zip(lyap["exponents"], lyap["stderr"], strict=True))
            ],
            "flow": [
                {
                    "lag": lags[k],
                    "value": fmt(flow["norm_median_log10"][k], 3),
                    "linear": fmt(linear[k], 3),
                }
                for k in picks
            ],
            "counts": ", ".join(f"{n} {name}" for name, n in fps["counts"].items()),
            "slow": fps["slow_points"],
            "points": [
                {
                    "stability": p["stability"] + ("" if p["converged"] else " (slow)"),
                    "q": fmt(p["q"], 2),
                    "rho": fmt(p["spectral_radius"], 4),
                    "henrici": fmt(p["henrici"], 3),
                    "rho_eps": fmt(p["pseudospectral_radius"], 4),
                    "kreiss": fmt(p["kreiss_lower_bound"], 3),
                }
                for p in fps["points"][:10]
            ],
            "eps": fmt(fps["eps"], 2),
            "chain": verdict,
        }

    def columns(self, settings: ReportSettings) -> list[Column]:
        """Add the top Lyapunov exponent along the test inputs.

        Parameters
        ----------
        settings : ReportSettings
            Unused.

        Returns
        -------
        list of Column
            ``lyapunov_max``.
        """

        def top(model: ModelReport) -> Any:
            result = model.result("dynamics")
            return None if result is None else result.summary["top_exponent"]

        return [
            Column(
                "lyapunov_max",
                "λ₁",
                "top Lyapunov exponent along the test inputs (nats per step, finite time)",
                top,
                compact=False,
                group=2,
            )
        ]


SECTION = DynamicsSection()
