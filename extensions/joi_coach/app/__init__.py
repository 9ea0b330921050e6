"""The standalone Joi app: the command line (``joi-coach``) and the Gradio page it serves."""
