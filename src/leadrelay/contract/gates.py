"""Gate evaluation: does a lead meet a list of requirements, and if not, what is missing.

Pure: it takes the contract and the facts of one lead and touches no database,
so the audit, the import and the live workflow all judge a lead the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from leadrelay.contract.model import REQUIREMENTS, Contract


@dataclass(frozen=True)
class LeadFacts:
    external_id: str = ""
    email: str = ""
    phone: str = ""
    name: str = ""
    company: str = ""
    source: str = ""
    campaign: str = ""
    industry: str = ""
    company_size: str = ""
    employees: int | None = None
    location: str = ""
    intent: str = ""
    owner: str = ""
    next_action: str = ""
    next_action_owner: str = ""
    next_action_due: datetime | None = None
    first_outreach_at: datetime | None = None
    has_first_outreach: bool = False
    loss_reason: str = ""
    loss_note: str = ""


def missing(
    contract: Contract, requires: tuple[str, ...], lead: LeadFacts
) -> list[str]:
    """Return what the lead lacks of `requires`, named for a person, in order."""
    out: list[str] = []
    for name in requires:
        out.extend(_check(contract, name, lead))

    return out


def missing_for_stage(contract: Contract, stage_key: str, lead: LeadFacts) -> list[str]:
    return missing(contract, contract.stage(stage_key).requires, lead)


def missing_for_handoff(contract: Contract, lead: LeadFacts) -> list[str]:
    return missing(contract, contract.handoff, lead)


def has(contract: Contract, name: str, lead: LeadFacts) -> bool:
    return not _check(contract, name, lead)


def icp_misfits(contract: Contract, lead: LeadFacts) -> list[str]:
    """Return the ICP dimensions on which a tagged lead falls outside the profile."""
    icp = contract.icp
    out = []
    if icp.industries and lead.industry and lead.industry.lower() not in icp.industries:
        out.append(f'industry "{lead.industry}" is outside the profile')

    if lead.employees is not None and not icp.company_size.admits(lead.employees):
        out.append(f"company size {lead.employees} is outside the profile")

    if icp.locations and lead.location and lead.location.lower() not in icp.locations:
        out.append(f'location "{lead.location}" is outside the profile')

    return out


def is_one_sentence(note: str) -> bool:
    """Return whether a note is a single sentence: words, at most one full stop at the end."""
    text = note.strip()
    if len(text.split()) < 2:
        return False

    # Split on sentence ends followed by more words; "e.g." and decimals such
    # as "3.5" do not end a sentence because no space and capital follow.
    ends = re.findall(r"[.!?]+\s+[A-Z0-9]", text)
    return not ends and "\n" not in text


def note_problem(contract: Contract, note: str) -> str | None:
    """Return what is wrong with a loss note under the contract's rule, or None."""
    rule = contract.note_rule
    if rule == "optional":
        return None

    if not note.strip():
        return "a note is required"

    if rule == "one_sentence" and not is_one_sentence(note):
        return "the note must be one sentence of at least two words"

    return None


def _present(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def _check(contract: Contract, name: str, lead: LeadFacts) -> list[str]:
    label = REQUIREMENTS[name]
    if name == "identity":
        ok = any(_present(v) for v in (lead.email, lead.phone, lead.external_id))
        return [] if ok else [label]

    if name == "company_size":
        ok = _present(lead.company_size) or lead.employees is not None
        return [] if ok else [label]

    if name == "next_action":
        out = []
        if not _present(lead.next_action):
            out.append("next action")
        if not _present(lead.next_action_owner) and not _present(lead.owner):
            out.append("next action owner")
        if lead.next_action_due is None:
            out.append("next action due time")
        return out

    if name == "first_outreach":
        return [] if lead.has_first_outreach else [label]

    if name == "icp_fit":
        misfits = icp_misfits(contract, lead)
        untagged = [
            REQUIREMENTS[n]
            for n in ("industry", "company_size", "location")
            if _check(contract, n, lead)
        ]
        return misfits + untagged

    if name == "loss_reason":
        ok = lead.loss_reason in contract.loss_reason_keys()
        return [] if ok else [label]

    if name == "loss_note":
        problem = note_problem(contract, lead.loss_note)
        return [] if problem is None else [label]

    value = getattr(lead, name)
    return [] if _present(value) else [label]
