from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from metavoice_app.cli import main
from metavoice_app.core.dubbing.cues import SubtitleError, parse, read_cues
from metavoice_app.core.dubbing.render import MAX_SLOWDOWN, MAX_SPEEDUP, fit_speed, render
from metavoice_app.core.progress import Cancelled, Progress, ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine

SRT = """1
00:00:00,500 --> 00:00:02,500
[Alice] Hello <i>there</i>, friend.

2
00:00:03,000 --> 00:00:05,000
{\\an8}How are you today?

3
00:00:05,500 --> 00:00:05,900
[Bob] This sentence is far too long for such a tiny slot of time.
"""

VTT = """WEBVTT - a title

NOTE this is a comment

intro
00:00:01.000 --> 00:00:02.000 align:start position:10%
First cue.

01:00:00.250 --> 01:00:01.000
Second cue, an hour in.
"""


def test_srt_cues_voices_and_markup() -> None:
    cues = parse(SRT)
    assert [c.number for c in cues] == [1, 2, 3]
    assert cues[0].text == "Hello there, friend." and cues[0].voice == "Alice"
    assert (cues[0].start, cues[0].end, cues[0].line) == (0.5, 2.5, 2)
    assert cues[1].text == "How are you today?" and cues[1].voice is None


def test_webvtt_with_notes_identifiers_and_hours() -> None:
    cues = parse(VTT)
    assert [c.text for c in cues] == ["First cue.", "Second cue, an hour in."]
    assert cues[1].start == pytest.approx(3600.25)


def test_webvtt_entities_voice_spans_and_ruby() -> None:
    vtt = """WEBVTT
Kind: captions

1
00:00:01.000 --> 00:00:02.000
Tom &amp; Jerry &lt;3 caf&#233;&nbsp;au&#xA0;lait &gt; tea

00:00:02.000 --> 00:00:03.000
<v Bob>Hello <b>there</b></v>

00:00:03.000 --> 00:00:04.000
<v.loud Mary Ann>We go to <ruby>東京<rt>とうきょう</rt></ruby>に行く.

00:00:04.000 --> 00:00:05.000
[Alice] I read <ruby>kanji<rp>(</rp><rt>kahn-jee</rt><rp>)</rp></ruby> daily,
<ruby>base<rt>unclosed reading</ruby> words.
"""
    cues = parse(vtt)
    assert [(c.voice, c.text) for c in cues] == [
        (None, "Tom & Jerry <3 café au lait > tea"),
        ("Bob", "Hello there"),
        ("Mary Ann", "We go to 東京に行く."),
        ("Alice", "I read kanji daily, base words."),
    ]
    assert [c.line for c in cues] == [5, 8, 11, 14]


def test_overlapping_cues_are_reported_with_their_numbers() -> None:
    overlapping = """1
00:00:01,000 --> 00:00:04,000
The long first cue.

2
00:00:02,500 --> 00:00:03,000
Said over it.

3
00:00:03,500 --> 00:00:05,000
Still over the first.

4
00:00:05,000 --> 00:00:06,000
Right after: fine.
"""
    with pytest.raises(SubtitleError) as error:
        parse(overlapping, "talk.srt")
    assert error.value.problems == [
        "line 6: cue 2 starts at 00:00:02.500, before cue 1 (line 2) ends at 00:00:04.000; "
        "cues must not overlap",
        "line 10: cue 3 starts at 00:00:03.500, before cue 1 (line 2) ends at 00:00:04.000; "
        "cues must not overlap",
    ]


