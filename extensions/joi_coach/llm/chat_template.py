"""The chat template that renders a conversation into a model's prompt.

``instruction-templates/*.yaml`` hold a Jinja ``instruction_template`` over ``messages``, in
the webui's own format, so the embedded model sees exactly the prompt the host would build.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from jinja2 import Template
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..assets import PersonaError, find_asset, read_yaml
from .base import ChatMessage

DEFAULT_TEMPLATE = "Joi-ChatML"
_jinja = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])


@dataclass(frozen=True)
class InstructionTemplate:
    source: str
    bos_token: str = ""
    eos_token: str = ""

    @classmethod
    def load(cls, name_or_path: str = DEFAULT_TEMPLATE) -> InstructionTemplate:
        path = find_asset("instruction-templates", name_or_path)
        data = read_yaml(path)
        source = data.get("instruction_template")
        if not isinstance(source, str) or "messages" not in source:
            raise PersonaError(f"{path} has no Jinja instruction_template over messages")
        return cls(source=source)

    @cached_property
    def _compiled(self) -> Template:
        return _jinja.from_string(self.source)

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> str:
        return self._compiled.render(
            messages=list(messages),
            add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_token,
            eos_token=self.eos_token,
        )

    def stop_strings(self) -> tuple[str, ...]:
        """Where the template ends a reply (its end-of-turn marker), as the webui finds it:
        what follows a rendered assistant message, up to the end of that line."""
        marker_user, marker_reply = "JOI-USER-MARK", "JOI-REPLY-MARK"
        rendered = self.render(
            [{"role": "user", "content": marker_user}, {"role": "assistant", "content": marker_reply}],
            add_generation_prompt=False,
        )
        after = rendered.split(marker_reply, 1)[1].strip() if marker_reply in rendered else ""
        first = after.split("\n", 1)[0].strip()
        return (first,) if first else ()
