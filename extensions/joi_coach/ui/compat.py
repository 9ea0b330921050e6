"""Building components that work under the host's gradio 4.37 and the standalone gradio 6.

Only keyword arguments the installed gradio accepts are passed on, so one piece of UI
code serves both; everything else is the API the two versions share.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

import gradio as gr

GRADIO_MAJOR = int(gr.__version__.split(".")[0])


@cache
def _accepted(cls: type) -> frozenset[str]:
    return frozenset(inspect.signature(cls.__init__).parameters)  # type: ignore[misc]  # the class's own


def accepts(cls: type, argument: str) -> bool:
    """Whether this gradio's ``cls`` takes ``argument``."""
    return argument in _accepted(cls)


def make(cls: type, /, **kwargs: Any) -> Any:
    """``cls(**kwargs)`` without the arguments this gradio's ``cls`` does not know."""
    accepted = _accepted(cls)
    return cls(**{k: v for k, v in kwargs.items() if k in accepted})


def listen(event: Any, fn: Any, inputs: Any, outputs: Any, **kwargs: Any) -> Any:
    """Attach ``fn`` to an event, passing only the listener options this gradio knows."""
    accepted = frozenset(inspect.signature(event).parameters)
    return event(fn, inputs, outputs, **{k: v for k, v in kwargs.items() if k in accepted})
