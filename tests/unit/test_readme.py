"""The README's walkthrough (its ``sh`` blocks, then the first ``python`` block) runs top to
bottom in a fresh workspace: every job and endpoint name is created once, a model or job is
used only after it was created, an A/B report comes before the update that replaces its
variants, and the ground-truth format is documented. Options it uses exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from mlyard.cli.main import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks(language: str, text: str | None = None) -> list[str]:
    source = README.read_text() if text is None else text
    return re.findall(rf"^```{language}\n(.*?)^```", source, flags=re.S | re.M)


def _commands(block: str) -> list[list[str]]:
    """The ``mlyard`` command lines of a shell block (continuations joined, comments and
    heredoc bodies dropped), each split into words."""
    lines, out, heredoc = block.replace("\\\n", " ").splitlines(), [], None
    for line in lines:
        if heredoc is not None:
            heredoc = None if line.strip() == heredoc else heredoc
            continue
        found = re.search(r"<<'?(\w+)'?", line)
        if found:
            heredoc = found.group(1)
        code = line.split(" #", 1)[0].strip()
        start = code.find("mlyard ")
        if start < 0 or code.startswith("#"):
            continue
        lexer = shlex.shlex(code[start:], posix=True, punctuation_chars=True)
        words = []
        for token in lexer:  # up to the first pipe, redirection or ")"
            if set(token) <= set("();<>|&"):
                break
            words.append(token)
        out.append(words)
    return out


def _walkthrough() -> list[list[str]]:
    return [words for block in _blocks("sh") for words in _commands(block)]


def _option(words: list[str], name: str) -> str | None:
    return words[words.index(name) + 1] if name in words else None


def test_the_walkthrough_is_found() -> None:
    words = _walkthrough()
    assert len(words) >= 25
    assert any(w[:2] == ["mlyard", "demo"] for w in words)


def test_names_are_created_once_and_used_after_they_exist() -> None:
    jobs: list[str] = ["demo"]  # the demo's own jobs are not used by name
    endpoints: list[str] = []
    problems = []
    for words in _walkthrough():
        verb = words[1:3] if len(words) > 2 else words[1:]
        if words[1] in ("train", "tune", "process", "transform", "tokenize"):
            name = _option(words, "--name")
            if name is not None:
                if name in jobs:
                    problems.append(f"job {name} created twice")
                jobs.append(name)
        for model in [_option(words, "--model")] + [
            v.split("=", 1)[1].split(":", 1)[0]
            for i, v in enumerate(words)
            if i and words[i - 1] == "--variant" and "=" in v
        ]:
            if model is not None and model not in jobs:
                problems.append(f"{' '.join(words[:3])} uses model {model} before it exists")
        if verb == ["endpoints", "create"]:
            if words[3] in endpoints:
                problems.append(f"endpoint {words[3]} created twice")
            endpoints.append(words[3])
        elif words[1] == "endpoints" and len(words) > 3 and verb[1] != "create":
            if words[3] not in endpoints:
                problems.append(f"{' '.join(words[:4])} before the endpoint exists")
            if verb[1] == "delete":
                endpoints.remove(words[3])
        elif (
            words[1] in ("jobs", "tuning")
            and len(words) > 3
            and not words[3].startswith("-")
            and words[3] not in jobs
        ):
            problems.append(f"{' '.join(words[:4])} before the job exists")
    assert problems == []
    sdk = _blocks("python")[0]
    for name in re.findall(r'job_name="([^"]+)"', sdk):
        assert name not in jobs, f"the SDK block reuses job {name}"
    created = re.findall(r'(?:endpoint_name=|create_endpoint\()"([^"]+)"', sdk)
    assert created and not set(created) & {"reviews"}, created
    for model in re.findall(r'production_variant\("([^"]+)"', sdk):
        assert model in jobs, f"the SDK block uses model {model} the walkthrough never made"


def test_report_runs_before_the_update_that_replaces_the_variants() -> None:
    order = [" ".join(w[1:4]) for w in _walkthrough() if w[1] == "endpoints"]
    assert "endpoints report reviews" in order and "endpoints update reviews" in order
    assert order.index("endpoints report reviews") < order.index("endpoints update reviews")


def test_jobs_stop_only_stops_a_job_started_without_waiting() -> None:
    waited = {_option(w, "--name") for w in _walkthrough() if "--no-wait" not in w}
    stopped = [w[3] for w in _walkthrough() if w[1:3] == ["jobs", "stop"]]
    assert stopped and not set(stopped) & waited


def test_ground_truth_format_is_documented() -> None:
    text = README.read_text()
    assert '{"eventId": "<id>", "label": "<label>"}' in text
    assert "x-mlyard-event-id" in text and "eventId,label" in text


def test_every_walkthrough_option_exists() -> None:
    problems = []
    for words in _walkthrough():
        command: click.Command = cli
        ctx_words = words[1:]
        while isinstance(command, click.Group) and ctx_words and ctx_words[0] in command.commands:
            command = command.commands[ctx_words.pop(0)]
        known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for word in ctx_words:
            if word.startswith("--") and word.split("=", 1)[0] not in known:
                problems.append(f"{' '.join(words[:3])}: {word}")
    assert problems == []


def test_the_command_parser_sees_through_continuations_and_heredocs() -> None:
    block = "cat > x <<'EOF'\nmlyard not-this\nEOF\nmlyard train --name a \\\n  --hp x=1  # c\n"
    assert _commands(block) == [["mlyard", "train", "--name", "a", "--hp", "x=1"]]
