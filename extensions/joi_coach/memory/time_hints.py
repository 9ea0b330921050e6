"""The past days a message names ("on April 30th", "yesterday", "three days ago", "last Monday").

Retrieval gives the memories made on a named day a bonus and adds them to the candidates
(:mod:`.retrieval`): "What did we talk about on May 2nd?" has no content word to match, only
the day. Only days in the past are read, and only where the wording points back: a date later
this year than "now" is a plan ("my exam is on May 4"), not a memory, and a bare weekday
counts only with "last" or beside a past-tense verb ("on Friday I'll try" names no memory).
Days run midnight to midnight in the local time zone of the process (the person's own
machine; the recall benchmark runs in UTC, as its cases' times are written).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

__all__ = ["DaySpan", "named_days"]

DaySpan = tuple[float, float]  # [start, end) as Unix times
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NUMBER_WORDS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
}  # fmt: skip
_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
DATE_PATTERNS = (
    re.compile(rf"\b{_MONTH}\s+{_DAY}\b{_YEAR}", re.IGNORECASE),  # May 2nd, May 2, 2023
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?![a-z]){_YEAR}", re.IGNORECASE),  # 2 May, 2nd of May
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),  # 2023-05-02
)
RELATIVE_DAYS = (
    (re.compile(r"\bthe day before yesterday\b", re.IGNORECASE), 2),
    (re.compile(r"\b(?:yesterday|last night)\b", re.IGNORECASE), 1),
)  # not "today": today's talk is in the prompt already, and "I feel tired today" names no memory
DAYS_AGO = re.compile(r"\b(?P<n>\d{1,2}|" + "|".join(NUMBER_WORDS) + r") days? ago\b", re.IGNORECASE)
WEEKDAY = re.compile(
    r"\b(?P<last>last|this past|on)\s+(?P<weekday>" + "|".join(WEEKDAYS) + r")\b", re.IGNORECASE
)
PAST_TENSE = re.compile(
    r"\b(?:did|didn't|was|wasn't|were|weren't|had|went|told|said|talked|spoke|mentioned|asked|"
    r"shared|felt|got|made|saw|met|wrote|ran|tried|happened)\b",
    re.IGNORECASE,
)
MAX_DAYS_AGO = 60


def named_days(text: str, now: float) -> list[DaySpan]:
    """The past days ``text`` names, oldest first, as [start, end) spans of local time; [] for none."""
    today = datetime.fromtimestamp(now).astimezone().date()
    past = PAST_TENSE.search(text) is not None
    days: set[date] = set()
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            day = _calendar_day(match, today, past)
            if day is not None:
                days.add(day)
    for pattern, back in RELATIVE_DAYS:  # longest first: "the day before yesterday" is not "yesterday"
        if pattern.search(text):
            days.add(today - timedelta(days=back))
            text = pattern.sub(" ", text)
    for match in DAYS_AGO.finditer(text):
        word = match["n"].lower()
        back = int(word) if word.isdigit() else NUMBER_WORDS[word]
        if 0 < back <= MAX_DAYS_AGO:
            days.add(today - timedelta(days=back))
    for match in WEEKDAY.finditer(text):
        pointed_back = match["last"].lower() in ("last", "this past")
        if pointed_back or past:
            back = (today.weekday() - WEEKDAYS.index(match["weekday"].lower())) % 7
            days.add(today - timedelta(days=back or (7 if pointed_back else 0)))
    return [_span(day) for day in sorted(days)]


def _calendar_day(match: re.Match[str], today: date, past: bool) -> date | None:
    """The past date a match names (None for none). Without a year: this year's, or, when that
    is still ahead, last year's if the wording points back ("what did I say on December 30th",
    asked in January), else none ("my exam is on May 4" is a plan)."""
    month_text = match["month"]
    month = int(month_text) if month_text.isdigit() else MONTHS[month_text.lower().rstrip(".")]
    try:
        if match["year"]:
            day = date(int(match["year"]), month, int(match["day"]))
            return day if day <= today else None
        day = date(today.year, month, int(match["day"]))
    except ValueError:
        return None
    if day <= today:
        return day
    if not past:
        return None
    try:
        return day.replace(year=today.year - 1)
    except ValueError:  # February 29th
        return None


def _span(day: date) -> DaySpan:
    start = datetime.combine(day, time()).astimezone()
    end = datetime.combine(day + timedelta(days=1), time()).astimezone()
    return start.timestamp(), end.timestamp()
