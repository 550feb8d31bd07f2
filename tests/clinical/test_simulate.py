"""`coachbot simulate` (clinical spec v2 §3) on every shipped scenario, and on malformed ones.

Each scenario's expectation below was worked out by hand from the rules of spec §2 (the scenario's
comment says what it shows); the notes beside the less obvious ones give the arithmetic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from coachbot.cli import main
from coachbot.content import default_content
from coachbot.domain.vocabulary import INJURIES
from coachbot.paths import CONTENT_DIR

SCENARIOS = CONTENT_DIR / "scenarios"
E = tuple[int, str, str]  # an escalation: (day, level, reason)
T = tuple[int, str | None, str, str]  # a transition: (day, phase, status, reason)
W_STANDARD = 10  # W flags on day 7+: all but pop_with_bruising (I, R) and hard_lump (contusions)

# scenario: (escalations, transitions after day 0)
EXPECTED: dict[str, tuple[list[E], list[T]]] = {
    # protect -> isometric on day 1 (onset age 2, rating 1); 3 days + walk_normal asked on day 5;
    # 4 days of mobility + jog_slow "no" on day 10, not asked on 11, "yes" on 12; 7 days of
    # strength (13-19) + both checks on 20; 7 of return (21-27) + sprint_confident on 28;
    # 14 of maintain (29-42).
    "strain_recovers": ([], [(1, "isometric", "active", "progression"),
                             (5, "mobility", "active", "progression"),
                             (12, "strength", "active", "progression"),
                             (20, "return", "active", "progression"),
                             (28, "maintain", "active", "progression"),
                             (42, "maintain", "completed", "completed")]),
    # Group slow: protect needs onset age 3 (day 3); 5 days of isometric (4-8), check on 9;
    # 5 of mobility (10-14), walk_brisk (goal everyday) on 15.
    "strain_slow_overstretch": ([], [(3, "isometric", "active", "progression"),
                                     (9, "mobility", "active", "progression"),
                                     (15, "strength", "active", "progression")]),
    "strain_grade3_referral": ([(0, "urgent", "referral_injury")],
                               [(2, None, "completed", "cleared")]),
    # Cleared on day 3: one phase back from protect is protect; day 4's rating moves it on.
    "suspected_avulsion_adult": ([(0, "urgent", "suspected_avulsion")],
                                 [(3, "protect", "active", "cleared"),
                                  (4, "isometric", "active", "progression")]),
    # Day 1's 9 is not raised again (escalated by day 0's severe_pain); day 3's 10 starts a
    # flare-up (6+ after a 7) and escalates at once (a contusion).
    "severe_intake_pain": ([(0, "urgent", "severe_pain"), (3, "urgent", "severe_pain")],
                           [(2, "protect", "active", "cleared"), (3, "protect", "active", "flare_up"),
                            (3, "protect", "escalated", "severe_pain")]),
    # Day 2's fever is applied before its rating: escalated after day 0, so the 9 is not raised.
    "under_16": ([(0, "routine", "under_16"), (2, "urgent", "fever_or_unwell")],
                 [(3, None, "completed", "cleared")]),
    "recurrent_injury_seen": ([(0, "routine", "recurrent_injury")],
                              [(1, "isometric", "active", "progression"),
                               (5, "mobility", "active", "progression"),
                               (11, "strength", "active", "progression")]),
    "walking_cannot": ([(0, "urgent", "cannot_bear_weight")], []),
    # Ratings 5 x 7 from a baseline of 5: mean 5 > 5 - 1.5, slope 0.
    "no_improvement": ([(7, "routine", "no_improvement")], [(1, "isometric", "active", "progression")]),
    # 5 (day 1), skip, 5, 6: three ratings >= 3 + 2 and > 2; day 1 is 2 above the baseline.
    "worsening": ([(4, "routine", "worsening")], [(1, "protect", "active", "flare_up")]),
    # Day 7: the last three ratings 1, 4, 2 average 7/3 > 3 - 0.9 and the week's slope is up:
    # no improvement. Day 12's flare-up is 6 days after day 6's.
    "flare_regression": ([(7, "routine", "no_improvement"), (12, "routine", "recurrent_flare")],
                         [(1, "isometric", "active", "progression"),
                          (5, "mobility", "active", "progression"),
                          (6, "isometric", "active", "flare_up"),
                          (10, "mobility", "active", "progression"),
                          (12, "isometric", "active", "flare_up")]),
    "red_flag_during_course": ([(3, "urgent", "calf_swelling_redness")],
                               [(1, "isometric", "active", "progression"),
                                (3, "isometric", "escalated", "calf_swelling_redness"),
                                (5, "protect", "active", "cleared"),
                                (6, "isometric", "active", "progression")]),
    "weekly_screen_yes": ([(7, "urgent", "numbness_tingling_or_weakness")],
                          [(7, "isometric", "escalated", "numbness_tingling_or_weakness")]),
    # Tendons: 14 days of isometric (0-13) + check on 14; 7 of mobility (15-21) + check on 22.
    "tendinopathy_upper": ([], [(14, "mobility", "active", "progression"),
                                (22, "strength", "active", "progression")]),
    "bursitis": ([], []),
    "silence": ([], [(8, "mobility", "paused", "silence"), (9, "mobility", "active", "returned")]),
    # The onset is 10 days old: one 8 is not enough; the second, a day later, is.
    "severe_pain_twice": ([(2, "urgent", "severe_pain")],
                          [(1, "protect", "active", "flare_up"),
                           (2, "protect", "escalated", "severe_pain")]),
    "exercise_pain_regression": ([], [(1, "isometric", "active", "progression"),
                                      (5, "mobility", "active", "progression"),
                                      (7, "isometric", "active", "exercise_pain")]),
    "intake_emergency_flag": ([(0, "emergency", "cold_pale_leg")],
                              [(2, "protect", "active", "cleared"),
                               (3, "isometric", "active", "progression")]),
    "intake_routine_flag": ([(0, "routine", "night_pain_or_weight_loss")],
                            [(1, "isometric", "active", "progression")]),
    "referred_pain": ([(0, "routine", "referral_injury")], [(9, "strength", "active", "progression")]),
    "contusion_hard_lump": ([], [(1, "isometric", "active", "progression")]),
    "cramp": ([], [(4, "strength", "active", "progression")]),
    "tight_hamstrings": ([], [(4, "strength", "active", "progression")]),
    "avulsion_referral": ([(0, "urgent", "referral_injury")], []),
    "compartment_sudden": ([(0, "emergency", "referral_injury")], []),
    "compartment_gradual": ([(0, "routine", "referral_injury")], []),
    "unsure_acute": ([], [(1, "isometric", "active", "progression")]),
    "unsure_gradual": ([], []),
    "function_improves": ([], []),
}  # fmt: skip


def simulate(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["simulate", str(path), "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def day(result: dict[str, Any], number: int) -> dict[str, Any]:
    found: dict[str, Any] = result["days"][number]
    assert found["day"] == number
    return found


def ids(entry: dict[str, Any]) -> list[str]:
    return [exercise["id"] for exercise in entry["exercises"]]


class TestShippedScenarios:
    def test_every_shipped_scenario_has_an_expectation(self) -> None:
        """No scenario ships untested, and every injury has one."""
        assert {path.stem for path in SCENARIOS.glob("*.yaml")} == set(EXPECTED)
        injuries = {yaml.safe_load(p.read_text())["injury"] for p in SCENARIOS.glob("*.yaml")}
        assert injuries == set(INJURIES)

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    def test_scenario_gives_the_hand_worked_escalations_and_transitions(
        self, name: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each scenario's escalations and every change of phase or status, with its reason."""
        escalations, transitions = EXPECTED[name]
        result = simulate(SCENARIOS / f"{name}.yaml", capsys)
        assert [(e["day"], e["level"], e["reason"]) for e in result["escalations"]] == escalations
        assert [(t["day"], t["phase"], t["status"], t["reason"])
                for t in result["transitions"]] == transitions  # fmt: skip


