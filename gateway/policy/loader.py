"""Load every policy file of a folder, resolve ``extends`` chains, report every problem.

Start-up, ``enclave policy check`` and hot reload all go through ``load_policy_set``: it
either returns a complete ``PolicySet`` or raises ``PolicyError`` listing each problem as
``file:line: field: problem``.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

import msgspec

from gateway.policy.merge import LayeredDocument, merge_over, single_layer
from gateway.policy.policy_set import DEFAULT_POLICY, PolicySet
from gateway.policy.problems import FieldProblem, PolicyError, Problem, sorted_unique
from gateway.policy.rules import rule_problems
from gateway.policy.schema import Policy, PolicyFile
from gateway.policy.source import DocumentUnreadable, SourceDocument, read_document
from gateway.policy.validate import find_problems

POLICY_SUFFIX = ".yaml"
_POLICY_STEM = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # department names (identity)


def load_policy_set(folder: Path) -> PolicySet:
    """Every department's resolved policy from ``folder``; ``PolicyError`` lists all problems."""
    documents, unreadable, problems = _read_folder(folder)
    resolver = _ChainResolver(documents, unreadable)
    policies: dict[str, Policy] = {}
    for name in sorted(documents):
        layered = resolver.resolve(name)
        if layered is None:
            continue
        outcome = _decode_policy(documents[name], layered, resolver.chain_of(name))
        if isinstance(outcome, Policy):
            policies[name] = outcome
        else:
            problems += outcome
    problems += resolver.problems
    if problems:
        raise PolicyError(sorted_unique(problems))
    return PolicySet(folder=folder, policies=MappingProxyType(policies))


def _read_folder(folder: Path) -> tuple[dict[str, SourceDocument], set[str], list[Problem]]:
    if not folder.is_dir():
        return {}, set(), [Problem(str(folder), None, "", "policy folder not found")]
    documents: dict[str, SourceDocument] = {}
    unreadable: set[str] = set()
    problems: list[Problem] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix not in (POLICY_SUFFIX, ".yml"):
            continue  # editors' swap files, READMEs
        problem = _file_name_problem(path)
        if problem is not None:
            problems.append(problem)
            continue
        try:
            documents[path.stem] = read_document(path)
        except DocumentUnreadable as exc:
            unreadable.add(path.stem)
            problems += exc.problems
    if DEFAULT_POLICY not in documents and DEFAULT_POLICY not in unreadable:
        missing = str(folder / f"{DEFAULT_POLICY}{POLICY_SUFFIX}")
        reason = "missing; departments without a policy file of their own use it"
        problems.append(Problem(missing, None, "", reason))
    return documents, unreadable, problems


def _file_name_problem(path: Path) -> Problem | None:
    if path.suffix != POLICY_SUFFIX:
        reason = f"rename to {path.stem}{POLICY_SUFFIX}; only {POLICY_SUFFIX} files are loaded"
        return Problem(str(path), None, "", reason)
    if not _POLICY_STEM.match(path.stem):
        reason = "the file name is the department: use lower-case letters, digits and '-'"
        return Problem(str(path), None, "", reason)
    return None


class _ChainResolver:
    """Merges each document over its ``extends`` chain; notes unknown parents and cycles."""

    def __init__(self, documents: dict[str, SourceDocument], unreadable: set[str]) -> None:
        self._documents = documents
        self._unreadable = unreadable
        self._resolved: dict[str, LayeredDocument | None] = {}
        self.problems: list[Problem] = []

    def resolve(self, name: str, visiting: tuple[str, ...] = ()) -> LayeredDocument | None:
        if name not in self._resolved:
            self._resolved[name] = self._resolve_new(name, visiting)
        return self._resolved[name]

    def chain_of(self, name: str) -> tuple[str, ...]:
        chain: list[str] = []
        parent = self._parent_name(self._documents[name])
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = self._parent_name(self._documents[parent])
        return tuple(chain)

    def _resolve_new(self, name: str, visiting: tuple[str, ...]) -> LayeredDocument | None:
        document = self._documents[name]
        parent = self._parent_name(document)
        if parent is None:
            return single_layer(document)
        if parent in (*visiting, name):
            cycle = (*visiting, name, parent)
            self._extends_problem(document, "cycle: " + " → ".join(cycle[cycle.index(parent) :]))
            return None
        if parent in self._unreadable:
            return None  # the parent's own problems say why
        if parent not in self._documents:
            known = ", ".join(sorted(self._documents)) or "none"
            self._extends_problem(document, f'no policy named "{parent}" (have: {known})')
            return None
        layered_parent = self.resolve(parent, (*visiting, name))
        return None if layered_parent is None else merge_over(layered_parent, document)

    def _parent_name(self, document: SourceDocument) -> str | None:
        parent = document.data.get("extends")
        return parent if isinstance(parent, str) else None  # other types: reported on decode

    def _extends_problem(self, document: SourceDocument, message: str) -> None:
        line = document.lines.get(("extends",), 1)
        self.problems.append(Problem(document.file, line, "extends", message))


def _decode_policy(
    document: SourceDocument, layered: LayeredDocument, chain: tuple[str, ...]
) -> Policy | list[Problem]:
    field_problems = find_problems(layered.data, PolicyFile)
    broken_sections = {str(problem.path[0]) for problem in field_problems if problem.path}
    field_problems += rule_problems(layered.data, broken_sections)
    if field_problems:
        return [layered.locate(problem) for problem in field_problems]
    try:
        decoded = msgspec.convert(layered.data, PolicyFile)
    except msgspec.ValidationError as exc:  # find_problems should have caught it; never pass it
        return [layered.locate(FieldProblem((), str(exc)))]
    return Policy(
        name=document.name,
        source=document.file,
        extends_chain=chain,
        description=decoded.description,
        models=decoded.models,
        limits=decoded.limits,
        rate_limits=decoded.rate_limits,
        pii=decoded.pii,
        audit=decoded.audit,
        cache=decoded.cache,
    )
