"""Sanad's web UI (Gradio), in four rooms; ``app.py`` at the repository root is its entry point.

=================  ======================================================================  ===========
module             what lives there                                                        imports
=================  ======================================================================  ===========
``render``         the HTML of every panel, pure functions (escaping, direction, badges)   no gradio
``assets``         the page's CSS and the badge-click script                               nothing
``uploads``        the corpus folder: atomic uploads, safe names, undo, removal            no gradio
``handlers``       ``Handlers(sanad)``: the event handlers and the API functions           gradio
``layout``         ``build_app(sanad)``: the Blocks layout and event wiring only           gradio
=================  ======================================================================  ===========

``build_app`` is loaded on first use, so ``import rag.ui.render`` (or ``import rag``) never imports
gradio.

Example:
    >>> from rag import Sanad
    >>> from rag.ui import build_app
    >>> build_app(Sanad()).launch()   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.ui.layout import build_app

__all__ = ["build_app"]


def __getattr__(name: str) -> Any:
    if name == "build_app":
        from rag.ui.layout import build_app

        return build_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
