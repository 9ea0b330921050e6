"""The memory timeline: always well-formed SVG, every memory drawn, user text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joi_coach.memory.models import Memory, Stream
from joi_coach.ui.timeline import EMPTY_MESSAGE, LANE_LABELS, _ticks, render_timeline_svg

SVG = "{http://www.w3.org/2000/svg}"
T0 = 1_717_000_000.0  # 2024-05-29


def mem(
    id: int,
    stream: Stream = Stream.DIALOGUE,
    *,
    t: float = T0,
    importance: int | None = 5,
    text: str = "hello",
    evidence: tuple[int, ...] = (),
) -> Memory:
    return Memory(
        id=id,
        stream=stream,
        text=text,
        created_at=t,
        last_accessed=t,
        importance=importance,
        evidence=evidence,
        depth=1 if stream is Stream.REFLECTION else 0,
    )


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def circles(root: ET.Element) -> list[ET.Element]:
    return [c for c in root.iter(f"{SVG}circle") if c.get("data-memory-id") is not None]


def by_id(root: ET.Element) -> dict[str, ET.Element]:
    return {c.get("data-memory-id"): c for c in circles(root)}


def evidence_lines(root: ET.Element) -> list[ET.Element]:
    return [line for line in root.iter(f"{SVG}line") if line.get("class") == "joi-evidence-link"]


def texts(root: ET.Element, cls: str) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("class") == cls]


def mixed(n: int) -> list[Memory]:
    streams = list(Stream)
    return [
        mem(i, streams[i % 4], t=T0 + i * 977.0, importance=None if i % 7 == 0 else 1 + i % 10)
        for i in range(1, n + 1)
    ]


def test_one_circle_per_memory_with_accessible_svg():
    memories = mixed(40)
    root = parse(render_timeline_svg(memories))
    assert len(circles(root)) == 40
    assert {c.get("data-memory-id") for c in circles(root)} == {str(m.id) for m in memories}
    assert root.get("role") == "img"
    assert "40 memories" in root.get("aria-label")
    assert root.get("viewBox").startswith("0 0 900 ")
    assert root.get("width") == "100%"
    assert texts(root, "joi-caption") == []
    assert all(c.find(f"{SVG}title") is not None for c in circles(root))


def test_one_lane_label_per_stream_in_order():
    root = parse(render_timeline_svg(mixed(8)))
    assert texts(root, "joi-lane-label") == [LANE_LABELS[s] for s in Stream]
    assert texts(root, "joi-lane-label") == [
        "Dialogue",
        "Empathetic thoughts",
        "Therapist thoughts",
        "Reflections",
    ]
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "joi-legend")
    legend_text = " ".join("".join(t.itertext()) for t in legend.iter(f"{SVG}text"))
    assert "size = importance" in legend_text
    assert all(label in legend_text for label in LANE_LABELS.values())


def test_max_points_caps_the_circles_and_says_so():
    memories = mixed(50)
    root = parse(render_timeline_svg(memories, max_points=20))
    assert len(circles(root)) == 20
    [caption] = texts(root, "joi-caption")
    assert "showing 20 of 50" in caption.lower()
    # the newest, most important memory survives the cut
    best = max(memories, key=lambda m: ((m.importance or 0), m.created_at))
    assert str(best.id) in by_id(root)


def test_max_points_must_be_positive():
    with pytest.raises(ValueError):
        render_timeline_svg(mixed(3), max_points=0)


def test_reflection_lines_to_the_evidence_in_the_set():
    memories = [
        mem(1, t=T0),
        mem(2, Stream.EMPATHETIC, t=T0 + 60),
        mem(3, Stream.REFLECTION, t=T0 + 120, evidence=(1, 2, 99)),  # 99 is not in the set
    ]
    lines = evidence_lines(parse(render_timeline_svg(memories)))
    assert len(lines) == 2
    assert {(line.get("data-from"), line.get("data-to")) for line in lines} == {("3", "1"), ("3", "2")}
    assert evidence_lines(parse(render_timeline_svg(memories[2:]))) == []


def test_user_text_is_escaped_never_markup():
    nasty = "<script>alert(\"x\")</script> & 'quotes' 🙂 مرحبا \u202e evil"
    root = parse(render_timeline_svg([mem(7, text=nasty)]))
    assert not [e for e in root.iter() if e.tag.lower().endswith("script")]
    title = by_id(root)["7"].find(f"{SVG}title").text
    assert '<script>alert("x")</script>' in title
    assert "🙂 مرحبا" in title
    assert title.startswith("#7 · dialogue · importance 5 · 2024-05-29 16:26 UTC\n")


def test_long_text_is_shortened_in_the_tooltip():
    root = parse(render_timeline_svg([mem(1, text="word " * 200)]))
    preview = by_id(root)["1"].find(f"{SVG}title").text.split("\n", 1)[1]
    assert len(preview) <= 120
    assert preview.endswith("…")


def test_control_characters_do_not_break_xml():
    text = "bell\x07 nul\x00 esc\x1b tab\t ok\ufffe"
    root = parse(render_timeline_svg([mem(1, text=text)]))
    title = by_id(root)["1"].find(f"{SVG}title").text
    assert "bell nul esc tab ok" in title


def test_no_memories_gives_the_friendly_message():
    root = parse(render_timeline_svg([]))
    assert EMPTY_MESSAGE in "".join(root.itertext())
    assert circles(root) == []
    assert root.get("role") == "img"


def test_single_memory_and_identical_times_are_centred():
    single = parse(render_timeline_svg([mem(1)]))
    same = parse(render_timeline_svg([mem(i, Stream.DIALOGUE, t=T0) for i in range(1, 6)]))
    assert len(circles(single)) == 1
    assert len(circles(same)) == 5
    xs = {float(c.get("cx")) for c in circles(same)}
    assert len(xs) == 1
    assert float(circles(single)[0].get("cx")) == pytest.approx(xs.pop())
    assert len(texts(single, "joi-tick")) >= 2


def test_now_extends_the_axis():
    memories = [mem(1, t=T0), mem(2, t=T0 + 3600)]
    plain = by_id(parse(render_timeline_svg(memories)))
    later = parse(render_timeline_svg(memories, now=T0 + 7200))
    # with the axis running on to now, the newest memory no longer sits at the right end
    assert float(by_id(later)["2"].get("cx")) < float(plain["2"].get("cx"))
    assert [line for line in later.iter(f"{SVG}line") if line.get("class") == "joi-now"]


def test_unrated_drawn_differently_and_size_grows_with_importance():
    memories = [mem(i, t=T0 + i, importance=i) for i in range(1, 11)] + [mem(11, importance=None)]
    circle = by_id(parse(render_timeline_svg(memories)))
    radii = [float(circle[str(i)].get("r")) for i in range(1, 11)]
    assert radii == sorted(radii) and len(set(radii)) == 10
    unrated, rated = circle["11"], circle["5"]
    assert unrated.get("stroke-dasharray") and not rated.get("stroke-dasharray")
    assert float(unrated.get("fill-opacity")) < float(rated.get("fill-opacity"))
    assert "unrated" in unrated.find(f"{SVG}title").text


def test_jitter_is_deterministic():
    memories = mixed(30)
    assert render_timeline_svg(memories) == render_timeline_svg(list(reversed(memories)))


@pytest.mark.parametrize(
    "span",
    [5, 59, 600, 3 * 3600, 30 * 3600, 5 * 86400, 40 * 86400, 120 * 86400, 800 * 86400, 30 * 365 * 86400],
)
def test_four_to_seven_readable_ticks(span):
    for start in (T0, T0 + 12345.6, T0 + 9_876_543.2):
        root = parse(render_timeline_svg([mem(1, t=start), mem(2, t=start + span)]))
        labels = texts(root, "joi-tick")
        if span >= 60:
            assert 4 <= len(labels) <= 7, labels
        # a label may repeat (18:00 on two days) but then the date below it tells them apart
        ticks = _ticks(start, start + span, 7)
        assert len({(tick.label, tick.context) for tick in ticks}) == len(ticks)
        contexts = texts(root, "joi-tick-context")
        assert len(contexts) == len(dict.fromkeys(tick.context for tick in ticks if tick.context))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(),
            st.floats(min_value=-1e10, max_value=1e11, allow_nan=False),
            st.sampled_from(list(Stream)),
            st.one_of(st.none(), st.integers(min_value=-5, max_value=20)),
        ),
        max_size=12,
    ),
    st.one_of(st.none(), st.floats(min_value=0, max_value=4e9)),
)
def test_any_text_and_times_give_well_formed_svg(items, now):
    memories = [
        mem(
            i,
            stream,
            t=t,
            importance=importance,
            text=text,
            evidence=(1, 2) if stream is Stream.REFLECTION else (),
        )
        for i, (text, t, stream, importance) in enumerate(items, start=1)
    ]
    root = parse(render_timeline_svg(memories, now=now, width=640))
    assert len(circles(root)) == len(memories)
