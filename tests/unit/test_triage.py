"""Day-0 triage (clinical spec rules 1-3), with values on both sides of every threshold."""

from __future__ import annotations

from dataclasses import replace

import pytest

from coachbot.content import default_content
from coachbot.domain.course import begin
from coachbot.domain.phases import Status
from coachbot.domain.triage import (
    Escalation,
    IntakeFacts,
    Level,
    facts_escalations,
    has_program,
    intake_escalations,
)

LEVELS = {flag.id: flag.level for flag in default_content().red_flags}
CALM = IntakeFacts(
    injury="hamstring_strain",
    age=30,
    onset="sudden",
    onset_days_ago=1,
    location="middle",
    baseline_pain=4,
    grade=1,
)
YOUNG_SIT_BONE = replace(CALM, age=16, location="upper", baseline_pain=7)


class TestRedFlags:
    @pytest.mark.parametrize("flag", sorted(LEVELS))
    def test_each_red_flag_escalates_with_its_level(self, flag: str) -> None:
        """Any red flag answered yes escalates at day 0 with the spec's level and its id."""
        (escalation,) = intake_escalations(CALM, [flag], LEVELS)
        assert escalation == Escalation(LEVELS[flag], flag, 0)

    def test_levels_match_the_spec(self) -> None:
        """The content's levels are the spec's: 4 emergency, 5 urgent, 3 routine."""
        counts = {level: sum(1 for v in LEVELS.values() if v is level) for level in Level}
        assert counts == {Level.EMERGENCY: 4, Level.URGENT: 5, Level.ROUTINE: 3}

    def test_adding_a_red_flag_never_removes_an_escalation(self) -> None:
        """Escalations only accumulate as flags are added."""
        before = set(intake_escalations(YOUNG_SIT_BONE, ["fever_or_unwell"], LEVELS))
        after = set(
            intake_escalations(YOUNG_SIT_BONE, ["fever_or_unwell", "cold_pale_leg"], LEVELS)
        )
        assert before < after

    @pytest.mark.parametrize(
        ("flag", "stops"),
        [("cold_pale_leg", True), ("fever_or_unwell", True), ("hard_lump_after_bruise", False)],
    )
    def test_emergency_and_urgent_stop_exercise_routine_does_not(
        self, flag: str, stops: bool
    ) -> None:
        """Emergency and urgent stop the prompts; routine keeps the program going."""
        course = begin(CALM, [flag], LEVELS)
        assert (course.status is Status.ESCALATED) is stops


class TestReferralInjuries:
    @pytest.mark.parametrize(
        ("injury", "onset", "grade", "level", "program"),
        [
            ("hamstring_avulsion", "sudden", None, Level.URGENT, False),
            ("compartment_syndrome", "sudden", None, Level.EMERGENCY, False),
            ("compartment_syndrome", "gradual", None, Level.ROUTINE, False),
            ("hamstring_strain", "sudden", 3, Level.URGENT, False),
            ("referred_pain", "gradual", None, Level.ROUTINE, True),
        ],
    )
    def test_referral(
        self, injury: str, onset: str, grade: int | None, level: Level, program: bool
    ) -> None:
        """Referral injuries escalate at day 0 with reason referral_injury; only referred pain keeps a program."""
        facts = replace(CALM, injury=injury, onset=onset, grade=grade)
        assert facts_escalations(facts) == (Escalation(level, "referral_injury"),)
        assert has_program(facts) is program

    @pytest.mark.parametrize("grade", [None, 1, 2])
    def test_strain_below_grade_3_is_a_home_program(self, grade: int | None) -> None:
        """Grades 1-2 and an unknown grade get the program and no referral."""
        facts = replace(CALM, grade=grade)
        assert facts_escalations(facts) == ()
        assert has_program(facts)


class TestSuspectedAvulsion:
    def test_young_sudden_severe_sit_bone_pain(self) -> None:
        """16, sudden, upper, pain 7: urgent suspected_avulsion, whatever was picked."""
        for injury in ("hamstring_strain", "tight_hamstrings", "unsure"):
            facts = replace(YOUNG_SIT_BONE, injury=injury)
            assert Escalation(Level.URGENT, "suspected_avulsion") in facts_escalations(facts)

    @pytest.mark.parametrize(
        ("change", "suspected"),
        [
            ({"age": 13}, False),
            ({"age": 14}, True),
            ({"age": 18}, True),
            ({"age": 19}, False),
            ({"baseline_pain": 6}, False),
            ({"baseline_pain": 7}, True),
            ({"onset": "gradual"}, False),
            ({"location": "middle"}, False),
        ],
    )
    def test_boundaries(self, change: dict[str, object], suspected: bool) -> None:
        """Age 14-18 inclusive, pain 7 or more, sudden, upper: all four needed."""
        facts = replace(YOUNG_SIT_BONE, **change)  # type: ignore[arg-type]
        found = Escalation(Level.URGENT, "suspected_avulsion") in facts_escalations(facts)
        assert found is suspected
