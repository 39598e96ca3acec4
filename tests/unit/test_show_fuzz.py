"""Property tests of the show-file loader (issue 14): whatever text or bytes it is given, random or
a mutation of the demo show, it either loads a Show or raises ShowFileError whose every problem is
located as ``file:line:column`` — never another exception (no RecursionError, ReaderError, ...)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from stage.errors import ShowFileError
from stage.show.loader import load_show, parse_show
from stage.show.models import Show

DEMO = Path(__file__).resolve().parents[2] / "shows" / "tiny-stories.yaml"
DEMO_TEXT = DEMO.read_text()
DEMO_LINES = DEMO_TEXT.splitlines(keepends=True)
FILENAME = str(DEMO)  # logos and other files resolve beside the demo
LOCATED = re.compile(r"^" + re.escape(FILENAME) + r":\d+:\d+: \S")
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values that have broken YAML loaders: tags, aliases, anchors, special floats and ints, dates out
# of range, control characters, flow openers, merge keys, huge numbers.
NASTY = ["", "~", "null", "-1", "0", "99999", "1e999", "-.inf", ".nan", "0x1F", "0o17", "yes", "2024-02-30",
         "2024-01-01 25:00:00", "'", '"', "[", "{", "]", "}", "*nope", "&a", "&a [*a]", "!!binary @@@", "!!int x",
         "!!python/object:os.system", "!!set {a}", "<<: *x", "? [a]", "|", ">", "\x00", "\x07", "\ufeff", "\u2028",
         "7" * 5000, "[" * 200, "- - - -", "{a: 1, a: 2}", "'\\x'", '"\\x"', "%YAML 1.1", "---", "..."]


def assert_loads_or_located(text: str) -> None:
    try:
        show = parse_show(text, FILENAME)
    except ShowFileError as exc:
        assert exc.problems, "a ShowFileError names at least one problem"
        for problem in exc.problems:
            assert LOCATED.match(str(problem)), str(problem)
        return
    assert isinstance(show, Show)


@st.composite
def mutated_demo(draw: st.DrawFn) -> str:
    lines = list(DEMO_LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "value"]))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            at = draw(st.integers(0, len(lines[i])))
            chars = draw(st.one_of(st.text(max_size=8), st.sampled_from(NASTY)))
            lines[i] = lines[i][:at] + chars + lines[i][at:]
        elif op == "value" and ": " in lines[i]:
            key = lines[i].split(": ", 1)[0]
            value = draw(st.one_of(st.sampled_from(NASTY), st.text(max_size=20)))
            lines[i] = f"{key}: {value}\n"
    return "".join(lines)


@FUZZ
@given(st.text(max_size=3000))
def test_random_text_loads_or_is_a_located_show_error(text):
    assert_loads_or_located(text)


@FUZZ
@given(st.lists(st.sampled_from(NASTY + ["title: t", "cues:", "  - ", "displays: [{name: main}]", "a: &a [1]",
                                         "b: *a", "    ", ":", "-"]), max_size=30).map("\n".join))
def test_yaml_shaped_noise_loads_or_is_a_located_show_error(text):
    assert_loads_or_located(text)


@FUZZ
@given(mutated_demo())
def test_mutations_of_the_demo_load_or_are_located_show_errors(text):
    assert_loads_or_located(text)


@FUZZ
@given(st.binary(max_size=2000), st.integers(0, len(DEMO_TEXT)))
def test_bytes_spliced_into_the_demo_file_load_or_are_located_show_errors(noise, at):
    raw = DEMO_TEXT.encode()[:at] + noise + DEMO_TEXT.encode()[at:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "night.yaml"
        path.write_bytes(raw)
        try:
            load_show(path)
        except ShowFileError as exc:
            for problem in exc.problems:
                assert re.match(re.escape(str(path)) + r":\d+:\d+: \S", str(problem)), str(problem)