class TestWhatEachDayAsks:
    def test_checks_are_asked_the_day_after_a_d_hold_and_not_after_a_no(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """jog_slow is asked on day 10, not on 11 (answered no on 10), again on 12."""
        result = simulate(SCENARIOS / "strain_recovers.yaml", capsys)
        asks = {d["day"]: d["asks"] for d in result["days"] if d["asks"]}
        assert asks == {5: ["walk_normal"], 10: ["jog_slow"], 12: ["jog_slow"],
                        20: ["jog_moderate", "strength_match"], 28: ["sprint_confident"]}  # fmt: skip

    def test_the_weekly_screen_is_on_every_7th_day(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Days 7, 14, ... carry the W flags; the enrolment screening is not listed on day 0."""
        result = simulate(SCENARIOS / "strain_recovers.yaml", capsys)
        screened = [d["day"] for d in result["days"] if d["screen"]]
        assert screened == [7, 14, 21, 28, 35, 42]
        assert len(day(result, 7)["screen"]) == W_STANDARD
        assert day(result, 0)["screen"] == []

    def test_daily_activities_join_the_screen_from_day_14_for_slow_injuries(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = simulate(SCENARIOS / "strain_slow_overstretch.yaml", capsys)
        assert "limits_daily_activities" not in day(result, 7)["screen"]
        assert "limits_daily_activities" in day(result, 14)["screen"]

    def test_a_contusion_is_asked_about_a_hard_lump_once_two_weeks_old(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = simulate(SCENARIOS / "contusion_hard_lump.yaml", capsys)
        assert "hard_lump_after_bruise" in day(result, 7)["screen"]
        assert len(day(result, 7)["screen"]) == W_STANDARD + 1

    def test_a_flare_up_and_severe_pain_re_screen_that_day(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The R flags (pop_with_bruising included, night pain not) on the flare-up days."""
        result = simulate(SCENARIOS / "flare_regression.yaml", capsys)
        assert "pop_with_bruising" in day(result, 6)["screen"]
        assert "night_pain_or_weight_loss" not in day(result, 6)["screen"]
        assert day(result, 5)["screen"] == []
        severe = simulate(SCENARIOS / "severe_pain_twice.yaml", capsys)
        assert day(severe, 1)["screen"] and day(severe, 2)["screen"]

    def test_a_hold_asks_seen_weekly_and_seen_lifts_it(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = simulate(SCENARIOS / "recurrent_injury_seen.yaml", capsys)
        assert day(result, 7)["asks"] == ["seen"]
        assert [d["held"] for d in result["days"][9:12]] == [True, True, False]
        assert day(result, 11)["asks"] == ["walk_brisk"]

    def test_the_function_score_is_asked_weekly_when_an_activity_was_named(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = simulate(SCENARIOS / "function_improves.yaml", capsys)
        assert [d["day"] for d in result["days"] if "function" in d["asks"]] == [7, 14]

    def test_an_under_16_is_asked_nothing(self, capsys: pytest.CaptureFixture[str]) -> None:
        result = simulate(SCENARIOS / "under_16.yaml", capsys)
        assert result["group"] is None
        assert all(d["phase"] is None and not d["asks"] and not d["screen"] and not d["exercises"]
                   for d in result["days"])  # fmt: skip


class TestPlans:
    def test_tendon_pain_under_2_days_old_is_rest_only(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = simulate(SCENARIOS / "tendinopathy_upper.yaml", capsys)
        loads = [{e["load"] for e in d["exercises"]} for d in result["days"]]
        assert loads[0] == loads[1] == {"rest"}
        assert "isometric" in loads[2]

    def test_a_rating_of_8_makes_the_next_day_rest_only(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = simulate(SCENARIOS / "severe_pain_twice.yaml", capsys)
        assert {e["load"] for e in day(result, 2)["exercises"]} <= {"rest"}

    def test_too_much_exercise_pain_lowers_the_next_day_then_steps_back(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Day 6 too much in mobility: day 7 stops at isometric; day 8 (back in isometric after
        the second) is rest only; a fine session on day 8 lifts it on day 9."""
        result = simulate(SCENARIOS / "exercise_pain_regression.yaml", capsys)
        loads = {d["day"]: {e["load"] for e in d["exercises"]} for d in result["days"]}
        assert "mobility" in loads[6]
        assert loads[7] <= {"rest", "isometric"} and "isometric" in loads[7]
        assert loads[8] == {"rest"}
        assert "isometric" in loads[9]

    def test_the_tendon_avoid_list_holds(self, capsys: pytest.CaptureFixture[str]) -> None:
        avoid = set(default_content().injury("hamstring_tendinopathy").avoid)
        result = simulate(SCENARIOS / "tendinopathy_upper.yaml", capsys)
        assert avoid and not avoid & {i for d in result["days"] for i in ids(d)}

    def test_no_day_exceeds_the_cap(self, capsys: pytest.CaptureFixture[str]) -> None:
        """At most 5 exercises above rest and 30 of their minutes, on every day of every scenario."""
        for path in SCENARIOS.glob("*.yaml"):
            for entry in simulate(path, capsys)["days"]:
                working = [e for e in entry["exercises"] if e["load"] != "rest"]
                assert len(working) <= 5 and sum(e["minutes"] for e in working) <= 30, path.stem

    def test_nothing_is_prescribed_while_escalated(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = simulate(SCENARIOS / "red_flag_during_course.yaml", capsys)
        assert day(result, 3)["exercises"] and day(result, 4)["exercises"] == []
        assert day(result, 6)["exercises"]


class TestOutputShape:
    def test_output_has_the_spec_shape(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The fields of §3: group, escalations, days and transitions."""
        result = simulate(SCENARIOS / "red_flag_during_course.yaml", capsys)
        assert set(result) == {"injury", "group", "escalations", "days", "transitions"}
        assert result["group"] == "standard"
        assert [d["day"] for d in result["days"]] == list(range(8))
        assert set(result["days"][0]) == {
            "day",
            "phase",
            "status",
            "held",
            "exercises",
            "asks",
            "screen",
        }
        assert all(set(e) == {"id", "load", "every", "minutes"}
                   for d in result["days"] for e in d["exercises"])  # fmt: skip

    def test_without_json_a_readable_table(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without --json a day-by-day table with the escalation on its day."""
        assert main(["simulate", str(SCENARIOS / "no_improvement.yaml")]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split()[:4] == ["day", "answers", "phase", "status"]
        assert "routine: no_improvement" in lines[8]  # header, then day 0..7


MALFORMED = [
    ("injury: broken_leg", "injury: unknown injury id 'broken_leg'"),
    ("baseline_pain: 11", "baseline_pain: Input should be less than or equal to 10"),
    ("onset: slowly", "onset: Input should be 'sudden' or 'gradual'"),
    ("intake_red_flags: [itchy]", "intake_red_flags[0]: unknown red flag id 'itchy'"),
    ("mechanism: fall", "mechanism: Input should be"),
    ("walking: crawl", "walking: Input should be"),
    ("goal: fame", "goal: Input should be"),
    ("previous_injury: maybe", "previous_injury: Input should be a valid boolean"),
    ("activity: running", "function_baseline: activity and function_baseline come together"),
    ("function_baseline: 4", "activity: activity and function_baseline come together"),
    ("activity: running\nfunction_baseline: 11", "function_baseline: Input should be less than or equal to 10"),
    ("days: [{pain: 12}]", "days[0].pain: Input should be less than or equal to 10"),
    ("days: [{pain: 3, skip: true}]", "days[0]: Value error, skip: true cannot be combined"),
    ("days: [{skip: true, red_flags: [nope]}]", "days[0]: Value error, skip: true cannot be combined"),
    ("days: [{red_flags: [nope]}]", "days[0].red_flags[0]: unknown red flag id 'nope'"),
    ("days: [{pain: 3, mood: 5}]", "days[0].mood: Extra inputs are not permitted"),
    ("days: [{pain: 3, exercise_pain: 4}]", "days[0]: Value error, exercise_pain needs session: done or partly"),
    ("days: [{session: skipped, exercise_pain: 4}]", "days[0]: Value error, exercise_pain needs session"),
    ("days: [{session: maybe}]", "days[0].session: Input should be"),
    ("days: [{session: done, exercise_pain: 11}]", "days[0].exercise_pain: Input should be less than or equal to 10"),
    ("days: [{checks: {run_fast: true}}]", "days[0].checks.run_fast: unknown check id 'run_fast'"),
    ("days: [{checks: {walk_normal: perhaps}}]", "days[0].checks.walk_normal: Input should be a valid boolean"),
    ("days: [{function: 5}]", "days[0].function: a function answer needs activity and function_baseline"),
]  # fmt: skip
VALID = """injury: hamstring_strain
age: 24
onset: sudden
onset_days_ago: 1
location: middle
baseline_pain: 6
"""


class TestMalformedInput:
    @pytest.mark.parametrize(("change", "message"), MALFORMED)
    def test_malformed_scenarios_exit_2_naming_the_field(
        self, change: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A wrong value or id exits 2 with one line that names the field."""
        changed = {line.split(":")[0] for line in change.splitlines()}
        lines = [line for line in VALID.splitlines() if line.split(":")[0] not in changed]
        path = tmp_path / "bad.yaml"
        path.write_text("\n".join([*lines, change]) + "\n")
        assert main(["simulate", str(path), "--json"]) == 2
        error = capsys.readouterr().err.strip()
        assert message in error and "\n" not in error

    def test_grade_is_ignored_for_other_injuries(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """§3: a grade on a cramp changes nothing (a grade 3 would otherwise be a referral)."""
        path = tmp_path / "cramp.yaml"
        path.write_text(VALID.replace("hamstring_strain", "hamstring_cramp") + "grade: 3\n")
        assert simulate(path, capsys)["escalations"] == []

    def test_an_empty_day_is_a_day_without_a_rating(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "quiet.yaml"
        path.write_text(VALID + "days: [{}, {}, {}]\n")
        assert len(simulate(path, capsys)["days"]) == 4

    @pytest.mark.parametrize("text", ["[1, 2", "- just\n- a list\n", ""])
    def test_unreadable_files_exit_2(
        self, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Broken YAML, a list or an empty file: exit 2 naming the file."""
        path = tmp_path / "broken.yaml"
        path.write_text(text)
        assert main(["simulate", str(path)]) == 2
        assert "broken.yaml" in capsys.readouterr().err

    def test_missing_file_exits_2(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["simulate", str(tmp_path / "nope.yaml")]) == 2
        assert "nope.yaml: cannot read" in capsys.readouterr().err