def test_an_over_long_cue_is_named_by_number_and_line() -> None:
    from metavoice_app.core.text.frontend import MAX_TEXT_CHARS

    long_line = "word " * (MAX_TEXT_CHARS // 5) + "end."
    with pytest.raises(SubtitleError) as error:
        parse(f"First.\n\n{long_line}\n", "script.txt")
    assert error.value.problems == [
        f"line 3: cue 2 is {len(long_line):,} characters long; "
        f"a cue may have at most {MAX_TEXT_CHARS:,}"
    ]
    srt = f"1\n00:00:01,000 --> 00:01:00,000\n{long_line}\n"
    with pytest.raises(SubtitleError, match="line 2: cue 1 is"):
        parse(srt)


def test_a_cue_that_cannot_be_spoken_is_named_when_rendering(engine: SpeechEngine) -> None:
    from metavoice_app.core.text.frontend import TextError

    with pytest.raises(TextError, match=r"^cue 2 \(line 3\): Nothing in this text can be"):
        render(parse("Hello.\n\n😀 🎉\n"), engine, {None: engine.voice()})


def test_scripts_are_one_cue_per_line() -> None:
    cues = parse("[Narrator] Once upon a time.\n\n# a comment\nThe end.\n")
    assert [(c.voice, c.text, c.line) for c in cues] == [
        ("Narrator", "Once upon a time.", 1),
        (None, "The end.", 4),
    ]
    assert cues[0].start is None


def test_broken_subtitles_list_every_problem_with_its_line() -> None:
    broken = """1
00:00:01,000 --> 00:00:02,000
Fine.

2
00:00:05,000 --> 00:00:04,000
Ends before it starts.

3
00:00:0x,000 --> 00:00:07,000
Unreadable timing.

4
00:00:08,000 --> 00:00:09,000

just some text without timing
"""
    with pytest.raises(SubtitleError) as error:
        parse(broken, "broken.srt")
    problems = error.value.problems
    assert "line 6: the cue ends before it starts" in problems
    assert any(p.startswith("line 10: cannot read the timing") for p in problems)
    assert any(p.startswith("line 14") and "no text" in p for p in problems)
    assert any(p.startswith("line 16") and "no timing line" in p for p in problems)
    assert "broken.srt has 4 problem(s)" in str(error.value)


@pytest.mark.parametrize("content", ["", "\n\n\n", "WEBVTT\n\n"])
def test_empty_files_are_reported(content: str) -> None:
    with pytest.raises(SubtitleError, match="holds no cues"):
        parse(content)


def test_binary_garbage_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "garbage.srt"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(SubtitleError):
        read_cues(path)


def test_fit_speed_limits() -> None:
    assert fit_speed(2.0, 2.0) == 1.0
    assert fit_speed(3.0, 2.0) == pytest.approx(1.53)
    assert fit_speed(10.0, 2.0) == MAX_SPEEDUP
    assert fit_speed(1.0, 2.0) == MAX_SLOWDOWN
    assert fit_speed(1.9, 2.0) == 1.0


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> SpeechEngine:
    return SpeechEngine(tiny_model_dir, device="cpu")


def test_render_places_cues_at_their_times(engine: SpeechEngine) -> None:
    cues = parse(SRT)
    voices = {
        None: engine.voice(),
        "Alice": engine.voice(engine.voice_ids()[1]),
        "Bob": engine.voice(),
    }
    result = render(cues, engine, voices)
    rate = result.sample_rate
    assert len(result.track) >= int(5.9 * rate)
    assert np.abs(result.track[: int(0.45 * rate)]).max() == 0.0  # silence before cue 1
    for cue in result.cues:
        start = round(cue.start * rate)
        assert np.abs(result.track[start : start + len(cue.audio)]).max() > 0
    assert result.cues[0].voice == engine.voice_ids()[1]
    assert [c.number for c in result.overflowing] == [3]
    assert result.cues[2].speed == MAX_SPEEDUP
    assert "cue 3 runs" in result.report() and "(line 10)" in result.report()
    rows = list(csv.DictReader(result.cue_sheet().splitlines()))
    assert [r["cue"] for r in rows] == ["1", "2", "3"] and float(rows[2]["overflow_s"]) > 0


def test_scripts_are_laid_end_to_end(engine: SpeechEngine) -> None:
    result = render(parse("One.\nTwo.\nThree."), engine, {None: engine.voice()})
    starts = [c.start for c in result.cues]
    assert starts[0] == 0.0 and starts[1] > result.cues[0].duration
    assert starts[2] > starts[1] + result.cues[1].duration


def test_render_reports_each_cue_and_stops_before_the_next_when_cancelled(
    engine: SpeechEngine,
) -> None:
    cues = parse("One.\nTwo.\nThree.")
    reports: list[Progress] = []
    render(cues, engine, {None: engine.voice()}, progress=ProgressSink(reports.append))
    assert [(p.fraction, p.message) for p in reports] == [
        (0.0, "cue 1"),
        (pytest.approx(1 / 3), "cue 2"),
        (pytest.approx(2 / 3), "cue 3"),
        (1.0, "mixing"),
    ]
    seen: list[str] = []

    def cancel_during_the_second(progress: Progress) -> None:
        seen.append(progress.message)
        if progress.message == "cue 2":
            sink.cancel()

    sink = ProgressSink(cancel_during_the_second)
    with pytest.raises(Cancelled):
        render(cues, engine, {None: engine.voice()}, progress=sink)
    assert seen == ["cue 1", "cue 2"]


def test_dub_cli_end_to_end(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subtitles = tmp_path / "movie.srt"
    subtitles.write_text(SRT, encoding="utf-8")
    voices = SpeechEngine(tiny_model_dir).voice_ids()
    voice_map = tmp_path / "voices.json"
    voice_map.write_text(json.dumps({"Alice": voices[1], "Bob": voices[0]}))
    out = tmp_path / "movie.flac"
    code = main(
        [
            "dub",
            str(subtitles),
            "--voice-map",
            str(voice_map),
            "--out",
            str(out),
            "--stems",
            str(tmp_path / "stems"),
            "--model",
            str(tiny_model_dir),
            "--sample-rate",
            "48000",
        ]
    )
    assert code == 0, capsys.readouterr().err
    info = sf.info(str(out))
    assert info.samplerate == 48000 and info.duration >= 5.9
    assert sorted(p.name for p in (tmp_path / "stems").iterdir()) == [
        "0001.wav",
        "0002.wav",
        "0003.wav",
    ]
    assert (tmp_path / "movie.csv").exists()
    assert "cue 3 runs" in capsys.readouterr().out


def test_dub_cli_reports_malformed_files(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:05,000 --> 00:00:01,000\nBackwards.\n", encoding="utf-8")
    assert (
        main(["dub", str(bad), "--out", str(tmp_path / "x.wav"), "--model", str(tiny_model_dir)])
        == 1
    )
    assert "line 2: the cue ends before it starts" in capsys.readouterr().err
    script = tmp_path / "script.txt"
    script.write_text("[Zed] Hello.\n")
    assert (
        main(
            [
                "dub",
                str(script),
                "--out",
                str(tmp_path / "x.wav"),
                "--strict-voices",
                "--model",
                str(tiny_model_dir),
            ]
        )
        == 1
    )
    assert "[Zed] (first on line 1)" in capsys.readouterr().err


def test_dub_cli_refuses_a_non_finite_speed(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.txt"
    script.write_text("Hello.\n", encoding="utf-8")
    out = tmp_path / "x.wav"
    args = ["dub", str(script), "--out", str(out), "--model", str(tiny_model_dir)]
    assert main([*args, "--speed", "nan"]) == 1
    assert "--speed must be a number from 0.25 to 4, not nan" in capsys.readouterr().err
    assert not out.exists()


def test_dub_cli_finds_unwritable_outputs_before_rendering(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subtitles = tmp_path / "movie.srt"
    subtitles.write_text(SRT, encoding="utf-8")
    taken = tmp_path / "movie.wav"
    taken.mkdir()
    args = ["dub", str(subtitles), "--model", str(tiny_model_dir)]
    assert main([*args, "--out", str(taken)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {taken}: it is a folder" in err and "cue 1" not in err
    assert main([*args, "--out", str(tmp_path / "ok.wav"), "--stems", str(subtitles)]) == 1
    err = capsys.readouterr().err
    assert f"{subtitles} is a file, not a folder" in err and "cue 1" not in err
    assert not (tmp_path / "ok.wav").exists()
