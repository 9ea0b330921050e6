"""Joi Coach: a private self-improvement coach with Generative-Agents memory.

The engine is host-independent: outside ``ui/``, ``app/`` and ``webui/`` nothing imports
gradio or the host's modules. ``script.py`` in this folder is what text-generation-webui
loads; it forwards each hook to ``webui/``.
"""

__version__ = "0.1.0"
