"""Load a show file: YAML -> validated, immutable :class:`Show`, or a ShowFileError that points at
``file:line:column`` and the field path of every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from PIL import Image
from pydantic import ValidationError

from stage.dmx.checks import problems as dmx_problems
from stage.errors import ShowFileError, ShowProblem, StageError
from stage.lighting.profiles import messages_for
from stage.show.models import DisplayCue, GroupCue, OscCue, PromptCue, RecordCue, Show
from stage.show.safe_yaml import ShowYamlLoader, YamlLimit, reader_position

Loc = tuple[Any, ...]
# The demo show is 2 KiB; a long night with hundreds of cues stays well under 200 KiB. PyYAML parses
# about 1.5 MB/s and builds ~18 bytes of objects per byte of text (a 20 MB file took 13-17 s and
# 360 MiB), so a cap keeps `stage check` and `stage serve` start-up under a second and small.
MAX_SHOW_BYTES = 1024 * 1024


def load_show(path: str | Path, resolve_nodes: bool = False) -> Show:
    path = Path(path)
    raw = _read_capped(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace")
        line, column = reader_position(before, len(before))
        raise ShowFileError([ShowProblem(str(path), line, column, "",
                                         f"not UTF-8 text (byte 0x{raw[exc.start]:02x})")]) from None
    return parse_show(text, str(path), resolve_nodes)


def _read_capped(path: Path) -> bytes:
    """The file's bytes, reading at most one byte past the cap (a FIFO or /dev/zero cannot stall it)."""
    try:
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a directory, not a show file")
        with path.open("rb") as file:
            raw = file.read(MAX_SHOW_BYTES + 1)
    except OSError as exc:
        raise ShowFileError([ShowProblem(str(path), 1, 1, "", f"cannot read show file: {exc}")]) from None
    if len(raw) > MAX_SHOW_BYTES:
        raise ShowFileError([_too_large(str(path))])
    return raw


def _too_large(filename: str) -> ShowProblem:
    return ShowProblem(filename, 1, 1, "", f"the show file is larger than {MAX_SHOW_BYTES // 1024} KiB, the limit "
                       "(a show file describes a night; media go beside it)")


def parse_show(text: str, filename: str = "<show>", resolve_nodes: bool = False) -> Show:
    """``resolve_nodes``: also check that DMX node names resolve (``stage check``; ``serve`` starts anyway and
    retries, because a DNS hiccup before doors must not keep them shut)."""
    if len(text) > MAX_SHOW_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_SHOW_BYTES:
        raise ShowFileError([_too_large(filename)])  # the cap is in bytes, as load_show reads it
    data, marks = _parse_yaml(text, filename)
    if not isinstance(data, dict):
        raise ShowFileError([ShowProblem(filename, 1, 1, "", "a show file is a mapping (title:, displays:, cues: ...)")])
    try:
        show = Show.model_validate(data)
    except ValidationError as exc:
        raise ShowFileError([_problem(filename, data, marks, err) for err in exc.errors()]) from None
    base = Path(filename).parent
    errors = _reference_errors(show) + _file_errors(show, base)
    errors += dmx_problems(show, base, resolve_nodes)
    problems = [_at(filename, data, marks, loc, msg) for loc, msg in errors]
    if problems:
        raise ShowFileError(problems)
    return show


