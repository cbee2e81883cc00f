"""The examples of docs/cancellation.rst run, on every backend, and print what the
page says they print."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

import anyrun

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cancellation.rst"

_BLOCK = re.compile(
    r"^\.\. code-block:: python\n\n(?P<code>(?:    .*\n|\n)+?)"
    r"\.\. code-block:: text\n\n(?P<output>(?:    .*\n|\n)+)",
    re.MULTILINE,
)


def _dedent(text: str) -> str:
    return "".join(line[4:] + "\n" for line in text.rstrip().splitlines())


def examples() -> list[Any]:
    found = []
    for number, match in enumerate(_BLOCK.finditer(PAGE.read_text()), 1):
        code, output = _dedent(match["code"]), _dedent(match["output"])
        marks = []
        if "except*" in code and sys.version_info < (3, 11):
            marks.append(pytest.mark.skip(reason="except* is new in Python 3.11"))
        found.append(pytest.param(code, output, id=f"example{number}", marks=marks))
    return found


EXAMPLES = examples()


def test_the_page_has_examples() -> None:
    assert len(EXAMPLES) >= 8


BACKENDS = [
    pytest.param("asyncio", {}, id="asyncio"),
    pytest.param("asyncio", {"use_uvloop": True}, id="asyncio+uvloop"),
    pytest.param("trio", {}, id="trio"),
]


@pytest.mark.parametrize(("backend", "options"), BACKENDS)
@pytest.mark.parametrize(("code", "output"), EXAMPLES)
def test_example(
    code: str,
    output: str,
    backend: str,
    options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if options.get("use_uvloop"):
        pytest.importorskip("uvloop")
    if backend == "trio":
        pytest.importorskip("trio")
    real_run = anyrun.run

    def run(func: Any, *args: Any) -> Any:
        return real_run(func, *args, backend=backend, backend_options=options)

    monkeypatch.setattr(anyrun, "run", run)
    exec(compile(code, str(PAGE), "exec"), {"__name__": "__example__"})
    assert capsys.readouterr().out == output
