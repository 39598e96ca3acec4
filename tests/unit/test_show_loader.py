"""The show loader: the demo validates; every broken show names file:line:column and the field path."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stage.cli import cli
from stage.errors import ShowFileError
from stage.show.loader import load_show, parse_show
from stage.show.models import GroupCue, OscCue

DEMO = Path(__file__).resolve().parents[2] / "shows" / "tiny-stories.yaml"
DEMO_TEXT = DEMO.read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(ShowFileError) as info:
        parse_show(text, "night.yaml")
    return [str(p) for p in info.value.problems]


def test_demo_show_describes_a_whole_night():
    show = load_show(DEMO)
    types = {c.type for c in show.flat_cues()}
    assert {"display", "prompt", "osc", "record", "light", "group"} <= types
    assert [c.id for c in show.cues] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    group = show.cues[4]
    assert isinstance(group, GroupCue) and [c.id for c in group.cues] == ["5.1", "5.2", "5.3", "5.4"]
    osc = group.cues[0]
    assert isinstance(osc, OscCue) and osc.intent == "fire_cue" and osc.cue_list == 1 and osc.cue_number == "12"
    assert show.prompt("cape").max_words == 30
    with pytest.raises(Exception):
        show.prompts[0].max_words = 3  # frozen: a loaded show cannot change under the runner


def test_yaml_syntax_error_points_at_line_and_column():
    assert problems("title: [Tiny\ndisplays: []\n") == ["night.yaml:2:9: YAML syntax: expected ',' or ']', but got ':'"]


def test_unknown_cue_type_points_at_the_type_field():
    text = DEMO_TEXT.replace("    type: prompt\n    prompt: cape\n    action: close", "    type: promtp\n    prompt: cape\n    action: close")
    [problem] = problems(text)
    line = text.splitlines().index("    type: promtp") + 1
    assert problem.startswith(f"night.yaml:{line}:11: cues[3].type: unknown cue type 'promtp'")


def test_missing_field_points_at_the_cue():
    text = DEMO_TEXT.replace("    display: main\n    scene: wall\n\n  - id: \"4\"", "    scene: wall\n\n  - id: \"4\"")
    [problem] = problems(text)
    line = text.splitlines().index('  - id: "3"') + 1
    assert problem == f"night.yaml:{line}:5: cues[2]: missing required field 'display'"


def test_unknown_field_and_bad_value_and_dangling_reference_are_all_reported():
    text = DEMO_TEXT.replace("    action: open", "    action: open\n    prewait: 2").replace(
        "    port: 8000", "    port: 99999").replace("rig: stage\n        action: start", "rig: stagee\n        action: start")
    found = problems(text)
    assert any("osc_targets[0].port: Input should be less than or equal to 65535" in p for p in found)
    assert any("cues[1].prewait: unknown field 'prewait'" in p for p in found)
    # reference errors are checked once the schema is valid
    fixed = text.replace("    port: 99999", "    port: 8000").replace("\n    prewait: 2", "")
    [dangling] = problems(fixed)
    line = fixed.splitlines().index("        rig: stagee") + 1
    assert dangling == f"night.yaml:{line}:14: cues[4].cues[2].rig: no rig named 'stagee' (rigs: ['stage'])"


def test_duplicate_keys_and_ids_are_errors():
    assert "duplicate key 'title'" in problems("title: a\ntitle: b\n")[0]
    text = DEMO_TEXT.replace('  - id: "4"', '  - id: "3"')
    assert any("duplicate cue id '3'" in p for p in problems(text))


@pytest.mark.parametrize("text, message", [
    ("", "the show file is empty"),
    ("- just\n- a list\n", "a show file is a mapping"),
    ("title: t\ndisplays: [{name: main}]\ncues: [{type: display, display: main, scene: join, address: /x}]\n",
     "unknown field 'address'"),
    ("title: t\ndisplays: [{name: main}]\ncues: [{type: osc, target: x}]\n", "exactly one of 'address'"),
    ("title: t\ndisplays: [{name: Main Screen}]\ncues: [{type: note}]\n", "String should match pattern"),
])
def test_small_broken_shows(text, message):
    assert message in "\n".join(problems(text))


def test_check_command_exit_codes(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["check", str(DEMO)])
    assert ok.exit_code == 0 and "ok" in ok.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(DEMO_TEXT.replace("scene: credits", "scene: credit"))
    bad = runner.invoke(cli, ["check", str(DEMO), str(broken)])
    assert bad.exit_code == 1
    assert f"{broken}:" in bad.output and "cues[7].scene" in bad.output
    missing = runner.invoke(cli, ["check", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "cannot read show file" in missing.output


def test_continue_is_refused_inside_groups():
    text = DEMO_TEXT.replace("        rig: stage\n        action: start", "        rig: stage\n        action: start\n        continue: auto_follow")
    assert any("cues[4].cues[2].continue: continue applies to top-level cues" in p for p in problems(text))


def test_osc_cues_are_checked_against_their_target_profile():
    text = DEMO_TEXT.replace("    profile: eos", "    profile: qlab")
    found = problems(text)
    assert any("cues[4].cues[0].intent:" in p and "qlab" in p for p in found), found
    text = DEMO_TEXT.replace("        address: /eos/cue/1/13/fire", "        address: /eos/cue/1/13/fire\n        args: [{type: b, value: '%%%'}]")
    assert any("cues[5].cues[1].args:" in p for p in problems(text))


def test_display_theme_logo_and_live_rig_are_checked(tmp_path):
    (tmp_path / "not-a-picture.png").write_text("<svg/>")
    show = tmp_path / "night.yaml"
    show.write_text("title: t\n"
                    "displays:\n"
                    "  - name: main\n"
                    "    theme: {logo: missing.png}\n"
                    "  - name: side\n"
                    "    theme: {logo: not-a-picture.png, background: red}\n"
                    "rigs: [{name: stage}]\n"
                    "cues:\n"
                    "  - {type: display, display: main, scene: live, rig: nowhere}\n"
                    "  - {type: display, display: main, scene: live}\n"
                    "  - {type: display, display: main, scene: wall, rig: stage}\n")
    with pytest.raises(ShowFileError) as info:
        load_show(show)
    text = "\n".join(str(p) for p in info.value.problems)
    assert "displays.1.theme.background" in text or "displays[1].theme.background" in text
    assert "a live scene needs 'rig'" in text and "'rig' applies only to the live scene" in text


def test_display_theme_and_files_resolve_beside_the_show(tmp_path):
    from PIL import Image

    Image.new("RGB", (40, 20), (255, 0, 0)).save(tmp_path / "logo.png")
    (tmp_path / "fake.png").write_text("not a png")
    base = ("title: t\ndisplays:\n  - name: main\n    resolution: 1280x800\n"
            "    theme: {{logo: {logo}, background: '#102030', font: 'DejaVu Serif'}}\n"
            "    safe_area: {{top: 5, left: 10}}\n"
            "rigs: [{{name: stage}}]\n"
            "cues:\n  - {{type: display, display: main, scene: live, rig: {rig}}}\n")
    show = tmp_path / "night.yaml"
    show.write_text(base.format(logo="logo.png", rig="stage"))
    loaded = load_show(show)
    assert loaded.displays[0].theme.background == "#102030" and loaded.displays[0].aspect == (1280, 800)
    show.write_text(base.format(logo="fake.png", rig="nowhere"))
    with pytest.raises(ShowFileError) as info:
        load_show(show)
    text = "\n".join(str(p) for p in info.value.problems)
    assert "not a picture Stage can read" in text and "no rig named 'nowhere'" in text
    assert "night.yaml:" in text


# Hostile show files (issue 14, finding 10): each ends in a ShowFileError at file:line:column, fast.

def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "title: bomb\n" + "\n".join(lines) + "\n"


@pytest.mark.timeout(20)  # the old loader walked the 9**9 expanded nodes for minutes
def test_alias_bomb_is_refused_at_the_alias_that_goes_past_the_budget():
    [problem] = problems(billion_laughs())
    assert problem.startswith("night.yaml:6:") and "aliases expand to more than 10,000 nodes" in problem


def test_aliases_within_the_budget_still_work():
    text = DEMO_TEXT.replace("displays:\n  - name: main", "displays:\n  - &main\n    name: main", 1)
    text += "extra_displays_for_reuse: [*main]\n"
    assert "unknown field 'extra_displays_for_reuse'" in problems(text)[0]


def test_recursive_alias_is_refused_not_a_recursion_error():
    [problem] = problems("title: t\ndisplays: [{name: main}]\ncues: &loop [{type: group, cues: *loop}]\n")
    assert problem == "night.yaml:3:34: YAML limit: the alias *loop refers to the node that contains it (a loop)"


@pytest.mark.parametrize("text", ["title: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "title: t\ncues:\n" + "".join("  " * i + "- \n" for i in range(1, 400))])
def test_deep_nesting_is_refused_with_its_position(text):
    [problem] = problems(text)
    assert "YAML limit: nested more than 64 levels deep" in problem
    assert problem.startswith("night.yaml:")


def test_nul_and_other_control_characters_point_at_the_character():
    assert problems("title: t\ndisplays: [{name: m\x00ain}]\n") == [
        "night.yaml:2:20: YAML: character U+0000 is not allowed in a show file"]
    assert problems("title: \x07\n")[0].startswith("night.yaml:1:8: YAML: character U+0007")


def test_bytes_that_are_not_utf8_point_at_the_line(tmp_path):
    path = tmp_path / "night.yaml"
    path.write_bytes(b"title: t\ndisplays: [{name: \xff}]\n")
    with pytest.raises(ShowFileError) as info:
        load_show(path)
    assert str(info.value) == f"{path}:2:19: not UTF-8 text (byte 0xff)"


def test_values_out_of_range_are_show_errors_with_their_mark():
    assert problems("title: 2024-02-30\n")[0].startswith("night.yaml:1:8: YAML syntax: cannot read this value")
    assert problems("title: t\nn: " + "7" * 5000 + "\n")[0].startswith("night.yaml:2:4: YAML syntax: cannot read")


@pytest.mark.timeout(30)  # the old loader parsed all 20 MB (13-17 s, ~360 MiB) and accepted it
def test_a_20_megabyte_show_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("w") as out:
        out.write(DEMO_TEXT)
        line = "# " + "x" * 98 + "\n"
        out.write(line * (20 * 1024 * 1024 // len(line)))
    with pytest.raises(ShowFileError) as info:
        load_show(path)
    assert str(info.value).startswith(f"{path}:1:1: the show file is larger than 1024 KiB")
    with pytest.raises(ShowFileError):
        parse_show(DEMO_TEXT + "#" * (1024 * 1024), "night.yaml")


def test_a_directory_is_a_show_file_error_and_check_exits_1(tmp_path):
    with pytest.raises(ShowFileError) as info:
        load_show(tmp_path)
    assert str(info.value) == f"{tmp_path}:1:1: cannot read show file: {tmp_path} is a directory, not a show file"
    result = CliRunner().invoke(cli, ["check", str(tmp_path), str(DEMO)])
    assert result.exit_code == 1, result.output
    assert f"{tmp_path}:1:1: cannot read show file" in result.output and "Traceback" not in result.output
    assert f"{DEMO}: ok" in result.output, "the other shows are still checked"


def test_check_reports_yaml_limits_in_one_line_each(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"title: \x00\n")
    result = CliRunner().invoke(cli, ["check", str(bomb), str(nul)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"{bomb}:6:10: YAML limit: aliases expand to more than 10,000 nodes",
                                          f"{nul}:1:8: YAML: character U+0000 is not allowed in a show file"]


@pytest.mark.timeout(60)  # the old loader took 23 s and 435 MiB on 520,000 items in 1 MiB
def test_a_show_of_too_many_nodes_is_refused_while_it_is_composed():
    text = DEMO_TEXT + "padding: [" + "1," * 520_000 + "1]\n"
    assert len(text) < 1024 * 1024
    [problem] = problems(text)
    assert problem.startswith("night.yaml:") and "YAML limit: more than 20,000 YAML nodes" in problem


def test_serve_of_a_directory_is_the_same_one_line_error(tmp_path):
    result = CliRunner().invoke(cli, ["serve", str(tmp_path), "--bind", "127.0.0.1", "--data", str(tmp_path / "d")])
    assert result.exit_code == 1, result.output  # click's usage error was exit 2, before the loader ran
    assert result.output.strip() == f"{tmp_path}:1:1: cannot read show file: {tmp_path} is a directory, not a show file"
    assert not (tmp_path / "d").exists(), "nothing started"


def test_the_size_cap_of_show_text_counts_bytes_as_the_file_reader_does():
    """parse_show compared characters with a byte cap: 400,000 three-byte characters (1.2 MB) passed it."""
    from stage.errors import ShowFileError
    from stage.show.loader import MAX_SHOW_BYTES, parse_show

    text = "title: " + "\u2603" * (MAX_SHOW_BYTES // 3 + 1) + "\n"
    assert len(text) < MAX_SHOW_BYTES < len(text.encode())
    with pytest.raises(ShowFileError, match="larger than"):
        parse_show(text, "big.yaml")
