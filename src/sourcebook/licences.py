"""Licences of the installed dependency closure, read with ``importlib.metadata``, and the policy that the
default install has no GPL/AGPL dependency (LGPL, MPL and permissive licences are fine)."""

from __future__ import annotations

import importlib.metadata as md
import re
from dataclasses import dataclass

from packaging.requirements import Requirement

_STRONG_COPYLEFT = re.compile(
    r"\b(?:A?GPL(?:-?v?\d[\d.]*)?(?:[-+]\S*)?|GNU\s+(?:Affero\s+)?General\s+Public\s+Licen[sc]e)", re.I)
_WEAK = re.compile(r"\bLGPL|Lesser\s+General|Library\s+General|GPL[- ]?compatible|with\s+GCC\s+exception", re.I)


@dataclass(frozen=True)
class Licence:
    """What a distribution declares about its licence."""

    name: str
    version: str
    expression: str     # License-Expression (SPDX), may be empty
    text: str           # License field, first line(s)
    classifiers: tuple[str, ...]

    @property
    def declared(self) -> str:
        return self.expression or self.text or "; ".join(self.classifiers)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def is_strong_copyleft(declared: str) -> bool:
    """Whether a licence declaration binds users to GPL/AGPL: it names one (LGPL and "GPL-compatible" do
    not count) and offers no permissive alternative (``GPL-2.0 OR MIT`` passes; a commercial one does not)."""
    if not _STRONG_COPYLEFT.search(_WEAK.sub("", declared)):
        return False
    choices = re.split(r"\s+OR\s+|\s*/\s*|\s+or\s+", declared)
    return not any(_permissive(c) and not _STRONG_COPYLEFT.search(_WEAK.sub("", c)) for c in choices)


def licence_of(dist: md.Distribution) -> Licence:
    """The licence a distribution declares: SPDX expression, licence field and classifiers."""
    meta = dist.metadata
    text = " ".join((meta.get("License") or "").split()[:40])
    classifiers = tuple(c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                        if c.startswith("License ::"))
    return Licence(meta.get("Name") or "", dist.version, (meta.get("License-Expression") or "").strip(),
                   text, classifiers)


def dependency_closure(root: str = "sourcebook", extras: tuple[str, ...] = ()) -> dict[str, md.Distribution]:
    """Installed distributions that ``root`` needs (with ``extras``), transitively, by normalised name."""
    found: dict[str, md.Distribution] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [(root, extras)]
    while todo:
        name, wanted = todo.pop()
        key = _normalise(name)
        if key in found:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        found[key] = dist
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is not None and not any(
                    req.marker.evaluate({"extra": e}) for e in (*wanted, "")):
                continue
            todo.append((req.name, tuple(req.extras)))
    return found


def copyleft_dependencies(root: str = "sourcebook", extras: tuple[str, ...] = ()) -> list[Licence]:
    """Distributions of the closure whose licence is GPL or AGPL only."""
    out = []
    for dist in dependency_closure(root, extras).values():
        lic = licence_of(dist)
        if any(is_strong_copyleft(p) for p in (lic.expression, lic.text, *lic.classifiers) if p):
            out.append(lic)
    return out


_PERMISSIVE = re.compile(r"\b(MIT|BSD|Apache|ISC|PSF|Python Software|MPL|Mozilla|Zlib|Unlicense|CC0|0BSD|HPND)\b",
                         re.I)


def _permissive(declared: str) -> bool:
    return bool(_PERMISSIVE.search(declared))
