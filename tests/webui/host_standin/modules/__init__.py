"""A minimal stand-in for text-generation-webui's ``modules`` package, for Joi's tests.

Only what the joi_coach extension touches, with the host's real signatures and call order
as of text-generation-webui commit 1dcde41d03d1 (May 2026): ``modules/extensions.py``,
``modules/chat.py`` (``chatbot_wrapper``'s hook sequence), ``modules/text_generation.py``
(``generate_reply``, its generation lock and its choice of generation function, an
extension's ``custom_generate_reply`` first), ``modules/reasoning.py``, ``modules/utils.py``
and ``modules/shared.py``. Written for these tests, not copied; the real host is checked by
hand (docs/webui-e2e.md).
"""
