"""conda.yaml (Robocorp environment) must list python=3.11 and exactly the pip pins of requirements.txt."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(lines: list[str], where: str) -> dict[str, str]:
    """``{normalised name: requirement}`` of ``name==version`` lines; anything else is an error."""
    pins: dict[str, str] = {}
    problems = []
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith(("--", "-r ", "-c ")):
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;]+)(\s*;.*)?", line)
        if not m:
            problems.append(f"{where}:{n}: {line!r} is not pinned as name==version")
            continue
        name = _norm(m.group(1))
        if name in pins:
            problems.append(f"{where}:{n}: {m.group(1)} is listed twice")
        pins[name] = f"{name}=={m.group(3)}{(m.group(4) or '').strip()}"
    assert not problems, "\n".join(problems)
    return pins


def conda_parts() -> tuple[list[str], list[str]]:
    data = yaml.safe_load((ROOT / "conda.yaml").read_text(encoding="utf-8"))
    deps = data["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = next((d["pip"] for d in deps if isinstance(d, dict) and "pip" in d), [])
    return conda, pip


def test_conda_has_python_311_and_pip():
    conda, _ = conda_parts()
    assert "python=3.11" in conda, f"conda.yaml must pin python=3.11, has {conda}"
    assert any(d == "pip" or d.startswith("pip=") for d in conda)


def test_conda_pip_pins_equal_requirements():
    req = parse_pins((ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines(), "requirements.txt")
    _, pip = conda_parts()
    conda = parse_pins([str(p) for p in pip], "conda.yaml pip")
    only_req = sorted(set(req) - set(conda))
    only_conda = sorted(set(conda) - set(req))
    differ = sorted(
        f"{k}: requirements {req[k]} vs conda {conda[k]}" for k in set(req) & set(conda) if req[k] != conda[k]
    )
    msg = []
    if only_req:
        msg.append("missing from conda.yaml: " + ", ".join(req[k] for k in only_req))
    if only_conda:
        msg.append("in conda.yaml but not requirements.txt: " + ", ".join(conda[k] for k in only_conda))
    if differ:
        msg.append("different versions: " + "; ".join(differ))
    assert not msg, "conda.yaml drifted from requirements.txt (copy the pins over):\n" + "\n".join(msg)


def test_parse_pins_catches_drift_and_unpinned_lines():
    import pytest

    assert parse_pins(["Foo_Bar==1.0  # c", "", "# x"], "t") == {"foo-bar": "foo-bar==1.0"}
    with pytest.raises(AssertionError, match="not pinned"):
        parse_pins(["requests>=2"], "t")
