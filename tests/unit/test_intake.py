"""The enrolment questions (clinical spec v2 §1.2, §1.3): their order and what counts as a valid
answer."""

from __future__ import annotations

from datetime import time
from types import SimpleNamespace

import pytest

from coachbot.domain import intake
from coachbot.domain.intake import InvalidAnswer
from coachbot.domain.phases import Group
from coachbot.domain.screening import INTAKE, flags_asked
from tests.unit.rules import FLAGS as FLAG_LIST

FLAGS = ("a", "b")


def answers(**given: object) -> SimpleNamespace:
    """The answers given so far (any object with the intake facts' names)."""
    return SimpleNamespace(**given)


STRAIN = answers(injury="hamstring_strain", onset="sudden")


class TestSteps:
    def test_consent_comes_first(self) -> None:
        """Nothing is asked before consent."""
        assert intake.steps(answers(), FLAGS)[0] == intake.CONSENT

    @pytest.mark.parametrize(
        ("onset", "asked"), [("sudden", True), ("gradual", False), (None, False)]
    )
    def test_the_mechanism_only_for_a_sudden_onset(self, onset: str | None, asked: bool) -> None:
        """How it happened is asked after the onset days, and only when the onset was sudden."""
        order = intake.steps(answers(injury="unsure", onset=onset), FLAGS)
        assert (intake.MECHANISM in order) is asked
        if asked:
            assert order[order.index(intake.ONSET_DAYS) + 1] == intake.MECHANISM

    def test_the_grade_only_for_strains(self) -> None:
        """Only a strain has a grade question, right after the location."""
        strain = intake.steps(STRAIN, FLAGS)
        other = intake.steps(answers(injury="hamstring_cramp", onset="sudden"), FLAGS)
        assert strain[strain.index(intake.LOCATION) + 1] == intake.GRADE
        assert intake.GRADE not in other

    @pytest.mark.parametrize(("activity", "asked"), [("running", True), (None, False)])
    def test_the_function_score_only_after_a_named_activity(
        self, activity: str | None, asked: bool
    ) -> None:
        """ "How able are you to do it now?" follows a named activity; a skipped one goes on."""
        order = intake.steps(answers(injury="unsure", onset="gradual", activity=activity), FLAGS)
        assert intake.ACTIVITY in order
        assert (intake.FUNCTION_BASELINE in order) is asked
        following = intake.next_step(intake.ACTIVITY, answers(activity=activity), FLAGS)
        assert following == (intake.FUNCTION_BASELINE if asked else "red_flag:a")

    def test_the_v2_facts_are_asked_before_the_red_flags(self) -> None:
        """Walking, previous injury, baseline pain, goal and activity, in that order, then flags."""
        order = intake.steps(STRAIN, FLAGS)
        facts = [intake.WALKING_STEP, intake.PREVIOUS_INJURY, intake.BASELINE_PAIN, intake.GOAL,
                 intake.ACTIVITY]  # fmt: skip
        positions = [order.index(step) for step in facts]
        assert positions == sorted(positions)
        assert positions[-1] < order.index("red_flag:a")

    def test_every_red_flag_is_asked_before_the_reminder_time(self) -> None:
        """The screening asks each flag once, then the time and the zone end the dialog."""
        order = intake.steps(STRAIN, FLAGS)
        assert order[-4:] == ("red_flag:a", "red_flag:b", intake.REMINDER_TIME, intake.TIMEZONE)
        assert intake.next_step(intake.TIMEZONE, STRAIN, FLAGS) is None


