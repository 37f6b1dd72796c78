"""SlipCover's findings in coverage.py's terms: the arcs coverage.py would have recorded for what SlipCover saw.

Both engines agree on lines. For branches, SlipCover marks each decision at the statement that decides, with
an edge to where control went (``0``: out of the code object); coverage.py's arcs are between lines, and a few
constructs are decisions in different places (see :class:`Shape`). Everything here reads the file's source
(its AST, coverage.py's parser), once per file, and only for the files that ran.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

__all__ = ["EXIT", "Shape"]

EXIT = 0  # SlipCover's destination of a branch that leaves the code object


class Shape:
    """What coverage.py calls a branch where SlipCover marks it differently, for one file, read once.

    - SlipCover marks a ``match`` as one decision with an edge from the ``match`` line to the chosen case's body
      (or past the statement when no case matched); coverage.py has a decision at each ``case`` line: into its
      body, or on to the next case (the last one out of the statement). A SlipCover edge into case *i* is
      coverage.py's arcs through cases 0..i-1 and into body *i*.
    - A one-line ``def``/``class`` (``def f(): return 1``) is a decision for coverage.py: the statement goes on
      to the next one, the body returns. The body's own probe records its return (see ``slipcover_engine``);
      the line run as a statement goes on to every successor coverage.py knows besides that return.
    """

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self._possible: dict[int, list[int]] | None = None
        self.matches: dict[int, list[tuple[int, int]]] = {}
        self.one_liners: set[int] = set()
        self.skipped: dict[int, int] = {}
        self.fixed: dict[tuple[int, int], int] = {}
        try:
            tree = ast.parse(Path(filename).read_bytes())
        except (OSError, SyntaxError, ValueError):
            return
        self.fixed = _loop_else_targets(tree)
        compound = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._annotations_only(node)
            if isinstance(node, ast.Match):
                self.matches[node.lineno] = [(c.pattern.lineno, c.body[0].lineno) for c in node.cases]
            elif isinstance(node, compound) and node.body[-1].end_lineno == node.lineno:
                self.one_liners.add(node.lineno)

    def _annotations_only(self, function: ast.AST) -> None:
        """In a function, ``x: int`` alone runs nothing (a module or class evaluates it): coverage.py's arcs pass
        over it to the next statement, SlipCover's mark points at it."""
        todo = [function]
        while todo:
            node = todo.pop()
            for body in _bodies(node):
                for here, after in itertools.pairwise(body):
                    # a name only: ``self.x: int`` evaluates ``self``, a statement for both
                    if isinstance(here, ast.AnnAssign) and here.value is None and isinstance(here.target, ast.Name):
                        self.skipped[here.lineno] = after.lineno
            todo.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, ast.ClassDef))

    def possible(self, line: int) -> list[int]:
        """Where coverage.py's parser says ``line`` can go."""
        if self._possible is None:
            self._possible = _possible_arcs(self.filename)
        return self._possible.get(line, [])

    def exits(self, line: int) -> list[int]:
        return [to for to in self.possible(line) if to < 0] or [-line]

    def line_arcs(self, line: int) -> list[tuple[int, int]]:
        arcs = [(-line, line)]
        if line in self.one_liners:
            arcs.extend((line, to) for to in self.possible(line) if to != -line)
        return arcs

    def arcs(self, source: int, target: int) -> list[tuple[int, int]]:
        target = self.fixed.get((source, target), target)
        while target in self.skipped:
            target = self.skipped[target]
        cases = self.matches.get(source)
        if cases is None:
            return [(source, to) for to in self.exits(source)] if target == EXIT else [(source, target)]
        result: list[tuple[int, int]] = []
        for i, (case, body) in enumerate(cases):
            if body == target:
                return [*result, (case, body)]
            following = cases[i + 1][0] if i + 1 < len(cases) else None
            if following is not None:
                result.append((case, following))
            elif target == EXIT:
                result.extend((case, to) for to in self.exits(case))
            else:
                result.append((case, target))
        return result


_TRY = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
_DECISIONS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Match)


def _successors(tree: ast.AST, loop_else_loops_back: bool) -> dict[int, ast.AST | None]:
    """The statement each statement continues with (None: out of the code object), as SlipCover's branch
    marking computes it (``loop_else_loops_back``: it sends the end of a loop's ``else`` back to the loop) or
    as Python runs it."""
    after: dict[int, ast.AST | None] = {id(tree): None}
    for node in ast.walk(tree):  # breadth first: a node's successor is known before its children's
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            after[id(node)] = None
        own = after.get(id(node))
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.AST):
                after[id(value)] = own
            elif isinstance(node, ast.Match) and name == "cases":
                for case in value:
                    after[id(case)] = own
            elif isinstance(node, _TRY) and name == "handlers":
                for handler in value:
                    after[id(handler)] = node.finalbody[0] if node.finalbody else own
            elif isinstance(value, list):
                items = [v for v in value if isinstance(v, ast.AST)]
                for here, then in itertools.pairwise(items):
                    after[id(here)] = then
                if items:
                    after[id(items[-1])] = _block_end(node, name, own, loop_else_loops_back)
    return after


def _block_end(node: ast.AST, name: str, own: ast.AST | None, loop_else_loops_back: bool) -> ast.AST | None:
    """Where the last statement of ``node``'s block ``name`` continues."""
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and (name == "body" or loop_else_loops_back):
        return node
    if isinstance(node, _TRY) and name in ("body", "orelse"):
        if name == "body" and node.orelse:
            return node.orelse[0]
        if node.finalbody:
            return node.finalbody[0]
    return own


def _loop_else_targets(tree: ast.AST) -> dict[tuple[int, int], int]:
    """SlipCover sends a decision at the end of a loop's ``else`` block back to the loop line; Python (and
    coverage.py) go on after the loop. Maps SlipCover's edge to the right destination (0: out)."""
    marked, real = _successors(tree, True), _successors(tree, False)
    fixes: dict[tuple[int, int], int] = {}
    for node in ast.walk(tree):
        if isinstance(node, _DECISIONS):
            wrong, right = marked.get(id(node)), real.get(id(node))
            if wrong is not right:
                fixes[(node.lineno, getattr(wrong, "lineno", 0))] = getattr(right, "lineno", 0)
    return fixes


def _bodies(node: ast.AST) -> list[list[ast.stmt]]:
    return [v for f in ("body", "orelse", "finalbody") if isinstance(v := getattr(node, f, None), list) and v]


def _possible_arcs(filename: str) -> dict[int, list[int]]:
    """Every arc coverage.py's parser finds, by source line."""
    from coverage.exceptions import CoverageException
    from coverage.parser import PythonParser

    try:
        parser = PythonParser(filename=filename)
        parser.parse_source()
        possible = parser.arcs()
    except (CoverageException, OSError, SyntaxError):
        return {}
    result: dict[int, list[int]] = defaultdict(list)
    for a, b in possible:
        result[a].append(b)
    return dict(result)