def _parse_yaml(text: str, filename: str) -> tuple[Any, dict[Loc, yaml.Mark]]:
    loader = None
    try:
        loader = ShowYamlLoader(text)  # the reader checks every character here: inside the try
        node = loader.get_single_node()
        if node is None:
            raise ShowFileError([ShowProblem(filename, 1, 1, "", "the show file is empty")])
        _refuse_duplicate_keys(node, filename, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        kind = "YAML limit" if isinstance(exc, YamlLimit) else "YAML syntax"
        raise ShowFileError([ShowProblem(filename, line, col, "", f"{kind}: {exc.problem or exc}")]) from None
    except yaml.reader.ReaderError as exc:  # a NUL or other non-printable character
        line, col = reader_position(text, exc.position)
        message = f"YAML: character U+{_code(exc.character):04X} is not allowed in a show file"
        raise ShowFileError([ShowProblem(filename, line, col, "", message)]) from None
    except yaml.YAMLError as exc:
        raise ShowFileError([ShowProblem(filename, 1, 1, "", f"YAML: {exc}")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    marks: dict[Loc, yaml.Mark] = {}
    _collect_marks(node, (), marks)
    return data, marks


def _code(character: int | str) -> int:
    return character if isinstance(character, int) else ord(character)


def _refuse_duplicate_keys(node: yaml.Node, filename: str, visited: set[int]) -> None:
    """Each node once: an alias shares its node, and walking shared nodes again is how a small file
    made this check take billions of steps."""
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    m = key.start_mark
                    raise ShowFileError([ShowProblem(filename, m.line + 1, m.column + 1, "", f"duplicate key '{key.value}'")])
                seen.add(key.value)
            _refuse_duplicate_keys(value, filename, visited)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, filename, visited)


def _collect_marks(node: yaml.Node, loc: Loc, marks: dict[Loc, yaml.Mark]) -> None:
    marks.setdefault(loc, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                marks[loc + (key.value, "<key>")] = key.start_mark
                _collect_marks(value, loc + (key.value,), marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_marks(item, loc + (index,), marks)


def _data_path(data: Any, loc: Loc) -> Loc:
    """The part of a pydantic ``loc`` that exists in the YAML data (drops union tags)."""
    path: list[Any] = []
    current = data
    after_index = False
    for part in loc:
        is_tag = after_index and isinstance(current, dict) and part == current.get("type")
        after_index = isinstance(part, int)
        if is_tag:
            continue
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            continue
        path.append(part)
    return tuple(path)


def _format_path(path: Loc) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _at(filename: str, data: Any, marks: dict[Loc, yaml.Mark], loc: Loc, message: str) -> ShowProblem:
    path = _data_path(data, loc)
    mark = marks.get(path) or marks.get(())
    return ShowProblem(filename, mark.line + 1, mark.column + 1, _format_path(path), message)


def _problem(filename: str, data: Any, marks: dict[Loc, yaml.Mark], err: dict) -> ShowProblem:
    loc = tuple(err["loc"])
    message = err["msg"]
    if err["type"] == "union_tag_invalid":
        loc = loc + ("type",)
        message = f"unknown cue type {err['input'].get('type')!r}; expected one of {err['ctx']['expected_tags']}"
    elif err["type"] == "union_tag_not_found":
        message = "a cue needs a 'type' (display, prompt, osc, record, light, wait, note, stop, group)"
    elif err["type"] == "extra_forbidden":
        path = _data_path(data, loc)
        key_mark = marks.get(path[:-1] + (path[-1], "<key>")) if path else None
        problem = _at(filename, data, marks, loc, f"unknown field '{loc[-1]}'")
        if key_mark:
            return ShowProblem(filename, key_mark.line + 1, key_mark.column + 1, problem.path, problem.message)
        return problem
    elif err["type"] == "missing":
        message = f"missing required field '{loc[-1]}'"
    return _at(filename, data, marks, loc, message)


def _reference_errors(show: Show) -> list[tuple[Loc, str]]:
    """Names a show refers to must exist, and names must be unique."""
    errors: list[tuple[Loc, str]] = []
    for section, key in (("displays", "name"), ("prompts", "id"), ("osc_targets", "name"), ("rigs", "name")):
        seen: set[str] = set()
        for index, item in enumerate(getattr(show, section)):
            value = getattr(item, key)
            if value in seen:
                errors.append(((section, index, key), f"duplicate {key} '{value}'"))
            seen.add(value)
    displays = {d.name for d in show.displays}
    prompts = {p.id for p in show.prompts}
    rigs = {r.name for r in show.rigs}
    cue_ids: set[str] = set()

    def walk(cues: tuple, loc: Loc) -> None:
        for index, cue in enumerate(cues):
            here = loc + (index,)
            if cue.id in cue_ids:
                errors.append((here + ("id",), f"duplicate cue id '{cue.id}'"))
            cue_ids.add(cue.id)
            if isinstance(cue, DisplayCue) and cue.display not in displays:
                errors.append((here + ("display",), f"no display named '{cue.display}' (displays: {sorted(displays)})"))
            if isinstance(cue, DisplayCue) and cue.rig is not None and cue.rig not in rigs:
                errors.append((here + ("rig",), f"no rig named '{cue.rig}' (rigs: {sorted(rigs)})"))
            if isinstance(cue, PromptCue) and cue.prompt not in prompts:
                errors.append((here + ("prompt",), f"no prompt with id '{cue.prompt}' (prompts: {sorted(prompts)})"))
            if isinstance(cue, OscCue):
                errors.extend(_osc_errors(cue, here, show))
            if isinstance(cue, RecordCue) and cue.rig not in rigs:
                errors.append((here + ("rig",), f"no rig named '{cue.rig}' (rigs: {sorted(rigs)})"))
            if isinstance(cue, GroupCue):
                for child_index, child in enumerate(cue.cues):
                    if child.continue_mode != "none":
                        errors.append((here + ("cues", child_index, "continue"),
                                       "continue applies to top-level cues; a group runs its own children"))
                walk(cue.cues, here + ("cues",))

    walk(show.cues, ("cues",))
    for index, cue in enumerate(show.panic.osc):
        if isinstance(cue, OscCue):
            errors.extend(_osc_errors(cue, ("panic", "osc", index), show))
    return errors


def _file_errors(show: Show, base: Path) -> list[tuple[Loc, str]]:
    """Files a show names (display logos) must exist beside it and be PNG or JPEG pictures."""
    errors: list[tuple[Loc, str]] = []
    for index, display in enumerate(show.displays):
        if display.theme.logo is None:
            continue
        problem = logo_problem(base, display.theme.logo)
        if problem:
            errors.append((("displays", index, "theme", "logo"), problem))
    return errors


def logo_problem(base: Path, logo: str) -> str | None:
    path = (base / logo).resolve()
    if not path.is_file():
        return f"no logo file at {path}"
    try:
        with Image.open(path) as image:
            image.verify()
            kind = image.format
    except (OSError, Image.DecompressionBombError) as exc:
        return f"the logo {path.name} is not a picture Stage can read: {exc}"
    if kind not in ("PNG", "JPEG"):
        return f"the logo {path.name} is {kind}; use a PNG or JPEG"
    return None


def _osc_errors(cue: OscCue, here: Loc, show: Show) -> list[tuple[Loc, str]]:
    """The target must exist and its profile must be able to say what the cue asks."""
    target = next((t for t in show.osc_targets if t.name == cue.target), None)
    if target is None:
        names = sorted(t.name for t in show.osc_targets)
        return [(here + ("target",), f"no OSC target named '{cue.target}' (targets: {names})")]
    try:
        messages_for(cue, target)
    except StageError as exc:
        return [(here + ("intent" if cue.intent else "args",), exc.message)]
    return []
