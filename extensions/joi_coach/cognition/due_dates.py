"""A due time from the words a person used ("on Sunday", "tomorrow", "by the 20th").

Only words the person wrote are read, and only common English forms are understood: what is
not understood gives no due time at all, never a guessed one. A day means its end (23:59 UTC,
the time the rest of Joi's dates are shown in).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["resolve_due"]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "ten": 10,
}
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"


def _end_of(day: datetime) -> float:
    return day.replace(hour=23, minute=59, second=0, microsecond=0).timestamp()


def _month_day(today: datetime, month: int, day: int) -> datetime | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = today.replace(year=year, month=month, day=day)
        except ValueError:
            return None
        if candidate.date() >= today.date():
            return candidate
    return None


def resolve_due(phrase: str, said_at: float) -> float | None:
    """The end of the day ``phrase`` names, counted from ``said_at``; None when it names none
    (or names a habit: "every morning")."""
    text = " ".join(str(phrase).lower().replace("’", "'").split())
    if not text or re.search(r"\b(?:every|each|daily|weekly|always)\b", text):
        return None
    today = datetime.fromtimestamp(said_at, tz=timezone.utc)
    if re.search(r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b", text):
        return _end_of(today)
    if re.search(r"\bday after tomorrow\b", text):
        return _end_of(today + timedelta(days=2))
    if re.search(r"\btomorrow\b", text):
        return _end_of(today + timedelta(days=1))
    to_sunday = (6 - today.weekday()) % 7
    named_day = next((i for i, name in enumerate(_WEEKDAYS) if re.search(rf"\b{name}s?\b", text)), None)
    if named_day is not None and re.search(r"\bnext week\b", text):  # "friday next week"
        return _end_of(today + timedelta(days=7 - today.weekday() + named_day))
    if re.search(r"\bnext week(?:end)?\b", text):
        return _end_of(today + timedelta(days=to_sunday + 7))
    if re.search(r"\b(?:this week(?:end)?|end of (?:the|this) week|by the weekend|weekend)\b", text):
        return _end_of(today + timedelta(days=to_sunday))
    if match := re.search(r"\bin (\d{1,2}|a|an|one|two|three|four|five|six|seven|ten) (day|week)s?\b", text):
        count = int(match.group(1)) if match.group(1).isdigit() else _NUMBERS[match.group(1)]
        return _end_of(today + timedelta(days=count * (7 if match.group(2) == "week" else 1)))
    for index, name in enumerate(_WEEKDAYS):
        if re.search(rf"\b{name}s?\b", text):
            ahead = (index - today.weekday()) % 7
            if re.search(rf"\bnext {name}", text) and ahead < 7:
                ahead = ahead + 7 if ahead <= 2 else ahead
            return _end_of(today + timedelta(days=ahead))
    for index, name in enumerate(_MONTHS, 1):
        month = rf"{name[:3]}(?:{name[3:]})?"
        match = re.search(rf"\b{month}\.? {_ORDINAL}\b", text) or re.search(
            rf"\b{_ORDINAL} (?:of )?{month}\b", text
        )
        if match:
            day = _month_day(today, index, int(match.group(1)))
            return _end_of(day) if day is not None else None
    if match := re.search(rf"\bthe {_ORDINAL}\b", text):
        day_number = int(match.group(1))
        for months_ahead in (0, 1):
            month_number = (today.month - 1 + months_ahead) % 12 + 1
            year = today.year + (today.month - 1 + months_ahead) // 12
            try:
                candidate = today.replace(year=year, month=month_number, day=day_number)
            except ValueError:
                continue
            if candidate.date() >= today.date():
                return _end_of(candidate)
    return None
