#!/usr/bin/env python3
"""Checks the shape of the tree (standard library only); run by scripts/test-all.sh.

    python3 scripts/check_tree.py

Fails (exit 1, listing every problem) when:

* a relative Markdown link in README.md or docs/*.md points to a file or directory that does not
  exist, or to a ``#anchor`` that no heading (or HTML ``id``/``name`` attribute) of the target
  Markdown file produces (in any other file only GitHub's line anchors, ``#L12`` or ``#L12-L20``,
  are accepted). Anchors follow GitHub's rules: the heading's text, lower-cased, spaces
  turned into ``-``, punctuation other than ``-`` and ``_`` dropped, ``-1``, ``-2``, ... added to
  repeated headings. Links inside code blocks and code spans are not links and are not checked;
* a Rust source file (``*.rs``) under a ``src/`` directory anywhere in the repository (``src/``,
  ``crates/*/src/``, ...) is longer than 500 lines.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 500
# directories never searched for Rust sources: build output, dependencies, virtualenvs
SKIP_DIRS = {"target", "node_modules", ".git"}

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
# [text](target "title") and ![alt](target); the target may be <wrapped>
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
                         r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ANCHOR = re.compile(r"<[a-zA-Z][^>]*\s(?:id|name)\s*=\s*[\"']([^\"']+)[\"']")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
LINE_ANCHOR = re.compile(r"^L\d+(-L\d+)?$")  # GitHub's line anchors in a source file


def markdown_lines(text: str) -> Iterator[Tuple[int, str, bool]]:
    """(line number, line, inside a fenced code block) for every line."""
    fence = ""
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip(" `~"):
                fence = ""
            yield number, line, True
            continue
        if m:
            fence = m.group(1)
            yield number, line, True
            continue
        yield number, line, False


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's Markdown text."""
    text = CODE_SPAN.sub(lambda m: m.group(2).strip(), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = re.sub(r"(?<![\w])_(\S(?:.*?\S)?)_(?![\w])", r"\1", text)  # _emphasis_
    out = []
    for ch in text.strip().lower():
        if ch.isalnum() or ch in "-_":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


def anchors(path: Path) -> Set[str]:
    """Every anchor a Markdown file produces."""
    found: Set[str] = set()
    seen: Dict[str, int] = {}

    def add(base: str) -> None:
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")

    previous = ""
    for _, line, in_code in markdown_lines(path.read_text(encoding="utf-8")):
        if in_code:
            previous = ""
            continue
        for name in HTML_ANCHOR.findall(line):
            found.add(name)
        m = ATX.match(line)
        if m:
            add(slug(m.group(2) or ""))
            previous = ""
            continue
        if SETEXT.match(line) and previous.strip() and not previous.lstrip().startswith(("|", "-", "*", "+", ">")):
            add(slug(previous.strip()))
            previous = ""
            continue
        previous = line
    return found


def links(text: str) -> Iterator[Tuple[int, str]]:
    """(line number, target) of every link outside code."""
    for number, line, in_code in markdown_lines(text):
        if in_code:
            continue
        bare = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)
        for m in INLINE_LINK.finditer(bare):
            yield number, m.group(1)
        m = REFERENCE_DEF.match(bare)
        if m:
            yield number, m.group(1)


def check_links(files: List[Path]) -> List[str]:
    problems: List[str] = []
    cache: Dict[Path, Set[str]] = {}
    for source in files:
        for number, target in links(source.read_text(encoding="utf-8")):
            target = target.strip("<>")
            if not target or SCHEME.match(target) or target.startswith("//"):
                continue  # absolute URLs (https:, mailto:) are not this check's business
            where = f"{source.relative_to(ROOT)}:{number}: link {target!r}"
            path_part, _, anchor = target.partition("#")
            path_part = unquote(path_part)
            if path_part.startswith("/"):
                dest = ROOT / path_part.lstrip("/")
            elif path_part:
                dest = source.parent / path_part
            else:
                dest = source
            dest = Path(os.path.normpath(dest))
            if not dest.exists():
                problems.append(f"{where}: no such file {os.path.relpath(dest, ROOT)}")
                continue
            if not anchor:
                continue
            if dest.is_dir() or dest.suffix.lower() not in (".md", ".markdown"):
                if dest.is_dir() or not LINE_ANCHOR.match(anchor):
                    problems.append(f"{where}: #{anchor} in a file that is not Markdown (only #L<n> lines)")
                continue
            if dest not in cache:
                cache[dest] = anchors(dest)
            if unquote(anchor) not in cache[dest]:
                problems.append(f"{where}: no heading of {os.path.relpath(dest, ROOT)} makes #{anchor}")
    return problems


def rust_sources() -> Iterator[Path]:
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIP_DIRS and not d.startswith("."))
        here = Path(directory)
        if "src" not in here.relative_to(ROOT).parts:
            continue
        for name in sorted(files):
            if name.endswith(".rs"):
                yield here / name


def check_sizes() -> List[str]:
    problems = []
    for path in rust_sources():
        with open(path, encoding="utf-8", errors="replace") as f:
            count = sum(1 for _ in f)
        if count > MAX_LINES:
            problems.append(f"{path.relative_to(ROOT)}: {count} lines (at most {MAX_LINES} in a src/ file)")
    return problems


def main() -> int:
    docs = sorted((ROOT / "docs").glob("*.md")) if (ROOT / "docs").is_dir() else []
    files = [p for p in [ROOT / "README.md", *docs] if p.is_file()]
    problems = check_links(files) + check_sizes()
    for problem in problems:
        print(f"check_tree: {problem}", file=sys.stderr)
    if problems:
        print(f"check_tree: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_tree: OK ({len(files)} Markdown files' links, Rust sources at most {MAX_LINES} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
