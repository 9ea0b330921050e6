"""Finding a reply's thoughts, as ``modules/reasoning.py``'s ``extract_reasoning`` does for
``<think>`` blocks: a block that opens at the start, or (end-only form) text up to a lone
``</think>``. Without either, there is no reasoning (``None``) and all of it is content."""

# (start tag, end tag, content tag) as the host lists its formats; None: from the beginning.
# Only the ``<think>`` ones here: the formats Joi's replies can take.
THINKING_FORMATS = [("<think>", "</think>", None), (None, "</think>", None)]


def extract_reasoning(text):
    if not text:
        return None, text
    start = text.find("<think>")
    if start == -1:
        stripped = text.strip()
        if stripped and "<think>".startswith(stripped):  # a tag still arriving
            return "", ""
        end = text.find("</think>")
        if end == -1:
            return None, text
        return text[:end], text[end + len("</think>") :].lstrip()
    thought_start = start + len("<think>")
    end = text.find("</think>", thought_start)
    if end == -1:
        return text[thought_start:], ""
    return text[thought_start:end], text[end + len("</think>") :].lstrip()
