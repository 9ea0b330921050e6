"""Joi's thinking: the three-voice reply format, importance ratings and reflection."""