class TestIntakeRedFlags:
    def asked(self, injury: str, onset_days_ago: int) -> tuple[str, ...]:
        return flags_asked(FLAG_LIST, INTAKE, injury=injury, group=Group.STANDARD,
                           onset_age=onset_days_ago, day=0)  # fmt: skip

    def test_daily_activities_are_never_asked_at_intake(self) -> None:
        """`limits_daily_activities` is a weekly question only (§1.3)."""
        assert "limits_daily_activities" not in self.asked("hamstring_strain", 30)

    @pytest.mark.parametrize(
        ("injury", "onset_days_ago", "asked"),
        [
            ("hamstring_contusion", 13, False),
            ("hamstring_contusion", 14, True),
            ("hamstring_strain", 14, False),
        ],
    )
    def test_a_hard_lump_for_a_contusion_two_weeks_old(
        self, injury: str, onset_days_ago: int, asked: bool
    ) -> None:
        """The hard-lump question is for a contusion whose onset is at least 14 days old."""
        assert ("hard_lump_after_bruise" in self.asked(injury, onset_days_ago)) is asked

    def test_the_rest_are_asked_in_content_order(self) -> None:
        """Every other I flag is asked at enrolment, in content order."""
        expected = tuple(
            f.id for f in FLAG_LIST if "I" in f.asked and f.id != "hard_lump_after_bruise"
        )
        assert self.asked("hamstring_strain", 1) == expected


class TestActivity:
    @pytest.mark.parametrize("text", ["skip", "Skip", " SKIP "])
    def test_skip_means_no_activity(self, text: str) -> None:
        """The activity question may be skipped."""
        assert intake.parse_activity(text) is None

    @pytest.mark.parametrize(("length", "ok"), [(1, True), (60, True), (61, False)])
    def test_at_most_60_characters(self, length: int, ok: bool) -> None:
        """An activity is free text of at most 60 characters."""
        if ok:
            assert intake.parse_activity("r" * length) == "r" * length
        else:
            with pytest.raises(InvalidAnswer) as error:
                intake.parse_activity("r" * length)
            assert error.value.step == intake.ACTIVITY

    def test_spaces_are_tidied(self) -> None:
        """Runs of spaces become one and the ends are trimmed."""
        assert intake.parse_activity("  climbing   stairs ") == "climbing stairs"

    @pytest.mark.parametrize("text", ["", "   ", "run\x00"])
    def test_empty_or_unprintable_is_refused(self, text: str) -> None:
        """Nothing, or control characters, is not an activity."""
        with pytest.raises(InvalidAnswer):
            intake.parse_activity(text)


class TestNumbers:
    @pytest.mark.parametrize(
        ("text", "age"), [("10", 10), (" 34 ", 34), ("110", 110), ("\u0663\u0664", 34)]
    )
    def test_ages_in_range(self, text: str, age: int) -> None:
        """10 to 110 years are ages, typed in any script's decimal digits."""
        assert intake.parse_age(text) == age

    @pytest.mark.parametrize("text", ["9", "111", "-3", "34.5", "thirty", "", "1e2", "\u00b2"])
    def test_ages_out_of_range_or_not_numbers(self, text: str) -> None:
        """Anything else is refused for the age question."""
        with pytest.raises(InvalidAnswer) as error:
            intake.parse_age(text)
        assert error.value.step == intake.AGE

    @pytest.mark.parametrize(
        ("text", "ok"), [("0", True), ("10", True), ("11", False), ("-1", False)]
    )
    def test_pain_is_zero_to_ten(self, text: str, ok: bool) -> None:
        """Pain is the 0-10 numeric rating scale, both ends included."""
        if ok:
            assert intake.parse_pain(text) == int(text)
        else:
            with pytest.raises(InvalidAnswer):
                intake.parse_pain(text)

    @pytest.mark.parametrize(("text", "ok"), [("0", True), ("3650", True), ("3651", False)])
    def test_onset_days(self, text: str, ok: bool) -> None:
        """Days since onset run from 0 (today) to ten years."""
        if ok:
            assert intake.parse_onset_days(text) == int(text)
        else:
            with pytest.raises(InvalidAnswer):
                intake.parse_onset_days(text)


class TestReminderTime:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("07:30", time(7, 30)),
            ("7:30", time(7, 30)),
            ("23:59", time(23, 59)),
            ("00:00", time(0, 0)),
            ("19.15", time(19, 15)),
        ],
    )
    def test_valid_times(self, text: str, expected: time) -> None:
        """24-hour HH:MM (or H:MM, HH.MM) is a reminder time."""
        assert intake.parse_reminder_time(text) == expected

    @pytest.mark.parametrize("text", ["24:00", "12:60", "7pm", "0730", "", "12:5"])
    def test_invalid_times(self, text: str) -> None:
        """Out-of-range or other formats are refused."""
        with pytest.raises(InvalidAnswer):
            intake.parse_reminder_time(text)


