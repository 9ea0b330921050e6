"""The shape of Joi's reply, written once: the thoughts' tags and the two voices' labels.

    <think>
    Empathetic voice: Sam is proud and a little unsure.
    Therapist voice: What would help Sam most now is to name what went well.
    </think>
    What Joi says.

The tags are the reasoning tags text-generation-webui renders (and most reasoning models
write); :mod:`.voices` parses replies that deviate from this, loosely.
"""

from __future__ import annotations

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
EMPATHETIC_LABEL = "Empathetic voice"
THERAPIST_LABEL = "Therapist voice"


def labelled_thoughts(empathetic: str, therapeutic: str, separator: str = "\n\n") -> str:
    """The two thoughts under their labels (the ones that have text)."""
    return separator.join(
        f"{label}: {text}"
        for label, text in ((EMPATHETIC_LABEL, empathetic), (THERAPIST_LABEL, therapeutic))
        if text
    )
