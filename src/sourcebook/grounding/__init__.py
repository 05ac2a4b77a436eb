"""Grounding: claims of a report body verified against the passages they cite.

``claims`` splits a body into claims with their citation markers, ``resolve`` maps every citation form to
stored passages, ``align`` finds the span of a passage a claim follows (order-aware), ``consistency`` runs
the number / direction / negation / entity checks on that span, and ``verify`` turns all of it into a
verdict: quoted, supported, contradicted or unsupported, each with a one-line reason.
"""

from sourcebook.grounding.align import Alignment, align
from sourcebook.grounding.claims import Claim, split_claims
from sourcebook.grounding.verify import VERDICTS, Verdict, verify_claim, verify_text

__all__ = ["Alignment", "align", "Claim", "split_claims", "VERDICTS", "Verdict", "verify_claim", "verify_text"]