class TestTimezone:
    @pytest.mark.parametrize(
        ("text", "zone"),
        [
            ("Europe/Paris", "Europe/Paris"),
            ("europe/paris", "Europe/Paris"),
            ("America/New York", "America/New_York"),
            ("UTC", "UTC"),
            ("UTC+2", "Etc/GMT-2"),
            ("utc-5", "Etc/GMT+5"),
            ("+03:00", "Etc/GMT-3"),
            ("GMT+14", "Etc/GMT-14"),
            ("UTC-12", "Etc/GMT+12"),
            ("UTC+0", "UTC"),
        ],
    )
    def test_names_and_offsets_become_iana_names(self, text: str, zone: str) -> None:
        """Names in any case and whole-hour offsets are stored as IANA names."""
        assert intake.parse_timezone(text) == zone

    @pytest.mark.parametrize("text", ["Mars/Base", "UTC+15", "UTC-13", "+05:30", "", "x" * 300])
    def test_unknown_zones_are_refused(self, text: str) -> None:
        """Unknown names, impossible offsets and half-hour offsets are refused."""
        with pytest.raises(InvalidAnswer):
            intake.parse_timezone(text)

    def test_offset_zones_read_as_offsets(self) -> None:
        """Etc/GMT-2 is shown to a person as UTC+2 (POSIX signs are inverted)."""
        assert intake.zone_label("Etc/GMT-2") == "UTC+2"
        assert intake.zone_label("Etc/GMT+5") == "UTC-5"
        assert intake.zone_label("Europe/Rome") == "Europe/Rome"


class TestParseFact:
    def test_grade_unknown_is_stored_as_no_grade(self) -> None:
        """'I don't know' leaves the grade empty rather than guessing."""
        assert intake.parse_fact(intake.GRADE, "unknown", ()) == {"grade": None}
        assert intake.parse_fact(intake.GRADE, "3", ()) == {"grade": 3}

    def test_an_injury_must_be_one_of_the_content_ids(self) -> None:
        """A forged injury id is refused."""
        with pytest.raises(InvalidAnswer):
            intake.parse_fact(intake.INJURY, "broken_leg", ("hamstring_strain",))

    @pytest.mark.parametrize(
        ("step", "value", "expected"),
        [
            (intake.MECHANISM, "stretch", {"mechanism": "stretch"}),
            (intake.WALKING_STEP, "cannot", {"walking": "cannot"}),
            (intake.PREVIOUS_INJURY, "yes", {"previous_injury": True}),
            (intake.PREVIOUS_INJURY, "no", {"previous_injury": False}),
            (intake.GOAL, "sport", {"goal": "sport"}),
            (intake.ACTIVITY, "skip", {"activity": None}),
            (intake.FUNCTION_BASELINE, "0", {"function_baseline": 0}),
            (intake.FUNCTION_BASELINE, "10", {"function_baseline": 10}),
        ],
    )
    def test_the_v2_facts(self, step: str, value: str, expected: dict[str, object]) -> None:
        """Each new fact is stored under its spec name."""
        assert intake.parse_fact(step, value, ()) == expected

    @pytest.mark.parametrize(
        ("step", "value"),
        [
            (intake.MECHANISM, "fall"),
            (intake.WALKING_STEP, "crawl"),
            (intake.PREVIOUS_INJURY, "maybe"),
            (intake.GOAL, "marathon"),
            (intake.FUNCTION_BASELINE, "11"),
        ],
    )
    def test_values_outside_the_spec_are_refused(self, step: str, value: str) -> None:
        """Only the spec's values are answers; the error names the question."""
        with pytest.raises(InvalidAnswer) as error:
            intake.parse_fact(step, value, ())
        assert error.value.step == step
