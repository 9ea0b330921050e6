"""Gradio user interface of Joi (shared by the standalone app and the webui extension)."""
