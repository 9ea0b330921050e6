"""The crisis-language detector: catches crises of every kind, stays quiet on everyday speech,
never echoes the message, survives odd input, and meets the dev-set targets."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from joi_coach.safety.detection import PATTERN_NAMES, CrisisDetector, CrisisKind, CrisisSignal

DEV_SET = Path(__file__).resolve().parents[1] / "benchmarks" / "safety" / "crisis-dev.jsonl"
REASON = re.compile(r"^(?:pattern:[a-z_]+|similar:[01]\.\d\d)$")

CRISES: dict[CrisisKind, list[str]] = {
    CrisisKind.SUICIDAL: [
        "it would be a relief to not wake up",
        "I want to kill myself",
        "i'm going to end my life on sunday when the house is empty",
        "i've been stockpiling my sleeping tablets for weeks",
        "I honestly don't want to be alive anymore",
        "everyone would be better off without me",
        "I wish I could go to sleep and never wake up",
        "kms. i mean it this time",
        "thinking about unaliving myself again",
        "sewerslide is all i think about",
        "ready to ctb tonight",
        "I won't be here much longer so please tell my mum I'm sorry",
        "This is my goodbye. Thank you for everything.",
        "I'm standing on the bridge and I keep looking down at the water",
        "Great run this morning, 8k! Also I've decided to kill myself after the wedding.",
    ],
    CrisisKind.SELF_HARM: [
        "i cut myself again last night",
        "I relapsed after 7 months and used a razor on my arm",
        "I burned my wrist with a lighter on purpose",
        "the urge to cut is so strong right now",
        "I've been hurting myself every night this week",
        "Did my stretches and my journaling today. I also scratched my legs till they bled.",
    ],
    CrisisKind.HARM_TO_OTHERS: [
        "I'm going to stab my stepdad when he gets home",
        "I keep having thoughts about hurting my baby",
        "im bringing my dad's gun to school tomorrow to show them",
        "I want to kill my coworker and I've worked out how",
        "I'm scared I'll snap and hurt my kids",
    ],
    CrisisKind.ABUSE_OR_DANGER: [
        "my husband hit me again tonight and I'm scared",
        "my dad said he'd kill me if I tell anyone",
        "he's outside banging on the door and I'm hiding in the bathroom",
        "my boyfriend choked me during a fight yesterday",
        "I don't feel safe at home, he won't let me leave",
    ],
    CrisisKind.MEDICAL_EMERGENCY: [
        "I just took a whole bottle of paracetamol",
        "I think I overdosed on my meds",
        "my dad has crushing chest pain and his left arm is numb",
        "my friend isn't breathing and won't wake up",
        "my toddler swallowed a button battery",
    ],
}

# ("it would be a relief to not wake up" used to be here; a pattern now lists it.)
# Paraphrases no pattern lists: only the embedding signal can catch these.
EMBEDDING_ONLY_CRISES = [
    "nobody will have to worry about me after this weekend",
    "i dread the sound of his key in the door because i never know what he will do",
    "i keep thinking about how i would do it",
]

NOT_CRISES = [
    # figures of speech
    "this deadline is killing me",
    "my phone died halfway through the call",
    "I could murder a pizza right now",
    "my mom is going to kill me when she sees my grades lol",
    "I'm going to kill my brother, he ate my leftovers again haha",
    "leg day absolutely destroyed me",
    "I nearly died of embarrassment at the meeting",
    "i'm so hungry i could die",
    "I killed it at my presentation today",
    "I'm drowning in emails this week",
    "I'd rather die than go to that party lol",
    # titles, research, news, work
    "We watched Suicide Squad last night",
    "I'm reading To Kill a Mockingbird for book club",
    "I'm writing my dissertation on self-harm prevention in schools",
    "The documentary about the overdose crisis was heartbreaking",
    "As a nurse I see overdoses every shift, how do I switch off after work?",
    # recovered past
    "I used to self-harm as a teen, I've been clean for 5 years now",
    "Ten years ago I tried to end my life. Today I'm happy and training for a marathon.",
    "my dad used to hit me when I was a kid, I moved out long ago and I'm doing well",
    # helping in general
    "How do I support a friend who self-harms?",
    "what do I say to a friend who's been feeling suicidal? she's in therapy",
    # sadness, grief, loneliness
    "I feel really sad and lonely since the breakup",
    "my grandma died last month and I miss her so much",
    "I'm exhausted and burnt out at work",
    "I feel like a failure after the exam",
    # everyday accidents and coaching
    "I cut my finger chopping onions",
    "I burned my hand on the oven tray, it's fine",
    "I'm going to end things with my boyfriend",
    "help me plan a 5k training schedule",
    "I want to cut down on sugar this month",
]


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Timing-independent of machine load: two torch threads on a busy 2-core box spin for
    hundreds of milliseconds per call. Restored afterwards."""
    try:
        import torch
    except ImportError:  # patterns-only environments
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def patterns_only() -> CrisisDetector:
    return CrisisDetector()


