"""The enrolment questions: their order and what counts as a valid answer."""

from __future__ import annotations

from datetime import time

import pytest

from coachbot.domain import intake
from coachbot.domain.intake import InvalidAnswer

FLAGS = ("a", "b")


class TestSteps:
    def test_a_strain_is_asked_its_grade_and_others_are_not(self) -> None:
        """Only a strain has a grade question, right after the location."""
        strain = intake.steps("hamstring_strain", FLAGS)
        other = intake.steps("hamstring_cramp", FLAGS)
        assert strain[strain.index(intake.LOCATION) + 1] == intake.GRADE
        assert intake.GRADE not in other

    def test_every_red_flag_is_asked_before_the_reminder_time(self) -> None:
        """The screening asks each flag once, then the time and the zone end the dialog."""
        order = intake.steps("unsure", FLAGS)
        assert order[-4:] == ("red_flag:a", "red_flag:b", intake.REMINDER_TIME, intake.TIMEZONE)
        assert intake.next_step(intake.TIMEZONE, "unsure", FLAGS) is None

    def test_consent_comes_first(self) -> None:
        """Nothing is asked before consent."""
        assert intake.steps(None, FLAGS)[0] == intake.CONSENT


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
