"""Day 0 (clinical spec v2 §1.1, rules 1, 2, 3 and 10's day-0 part), both sides of each threshold."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from coachbot.domain.course import Course, begin
from coachbot.domain.phases import Group, Status
from coachbot.domain.triage import Escalation, Level, facts_of, has_program, intake_escalations
from tests.unit.rules import (
    CATALOGUE,
    FLAG_TABLE,
    LEVELS,
    STRAIN,
    TENDON,
    facts,
    reasons,
)

SIT_BONE = facts(location="upper", baseline_pain=7)  # sudden, age 30
URGENT = "fever_or_unwell"


def escalated_under_16(course: Course) -> bool:
    return Escalation(Level.ROUTINE, "under_16", 0) in course.escalations


def day0(**changes: object) -> tuple[Escalation, ...]:
    return begin(facts(**changes), (), CATALOGUE).escalations


class TestRedFlagsAtIntake:
    @pytest.mark.parametrize(("flag", "level"), [(f, lv) for f, lv, _ in FLAG_TABLE])
    def test_each_flag_escalates_with_its_level(self, flag: str, level: Level) -> None:
        """A red flag answered yes at enrolment escalates on day 0 with its own level and id."""
        assert intake_escalations(STRAIN, [flag], LEVELS) == (Escalation(level, flag, 0),)

    @pytest.mark.parametrize(("flag", "level"), [(f, lv) for f, lv, _ in FLAG_TABLE])
    def test_emergency_and_urgent_stop_routine_holds(self, flag: str, level: Level) -> None:
        """Emergency and urgent stop the program (no exercises); routine keeps it with a hold."""
        course = begin(STRAIN, [flag], CATALOGUE)
        if level is Level.ROUTINE:
            assert course.status is Status.ACTIVE and course.held
        else:
            assert course.status is Status.ESCALATED
        assert course.phase == "protect"

    def test_a_calm_strain_has_nothing_to_escalate(self) -> None:
        """A grade 1 strain at pain 5 enrols active, in protect, with no hold."""
        course = begin(STRAIN, (), CATALOGUE)
        assert (course.status, course.phase, course.held, course.escalations) == (
            Status.ACTIVE,
            "protect",
            False,
            (),
        )

    @pytest.mark.parametrize(
        ("walking", "flagged"), [("normal", False), ("limp", False), ("cannot", True)]
    )
    def test_cannot_walk_is_cannot_bear_weight(self, walking: str, flagged: bool) -> None:
        """`walking: cannot` counts as the urgent red flag cannot_bear_weight answered yes."""
        course = begin(facts(walking=walking), (), CATALOGUE)
        assert (Escalation(Level.URGENT, "cannot_bear_weight", 0) in course.escalations) is flagged
        assert (course.status is Status.ESCALATED) is flagged

    def test_cannot_walk_and_the_flag_escalate_once(self) -> None:
        """Answering the flag yes and `walking: cannot` is one cannot_bear_weight escalation."""
        course = begin(facts(walking="cannot"), ["cannot_bear_weight"], CATALOGUE)
        assert reasons(course) == [(0, "cannot_bear_weight")]


class TestReferralInjuries:
    @pytest.mark.parametrize(
        ("injury", "onset", "grade", "level"),
        [
            ("hamstring_avulsion", "sudden", None, Level.URGENT),
            ("hamstring_avulsion", "gradual", None, Level.URGENT),
            ("compartment_syndrome", "sudden", None, Level.EMERGENCY),
            ("compartment_syndrome", "gradual", None, Level.ROUTINE),
            ("hamstring_strain", "sudden", 3, Level.URGENT),
        ],
    )
    def test_referral_only_injuries_get_no_program(
        self, injury: str, onset: str, grade: int | None, level: Level
    ) -> None:
        """Avulsion, compartment syndrome (emergency if sudden) and a grade 3 strain: referral_injury,
        no program, status escalated."""
        f = facts(injury=injury, onset=onset, grade=grade, baseline_pain=4)
        course = begin(f, (), CATALOGUE)
        assert Escalation(level, "referral_injury", 0) in course.escalations
        assert not has_program(f)
        assert (course.phase, course.group, course.status) == (None, None, Status.ESCALATED)

    @pytest.mark.parametrize("grade", [None, 1, 2])
    def test_a_strain_below_grade_3_gets_a_home_program(self, grade: int | None) -> None:
        """Grades 1 and 2 and an unknown grade are not referred."""
        course = begin(facts(grade=grade), (), CATALOGUE)
        assert course.escalations == () and course.phase == "protect"

    def test_grade_3_counts_only_for_strains(self) -> None:
        """A grade given with another injury is ignored (§3: grade is for strains only)."""
        course = begin(facts(injury="hamstring_contusion", grade=3), (), CATALOGUE)
        assert course.escalations == () and course.status is Status.ACTIVE

    def test_referred_pain_keeps_its_program_with_a_hold(self) -> None:
        """Referred pain: routine referral_injury to find the source, from mobility, held."""
        f = facts(injury="referred_pain", onset="gradual", grade=None, baseline_pain=3)
        course = begin(f, (), CATALOGUE)
        assert course.escalations == (Escalation(Level.ROUTINE, "referral_injury", 0),)
        assert has_program(f)
        assert (course.phase, course.status, course.held) == ("mobility", Status.ACTIVE, True)


class TestUnder16:
    @pytest.mark.parametrize(("age", "program"), [(15, False), (16, True)])
    def test_the_bot_is_for_16_and_over(self, age: int, program: bool) -> None:
        """15: routine under_16, no program, escalated; 16: an ordinary program."""
        course = begin(facts(age=age), (), CATALOGUE)
        assert has_program(facts(age=age)) is program
        assert escalated_under_16(course) is not program
        if program:
            assert (course.phase, course.status) == ("protect", Status.ACTIVE)
        else:
            assert (course.phase, course.group, course.status) == (None, None, Status.ESCALATED)

    def test_urgent_advice_is_kept_for_under_16s(self) -> None:
        """An under-16 with a suspected avulsion and a red flag gets those escalations too."""
        course = begin(facts(age=14, location="upper", baseline_pain=8), [URGENT], CATALOGUE)
        found = {(e.level, e.reason) for e in course.escalations}
        assert {
            (Level.ROUTINE, "under_16"),
            (Level.URGENT, "suspected_avulsion"),
            (Level.URGENT, URGENT),
        } <= found


class TestRecurrentInjury:
    @pytest.mark.parametrize(
        ("injury", "recurrent"),
        [
            ("hamstring_strain", True),
            ("hamstring_contusion", True),
            ("hamstring_cramp", True),
            ("unsure", True),
            ("tight_hamstrings", False),
            ("referred_pain", False),
            ("hamstring_tendinopathy", False),
            ("ischiogluteal_bursitis", False),
        ],
    )
    def test_the_same_problem_within_12_months(self, injury: str, recurrent: bool) -> None:
        """`previous_injury` is a routine recurrent_injury for strains, contusions, cramps and
        `unsure` only; the program goes on with a hold."""
        f = facts(injury=injury, grade=None, previous_injury=True, baseline_pain=3)
        course = begin(f, (), CATALOGUE)
        assert (Escalation(Level.ROUTINE, "recurrent_injury", 0) in course.escalations) is recurrent
        assert course.status is Status.ACTIVE
        if recurrent:
            assert course.held

    def test_no_previous_injury_no_referral(self) -> None:
        """Without a previous injury a strain has no recurrent_injury escalation."""
        assert not any(e.reason == "recurrent_injury" for e in day0(previous_injury=False))


class TestSuspectedAvulsion:
    AVULSION = Escalation(Level.URGENT, "suspected_avulsion", 0)

    @pytest.mark.parametrize(
        ("change", "suspected"),
        [
            ({}, True),
            ({"age": 13}, False),
            ({"age": 14}, True),
            ({"age": 42}, True),
            ({"age": 80}, True),
            ({"baseline_pain": 6}, False),
            ({"baseline_pain": 7}, True),
            ({"onset": "gradual"}, False),
            ({"location": "middle"}, False),
            ({"location": "lower"}, False),
        ],
    )
    def test_boundaries(self, change: dict[str, object], suspected: bool) -> None:
        """Sudden, at the sit bone (upper), pain 7 or more, age 14 or over, adults too: urgent."""
        found = self.AVULSION in begin(facts(SIT_BONE, **change), (), CATALOGUE).escalations
        assert found is suspected

    @pytest.mark.parametrize(
        "injury", ["hamstring_strain", "tight_hamstrings", "hamstring_cramp", "unsure"]
    )
    def test_whatever_injury_was_picked(self, injury: str) -> None:
        """The escalation does not depend on the injury the user picked; it stops the program."""
        course = begin(facts(SIT_BONE, injury=injury, grade=None), (), CATALOGUE)
        assert self.AVULSION in course.escalations and course.status is Status.ESCALATED


class TestSevereIntakePain:
    SEVERE = Escalation(Level.URGENT, "severe_pain", 0)

    @pytest.mark.parametrize(
        ("onset", "baseline", "severe"),
        [("sudden", 8, False), ("sudden", 9, True), ("sudden", 10, True), ("gradual", 10, False)],
    )
    def test_sudden_onset_with_pain_9_or_10(self, onset: str, baseline: int, severe: bool) -> None:
        """A sudden onset with rest pain 9-10 at enrolment is urgent severe_pain; gradual never."""
        course = begin(facts(onset=onset, baseline_pain=baseline), (), CATALOGUE)
        assert (self.SEVERE in course.escalations) is severe
        assert (course.status is Status.ESCALATED) is severe

    def test_another_day_0_escalation_does_not_prevent_it(self) -> None:
        """An urgent red flag at enrolment and pain 9: both escalations are recorded."""
        course = begin(facts(baseline_pain=9), [URGENT], CATALOGUE)
        assert self.SEVERE in course.escalations
        assert Escalation(Level.URGENT, URGENT, 0) in course.escalations


class TestPrograms:
    @pytest.mark.parametrize(
        ("change", "phase", "group"),
        [
            ({}, "protect", Group.STANDARD),
            ({"grade": 2}, "protect", Group.SLOW),
            ({"mechanism": "stretch"}, "protect", Group.SLOW),
            ({"mechanism": "sprint"}, "protect", Group.STANDARD),
            ({"injury": "hamstring_contusion", "grade": None}, "protect", Group.STANDARD),
            (
                {"injury": "hamstring_contusion", "grade": None, "mechanism": "stretch"},
                "protect",
                Group.STANDARD,
            ),
            ({"injury": "hamstring_cramp", "grade": None}, "mobility", Group.GENTLE),
            ({"injury": "tight_hamstrings", "grade": None}, "mobility", Group.GENTLE),
            ({"injury": "referred_pain", "grade": None}, "mobility", Group.GENTLE),
            ({"injury": "hamstring_tendinopathy", "grade": None}, "isometric", Group.TENDON),
            ({"injury": "ischiogluteal_bursitis", "grade": None}, "isometric", Group.TENDON),
            ({"injury": "unsure", "grade": None, "onset_days_ago": 3}, "protect", Group.STANDARD),
            ({"injury": "unsure", "grade": None, "onset_days_ago": 4}, "isometric", Group.STANDARD),
            (
                {"injury": "unsure", "grade": None, "mechanism": "stretch"},
                "protect",
                Group.SLOW,
            ),
            (
                {"injury": "unsure", "grade": None, "onset": "gradual", "onset_days_ago": 0},
                "isometric",
                Group.TENDON,
            ),
        ],
    )
    def test_first_phase_and_group(
        self, change: dict[str, object], phase: str, group: Group
    ) -> None:
        """Each injury starts where §1.1 says, in its group."""
        course = begin(facts(**change), (), CATALOGUE)
        assert (course.phase, course.group) == (phase, group)

    def test_day_0_is_a_listed_transition(self) -> None:
        """Enrolment is the first transition, on day 0, with the first phase and status."""
        (first,) = begin(TENDON, (), CATALOGUE).transitions
        assert (first.day, first.phase, first.status) == (0, "isometric", Status.ACTIVE)


class TestFactsOf:
    def test_missing_optional_facts_take_their_defaults(self) -> None:
        """A user enrolled before v2 has the defaults: other, normal, no previous injury, everyday."""
        old = SimpleNamespace(injury="hamstring_strain", age=30, onset="sudden", onset_days_ago=1,
                              location="middle", baseline_pain=5, grade=None, mechanism=None)  # fmt: skip
        f = facts_of(old)
        assert (
            f.mechanism,
            f.walking,
            f.previous_injury,
            f.goal,
            f.activity,
            f.function_baseline,
        ) == (
            "other",
            "normal",
            False,
            "everyday",
            None,
            None,
        )

    def test_a_missing_required_fact_is_an_error(self) -> None:
        """Without a baseline pain there are no intake facts."""
        with pytest.raises(ValueError, match="baseline_pain"):
            facts_of(SimpleNamespace(injury="unsure", age=30, onset="sudden", onset_days_ago=1,
                                     location="middle"))  # fmt: skip

    def test_changes_override(self) -> None:
        """Changes given to facts_of win over the source's values."""
        assert facts_of(STRAIN, goal="sport").goal == "sport"