@pytest.fixture(scope="module")
def with_embedder(embedder) -> CrisisDetector:
    return CrisisDetector(embedder)


@pytest.fixture(params=["patterns", "embedder"])
def detector(request: pytest.FixtureRequest) -> CrisisDetector:
    name = "patterns_only" if request.param == "patterns" else "with_embedder"
    return request.getfixturevalue(name)


@pytest.mark.parametrize(("kind", "text"), [(k, t) for k, texts in CRISES.items() for t in texts])
def test_crises_are_caught_with_their_kind(detector: CrisisDetector, kind: CrisisKind, text: str) -> None:
    signal = detector.check(text)
    assert signal is not None, text
    assert signal.kind is kind, (text, signal)
    assert 0 < signal.score <= 1


@pytest.mark.parametrize("text", NOT_CRISES)
def test_everyday_speech_is_not_a_crisis(detector: CrisisDetector, text: str) -> None:
    assert detector.check(text) is None, text


@pytest.mark.parametrize("text", EMBEDDING_ONLY_CRISES)
def test_the_embedding_catches_paraphrases_the_patterns_miss(
    patterns_only: CrisisDetector, with_embedder: CrisisDetector, text: str
) -> None:
    assert patterns_only.check(text) is None
    signal = with_embedder.check(text)
    assert signal is not None
    assert signal.reason.startswith("similar:")


def test_without_an_embedder_only_patterns_run(patterns_only: CrisisDetector) -> None:
    assert not patterns_only.uses_embeddings


def test_negation_guards_hold(detector: CrisisDetector) -> None:
    for text in ("I would never kill myself", "I'm not suicidal, just tired", "I don't want to die"):
        assert detector.check(text) is None, text
    assert detector.check("I don't want to be alive anymore") is not None


def test_relapse_overrides_past_history(detector: CrisisDetector) -> None:
    assert detector.check("I used to cut when I was younger") is None
    assert detector.check("I used to cut when I was younger and last night I started again") is not None


@pytest.mark.parametrize("text", [t for texts in CRISES.values() for t in texts] + EMBEDDING_ONLY_CRISES)
def test_the_reason_never_contains_the_message(with_embedder: CrisisDetector, text: str) -> None:
    signal = with_embedder.check(text)
    assert signal is not None
    assert REASON.match(signal.reason), signal.reason
    kind, _, detail = signal.reason.partition(":")
    assert detail in PATTERN_NAMES if kind == "pattern" else abs(float(detail) - signal.score) < 0.006
    lowered = text.lower()
    assert not any(lowered[i : i + 12] in signal.reason for i in range(max(1, len(lowered) - 11)))


def test_a_distinctive_message_leaves_no_trace(with_embedder: CrisisDetector) -> None:
    text = "Bartholomew from Zanzibar said he will kill me tonight"
    signal = with_embedder.check(text)
    assert signal is not None
    assert signal.kind is CrisisKind.ABUSE_OR_DANGER
    assert "bartholomew" not in signal.reason.lower() and "zanzibar" not in signal.reason.lower()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  ",
        "\x00\x01\x02\x7f",
        "<script>alert(1)</script><b></b>",
        "a" * 1_000_000,
        ("I had a lovely day. " * 60_000),
        "\ufeff\u200b\u202e",
        "🙂" * 10_000,
    ],
)
def test_odd_input_does_not_crash(detector: CrisisDetector, text: str) -> None:
    result = detector.check(text)
    assert result is None or isinstance(result, CrisisSignal)


@pytest.mark.parametrize(
    "text",
    [
        "I’m going to kill myself",  # curly apostrophe
        "ｉ ｗａｎｔ ｔｏ ｋｉｌｌ ｍｙｓｅｌｆ",  # fullwidth letters (NFKC)
        "i want to ki\u200bll my\u00adself",  # zero-width space, soft hyphen
        "i want to\x07 kill\x1b myself",  # control characters
        "<p>i want to <b>kill</b> myself</p>",  # HTML
        "I want to kill myself &amp; nobody cares",  # HTML entity
        "I WANT TO KILL MYSELF",
        "i wanna diiiie",
    ],
)
def test_normalisation_still_finds_the_crisis(patterns_only: CrisisDetector, text: str) -> None:
    assert patterns_only.check(text) is not None, text


def test_a_crisis_at_the_end_of_a_huge_message_is_found(patterns_only: CrisisDetector) -> None:
    text = "Here are my notes from the week. " * 30_000 + "Anyway, I'm going to kill myself tonight."
    assert patterns_only.check(text) is not None
    html_wrapped = "<div>" * 100_000 + "i want to kill myself" + "</div>" * 1_000
    assert patterns_only.check(html_wrapped) is not None


