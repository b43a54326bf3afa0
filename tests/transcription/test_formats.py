"""Transcript exports: txt, srt, vtt, md and json, with and without speaker names."""

from __future__ import annotations

import json
import re

import pytest

from speakr.transcription.base import Segment, Word
from speakr.transcription.formats import render_transcript

SEGMENTS = (
    Segment(0.0, 2.5, "Good morning everyone."),
    Segment(2.5, 61.25, "Let us review the budget."),
    Segment(3723.456, 3725.0, "Any other business?"),
)
SPOKEN = (
    Segment(0.0, 2.0, "Shall we start?", speaker="SPEAKER_00"),
    Segment(2.0, 4.5, "Yes, please.", speaker="SPEAKER_01"),
    Segment(4.5, 6.0, "Thank you.", speaker="SPEAKER_02"),
)
NAMES = {"SPEAKER_00": "Alice", "SPEAKER_01": "Bob"}
SRT_TIME = r"\d{2}:\d{2}:\d{2},\d{3}"


def srt_cues(text: str) -> list[tuple[int, str, str, str]]:
    """Parse SRT strictly: number, `start --> end`, one text line, blank line between cues."""
    cues = []
    for block in text.strip("\n").split("\n\n"):
        number, times, *lines = block.split("\n")
        assert re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", times), times
        start, end = times.split(" --> ")
        cues.append((int(number), start, end, "\n".join(lines)))
    return cues


def test_txt_is_one_line_per_segment() -> None:
    text = render_transcript("txt", SEGMENTS)

    assert text == "Good morning everyone.\nLet us review the budget.\nAny other business?\n"


def test_txt_prefixes_speaker_names_and_keeps_unnamed_labels() -> None:
    text = render_transcript("txt", SPOKEN, speakers=NAMES)

    assert text.splitlines() == [
        "Alice: Shall we start?",
        "Bob: Yes, please.",
        "SPEAKER_02: Thank you.",
    ]


def test_txt_without_a_speaker_map_shows_the_labels() -> None:
    text = render_transcript("txt", SPOKEN)

    assert text.splitlines()[0] == "SPEAKER_00: Shall we start?"


def test_srt_numbers_cues_in_order_with_comma_milliseconds() -> None:
    cues = srt_cues(render_transcript("srt", SEGMENTS))

    assert cues == [
        (1, "00:00:00,000", "00:00:02,500", "Good morning everyone."),
        (2, "00:00:02,500", "00:01:01,250", "Let us review the budget."),
        (3, "01:02:03,456", "01:02:05,000", "Any other business?"),
    ]


def test_srt_shows_speaker_names() -> None:
    cues = srt_cues(render_transcript("srt", SPOKEN, speakers=NAMES))

    assert [cue[3] for cue in cues] == [
        "Alice: Shall we start?",
        "Bob: Yes, please.",
        "SPEAKER_02: Thank you.",
    ]


def test_srt_rounds_to_the_next_second_instead_of_printing_sixty() -> None:
    cues = srt_cues(render_transcript("srt", [Segment(59.9996, 119.9999, "Edge.")]))

    assert cues[0][1:3] == ("00:01:00,000", "00:02:00,000")


def test_srt_clamps_negative_times_to_zero() -> None:
    cues = srt_cues(render_transcript("srt", [Segment(-0.2, 1.0, "Early.")]))

    assert cues[0][1] == "00:00:00,000"


def test_vtt_has_header_and_dot_milliseconds() -> None:
    text = render_transcript("vtt", SPOKEN, speakers=NAMES)

    assert text.startswith("WEBVTT\n\n")
    blocks = text.removeprefix("WEBVTT\n\n").strip("\n").split("\n\n")
    assert blocks == [
        "00:00:00.000 --> 00:00:02.000\nAlice: Shall we start?",
        "00:00:02.000 --> 00:00:04.500\nBob: Yes, please.",
        "00:00:04.500 --> 00:00:06.000\nSPEAKER_02: Thank you.",
    ]


def test_vtt_formats_times_over_an_hour() -> None:
    text = render_transcript("vtt", SEGMENTS)

    assert "01:02:03.456 --> 01:02:05.000\nAny other business?" in text


def test_md_has_title_and_a_timestamped_line_per_segment() -> None:
    text = render_transcript("md", SEGMENTS, title="Weekly planning")

    lines = [line for line in text.splitlines() if line]
    assert lines == [
        "# Weekly planning",
        "**[00:00:00]** Good morning everyone.",
        "**[00:00:02]** Let us review the budget.",
        "**[01:02:03]** Any other business?",
    ]


def test_md_without_title_has_no_heading_and_shows_speakers() -> None:
    text = render_transcript("md", SPOKEN, speakers=NAMES)

    lines = [line for line in text.splitlines() if line]
    assert not any(line.startswith("#") for line in lines)
    assert lines[1] == "**[00:00:02]** Bob: Yes, please."


def test_json_holds_title_language_speakers_text_and_segments() -> None:
    data = json.loads(
        render_transcript("json", SPOKEN, title="Call", language="en", speakers=NAMES)
    )

    assert data["title"] == "Call"
    assert data["language"] == "en"
    assert data["speakers"] == NAMES
    assert data["text"] == "Shall we start? Yes, please. Thank you."
    assert data["segments"] == [
        {"start": 0.0, "end": 2.0, "text": "Shall we start?", "speaker": "SPEAKER_00"},
        {"start": 2.0, "end": 4.5, "text": "Yes, please.", "speaker": "SPEAKER_01"},
        {"start": 4.5, "end": 6.0, "text": "Thank you.", "speaker": "SPEAKER_02"},
    ]


def test_json_without_speakers_keeps_times_in_seconds_and_words() -> None:
    words = (Word(3723.456, 3723.9, " Any", 0.9), Word(3723.9, 3725.0, " business?", 0.8))
    data = json.loads(
        render_transcript("json", [Segment(3723.456, 3725.0, "Any business?", words=words)])
    )

    assert data["speakers"] == {}
    assert data["language"] is None
    segment = data["segments"][0]
    assert (segment["start"], segment["end"], segment["speaker"]) == (3723.456, 3725.0, None)
    assert [w["word"] for w in segment["words"]] == [" Any", " business?"]


def test_json_keeps_non_ascii_text_readable() -> None:
    text = render_transcript("json", [Segment(0, 1, "Grüße aus München")])

    assert "Grüße aus München" in text


def test_empty_transcript_renders_headers_only() -> None:
    assert render_transcript("vtt", []) == "WEBVTT\n\n"
    assert render_transcript("srt", []) == ""
    assert json.loads(render_transcript("json", []))["segments"] == []


@pytest.mark.parametrize("fmt", ["docx", "pdf", ""])
def test_unknown_format_raises_value_error(fmt: str) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render_transcript(fmt, SEGMENTS)
