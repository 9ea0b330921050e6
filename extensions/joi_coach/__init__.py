"""Joi Coach: a private self-improvement coach with Generative-Agents memory.

The package is the host-independent engine. ``script.py`` in this folder is reserved
for the text-generation-webui adapter; nothing here imports gradio or the host's modules.
"""

__version__ = "0.1.0"