def test_concurrent_checks_agree_with_sequential_ones(with_embedder: CrisisDetector) -> None:
    texts = [t for texts in CRISES.values() for t in texts] + NOT_CRISES
    expected = [with_embedder.check(t) for t in texts]
    results: dict[int, list[CrisisSignal | None]] = {}

    def work(worker: int) -> None:
        results[worker] = [with_embedder.check(t) for t in texts]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[i] == expected for i in range(4))


def _dev_set() -> list[dict[str, object]]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rates(detector: CrisisDetector, rows: list[dict[str, object]]) -> tuple[float, float]:
    flagged = [detector.check(str(row["text"])) is not None for row in rows]
    crises = [f for f, row in zip(flagged, rows, strict=True) if row["crisis"]]
    others = [f for f, row in zip(flagged, rows, strict=True) if not row["crisis"]]
    return sum(crises) / len(crises), sum(others) / len(others)


def test_dev_set_targets_with_the_embedder(with_embedder: CrisisDetector) -> None:
    recall, false_alarms = _rates(with_embedder, _dev_set())
    assert recall >= 0.95, recall
    assert false_alarms <= 0.05, false_alarms


def test_dev_set_patterns_alone_raise_few_false_alarms(patterns_only: CrisisDetector) -> None:
    recall, false_alarms = _rates(patterns_only, _dev_set())
    assert recall >= 0.90, recall
    assert false_alarms <= 0.05, false_alarms


# Each generalisation fix: a crisis phrased the way people say it, and a near miss that shares its
# words. Both must hold with patterns alone and with the embedder.
GENERALISATION_FIXES = [
    (  # violent imagery about a real person, with the wish or the fear of acting on it
        CrisisKind.HARM_TO_OTHERS,
        "...I keep picturing waiting for Gerald in the car park and really hurting him, and it scares me "
        "how much I want to.",
        "I keep picturing hitting the winning shot in the final and it scares me how much I want it.",
    ),
    (  # "overdosed on" a treat is a figure of speech; on pills it is an emergency
        CrisisKind.MEDICAL_EMERGENCY,
        "I overdosed on my sleeping tablets an hour ago.",
        "I overdosed on birthday cake at my niece's party",
    ),
    (  # pills on top of a lot of alcohol
        CrisisKind.MEDICAL_EMERGENCY,
        "I finished a whole bottle of gin and then swallowed a handful of pills.",
        "I had one glass of wine with dinner and took my usual tablets as prescribed.",
    ),
    (  # crushing chest, arm gone numb
        CrisisKind.MEDICAL_EMERGENCY,
        "My chest feels like something is crushing it and my left arm has gone numb.",
        "My chest hurts from laughing so much at that video.",
    ),
    (  # giving things away "because I won't need them"
        CrisisKind.SUICIDAL,
        "I gave my records and my camera away to my friends, I won't be needing them.",
        "I'm giving my old clothes away to the charity shop before we move.",
    ),
    (  # the wish not to exist, put softly
        CrisisKind.SUICIDAL,
        "It would be so peaceful to just stop existing.",
        "It would be so peaceful to just stay in bed all Sunday.",
    ),
    (  # imagined crash
        CrisisKind.SUICIDAL,
        "On the motorway I keep thinking about just steering into the barrier.",
        "I nearly skidded into the barrier on the ice this morning, so scary.",
    ),
    (  # letters that explain
        CrisisKind.SUICIDAL,
        "I've written a letter to my mum explaining why.",
        "I wrote a letter to my landlord explaining why the rent is late.",
    ),
    (  # coercive control
        CrisisKind.ABUSE_OR_DANGER,
        "My husband tracks my location and took my bank card so I can't leave.",
        "My mum checks my phone because I'm grounded until the weekend.",
    ),
    (  # afraid to go back to the house
        CrisisKind.ABUSE_OR_DANGER,
        "I'm too scared to go back to the flat tonight, he's still there.",
        "I'm scared to go home and tell my parents I failed my driving test lol.",
    ),
    (  # things thrown at the writer
        CrisisKind.ABUSE_OR_DANGER,
        "My boyfriend threw a glass at my face last night.",
        "My brother threw a ball at me during the barbecue.",
    ),
    (  # revenge with a location
        CrisisKind.HARM_TO_OTHERS,
        "I'm going to get back at him, I know where he lives and I have a knife.",
        "I'm going to get back at him for that prank, just wait till April Fools.",
    ),
    (  # fixation on a blade
        CrisisKind.SELF_HARM,
        "I can't stop thinking about the blades in my desk drawer.",
        "I can't stop thinking about the razor I ordered, the reviews say it shaves so close.",
    ),
]


@pytest.mark.parametrize(("kind", "crisis", "near_miss"), GENERALISATION_FIXES)
def test_generalisation_fixes(
    detector: CrisisDetector, kind: CrisisKind, crisis: str, near_miss: str
) -> None:
    signal = detector.check(crisis)
    assert signal is not None and signal.kind is kind, crisis
    assert detector.check(near_miss) is None, near_miss
