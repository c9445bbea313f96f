"""The Python examples of README.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_has_python_examples() -> None:
    blocks = _python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    assert any("hypsa.analyze(raw)" in b for b in blocks)
    assert any("to_annotations()" in b for b in blocks)


@pytest.mark.slow
def test_readme_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fenced python block, in order, in one namespace, in an empty folder."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for i, block in enumerate(_python_blocks(README.read_text(encoding="utf-8"))):
        code = compile(block, f"README.md python block {i + 1}", "exec")
        exec(code, namespace)  # noqa: S102 - the README's own examples
    assert (tmp_path / "infant.edf").is_file()
    assert any((tmp_path / "results").glob("*.summary.json"))
    raw = namespace["raw"]
    assert "spasm_cluster" in set(raw.annotations.description)  # type: ignore[attr-defined]
