"""The fixed ids of shared/clinical-spec.md §1: content is checked against these."""

from __future__ import annotations

from coachbot.domain.triage import (
    NO_IMPROVEMENT,
    RECURRENT_FLARE,
    RECURRENT_INJURY,
    REFERRAL_INJURY,
    SEVERE_PAIN,
    SUSPECTED_AVULSION,
    UNDER_16,
    WORSENING,
    Level,
)

INJURIES = (
    "hamstring_strain",
    "hamstring_contusion",
    "hamstring_cramp",
    "tight_hamstrings",
    "referred_pain",
    "hamstring_tendinopathy",
    "ischiogluteal_bursitis",
    "hamstring_avulsion",
    "compartment_syndrome",
    "unsure",
)

RED_FLAG_LEVELS = {
    "saddle_numbness_or_bladder_bowel": Level.EMERGENCY,
    "cold_pale_leg": Level.EMERGENCY,
    "tense_swollen_thigh": Level.EMERGENCY,
    "breathless_or_chest_pain": Level.EMERGENCY,
    "calf_swelling_redness": Level.URGENT,
    "fever_or_unwell": Level.URGENT,
    "cannot_bear_weight": Level.URGENT,
    "pop_with_bruising": Level.URGENT,
    "numbness_tingling_or_weakness": Level.URGENT,
    "night_pain_or_weight_loss": Level.ROUTINE,
    "hard_lump_after_bruise": Level.ROUTINE,
    "limits_daily_activities": Level.ROUTINE,
}

# Escalation reasons that are not red-flag ids (spec §1.6): each has a message in content.
RULE_REASONS = (
    NO_IMPROVEMENT,
    WORSENING,
    RECURRENT_FLARE,
    SUSPECTED_AVULSION,
    REFERRAL_INJURY,
    UNDER_16,
    RECURRENT_INJURY,
    SEVERE_PAIN,
)
