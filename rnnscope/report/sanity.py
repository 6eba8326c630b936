"""Report section ``sanity``: checks for weak attacks, gradient masking and unsound bounds.

Its result is a :class:`rnnscope.robustness.Sanity` of checks with a
:class:`rnnscope.robustness.SanityStatus` (``report.json``: ``robustness.sanity``; the
comparison table's ``sanity`` column is ``"ok"`` or ``"FAIL: name; name"`` in JSON only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnscope.report.sections import Column, ModelContext, Section
from rnnscope.robustness import Sanity, SanityStatus
from rnnscope.settings import ReportSettings

if TYPE_CHECKING:
    from rnnscope.report.document import ModelReport

__all__ = ["SECTION", "SanitySection"]


def _text(sanity: Sanity | None) -> str:
    if sanity is None:
        return "-"
    return "FAIL: " + "; ".join(sanity.failed) if sanity.failed else "ok"


def _terminal(sanity: Sanity | None) -> str:
    if sanity is None:
        return "-"
    return f"FAIL ({len(sanity.failed)})" if sanity.failed else "ok"


def _css(sanity: Sanity | None) -> str:
    if sanity is None:
        return ""
    return "fail" if sanity.status is SanityStatus.FAIL else "pass"


class SanitySection(Section):
    """The sanity checks of :func:`attacks.sanity` on both threat models' results.

    Examples
    --------
    >>> [c.key for c in SanitySection().columns(ReportSettings())]
    ['sanity']
    """

    key = "sanity"
    json_key = "sanity"
    json_parent = "robustness"
    template = "sanity"

    def compute(self, context: ModelContext) -> Sanity | None:
        """Run the checks on the robustness section's results.

        Parameters
        ----------
        context : ModelContext
            The model (``None`` is returned when robustness was not measured).

        Returns
        -------
        rnnscope.robustness.Sanity or None
            The checks.
        """
        from rnnscope.evaluation import sanity_checks

        robustness = context.results.get("robustness")
        if robustness is None:
            return None
        x, y = context.samples
        return sanity_checks(
            context.checkpoint.model,
            x,
            y,
            robustness.norms(),
            bounds=context.bounds,
            settings=context.settings.evaluation(),
            timings=context.timings,
        )

    def view(self, model: ModelReport, result: Sanity | None) -> dict[str, Any] | None:
        """One line per check with its status.

        Parameters
        ----------
        model : ModelReport
            The model.
        result : rnnscope.robustness.Sanity or None
            This section's result.

        Returns
        -------
        dict or None
            ``checks``: ``status`` (pass, fail or skipped), ``name`` and ``detail``.
        """
        if result is None or not result.checks:
            return None
        return {
            "checks": [
                {"status": c.status.value, "name": c.name, "detail": c.detail}
                for c in result.checks
            ]
        }

    def columns(self, settings: ReportSettings) -> list[Column]:
        """Return the ``sanity`` column: failed checks, counted in the terminal.

        Parameters
        ----------
        settings : ReportSettings
            Unused.

        Returns
        -------
        list of Column
            One column.
        """
        return [
            Column(
                "sanity",
                "sanity",
                "failed sanity checks",
                lambda model: model.result("sanity"),
                text=True,
                compact=True,
                group=4,
                to_json=lambda s: None if s is None else s.summary(),
                format=_text,
                terminal_format=_terminal,
                css=_css,
            )
        ]


SECTION = SanitySection()
