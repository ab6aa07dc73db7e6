"""A small Markdown-to-HTML converter for the contract's one-page rendering.

It knows what `contract.render.markdown` writes and nothing more: headings,
paragraphs, bullet lists, pipe tables and inline code. Every piece of text is
escaped first, so a contract cannot put markup on the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_CODE = re.compile(r"`([^`]+)`")
_RULE = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def to_html(text: str) -> SafeString:
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line:
            i += 1
            continue

        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")), 6)
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
            i += 1
            continue

        if line.startswith("|"):
            block, i = _take(lines, i, lambda s: s.startswith("|"))
            out.append(_table(block))
            continue

        if line.startswith("- "):
            block, i = _take(lines, i, lambda s: s.startswith("- "))
            items = "".join(f"<li>{_inline(item[2:])}</li>" for item in block)
            out.append(f"<ul>{items}</ul>")
            continue

        block, i = _take(
            lines, i, lambda s: bool(s.strip()) and not s.startswith(("#", "|", "- "))
        )
        out.append(f"<p>{_inline(' '.join(block))}</p>")

    return mark_safe("\n".join(out))


def _take(
    lines: list[str], start: int, belongs: Callable[[str], bool]
) -> tuple[list[str], int]:
    block = []
    i = start
    while i < len(lines) and belongs(lines[i].rstrip()):
        block.append(lines[i].rstrip())
        i += 1

    return block, i


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _table(rows: list[str]) -> str:
    head: list[str] = []
    body = rows
    if len(rows) > 1 and _RULE.match(rows[1]):
        head, body = _cells(rows[0]), rows[2:]

    parts = ['<div class="scroll"><table>']
    if head:
        cells = "".join(f'<th scope="col">{_inline(c)}</th>' for c in head)
        parts.append(f"<thead><tr>{cells}</tr></thead>")
    parts.append("<tbody>")
    for row in body:
        cells = "".join(f"<td>{_inline(c)}</td>" for c in _cells(row))
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def _inline(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", escape(text))
