"""The pose geometry (coachbot/poses.py) against hand-computed figures, and both sides of each check."""

from __future__ import annotations

import math

import pytest

from coachbot.content import ArmAngles, Keyframe, LegAngles, Poses, default_content
from coachbot.poses import (
    CONTACT_TOLERANCE,
    FOOT,
    FOREARM,
    HEAD,
    HEAD_RADIUS,
    SHIN,
    THIGH,
    TRUNK,
    UPPER_ARM,
    figure,
    problems,
    radius,
)


def frame(trunk: float, hip: float, knee: float, ankle: float = 0, *, far: LegAngles | None = None,
          shoulder: float = 0, elbow: float = 0, hold: float = 0) -> Keyframe:  # fmt: skip
    near = LegAngles(hip=hip, knee=knee, ankle=ankle)
    return Keyframe(hold=hold, trunk=trunk, near=near, far=far or near,
                    arms=ArmAngles(shoulder=shoulder, elbow=elbow))  # fmt: skip


def poses(*frames: Keyframe, contacts: tuple[str, ...], sore: str = "both") -> Poses:
    return Poses.model_validate(
        {"position": "standing", "sore": sore, "contacts": contacts, "frames": frames}
    )


STANDING = frame(0, 0, 0)
# Lying on the back (head left), hips bent 60 and knees 131: the thigh points 30 from up, the shin
# falls at 161, so the heel comes down level with the pelvis; at ankle -28 the foot lies flat.
CROOK = frame(-90, 60, 131, -28)
NORDIC = frame(0, 0, 100, -45)  # kneeling upright: thigh vertical, shin behind, toes down


def test_standing_upright_has_its_feet_on_the_floor_and_its_head_on_top() -> None:
    joints = figure(STANDING)
    ankle_y = radius("ankle")
    assert joints.near_ankle == pytest.approx((0, ankle_y))
    assert joints.near_toe == pytest.approx((FOOT, ankle_y))  # the foot points forward (+x)
    assert joints.near_knee == pytest.approx((0, ankle_y + SHIN))
    assert joints.pelvis == pytest.approx((0, ankle_y + SHIN + THIGH))
    assert joints.shoulders == pytest.approx((0, ankle_y + SHIN + THIGH + TRUNK))
    assert joints.head == pytest.approx((0, ankle_y + SHIN + THIGH + TRUNK + HEAD - HEAD_RADIUS))
    assert joints.near_hand[1] < joints.near_elbow[1] < joints.shoulders[1]  # arms hang down
    assert max(y for _, (_, y) in joints.items()) == joints.head[1]
    assert joints.lowest() == pytest.approx(0)


def test_hip_flexion_turns_the_thigh_forward_and_knee_flexion_turns_the_shin_back() -> None:
    joints = figure(frame(0, 90, 90))  # sitting: thigh forward, shin straight down
    assert joints.near_knee[0] - joints.pelvis[0] == pytest.approx(THIGH)
    assert joints.near_knee[1] == pytest.approx(joints.pelvis[1])
    assert joints.near_ankle[0] == pytest.approx(joints.near_knee[0])
    assert joints.near_ankle[1] == pytest.approx(joints.near_knee[1] - SHIN)


def test_a_forward_lean_moves_the_head_forward_and_shoulder_flexion_lifts_the_arms() -> None:
    joints = figure(frame(45, 45, 0, shoulder=135))
    assert joints.shoulders[0] - joints.pelvis[0] == pytest.approx(TRUNK * math.sin(math.pi / 4))
    assert joints.near_knee[0] == pytest.approx(joints.pelvis[0])  # thigh still vertical
    # 135 from the leaning trunk line: the arms reach straight forward, level with the shoulders
    assert joints.near_hand[0] - joints.shoulders[0] == pytest.approx(UPPER_ARM + FOREARM)
    assert joints.near_hand[1] == pytest.approx(joints.shoulders[1])


def test_lying_on_the_back_with_knees_bent_rests_on_shoulders_and_feet() -> None:
    joints = figure(CROOK)
    assert joints.head[0] < joints.shoulders[0] < joints.pelvis[0] < joints.near_ankle[0]
    assert joints.near_knee[1] > joints.pelvis[1] + 0.1  # knees up
    for name in ("shoulders", "pelvis", "near_ankle"):
        assert getattr(joints, name)[1] - radius(name) < CONTACT_TOLERANCE, name
    assert joints.near_toe[1] - radius("toe") < CONTACT_TOLERANCE  # the foot is flat
    assert problems("crook", poses(CROOK, frame(-115, 0, 115, 0),  # a bridge
                                   contacts=("shoulders", "feet"))) == []  # fmt: skip


def test_a_nordic_kneel_rests_on_its_knees() -> None:
    joints = figure(NORDIC)
    assert joints.near_knee[1] - radius("knee") < CONTACT_TOLERANCE
    assert joints.near_ankle[0] < joints.near_knee[0]  # the shins lie behind
    assert joints.head[1] > 0.6
    leaning = frame(40, 0, 60, -45)  # trunk and thighs fall forward together: the knee opens
    assert problems("nordic", poses(NORDIC, leaning, contacts=("knees",))) == []


@pytest.mark.parametrize(
    ("contacts", "sore", "sound", "broken"),
    [
        (("feet",), "both", CROOK, frame(-90, 90, 0)),  # legs straight up: feet off the floor
        (("shoulders",), "both", CROOK, STANDING),  # standing: shoulders in the air
        (("knees",), "both", NORDIC, STANDING),
        (("head",), "both", frame(-90, 0, 0), STANDING),
        (("hands",), "both", frame(70, 0, 0, 40, shoulder=70), STANDING),  # a push-up
        (("feet",), "near", STANDING, frame(0, 30, 60, far=LegAngles(hip=0, knee=10))),
    ],
)
def test_a_contact_off_the_floor_is_named_with_exercise_frame_and_field(
    contacts: tuple[str, ...], sore: str, sound: Keyframe, broken: Keyframe
) -> None:
    assert problems("demo", poses(sound, sound, contacts=contacts, sore=sore)) == []
    found = problems("demo", poses(sound, broken, contacts=contacts, sore=sore))
    assert len(found) == 1
    assert found[0].startswith(
        f"exercises.yaml: exercise demo: frame 2: field poses.contacts: {contacts[0]}"
    )


def test_the_sore_leg_carries_a_single_leg_stance() -> None:
    """Standing on the near leg, the far one lifted: feet hold for sore near, not for sore far."""
    stance = frame(0, 0, 5, far=LegAngles(hip=20, knee=80))
    assert problems("balance", poses(stance, stance, contacts=("feet",), sore="near")) == []
    assert len(problems("balance", poses(stance, stance, contacts=("feet",), sore="far"))) == 2


def test_an_angle_out_of_range_is_named() -> None:
    """The model refuses it at load; `problems` names it too for poses built without validation."""
    bent = Keyframe.model_construct(hold=0, trunk=0, near=LegAngles.model_construct(hip=0, knee=170, ankle=0),
                                    far=LegAngles(hip=0, knee=0), arms=ArmAngles())  # fmt: skip
    built = Poses.model_construct(position="standing", sore="near", props=("floor",),
                                  contacts=("feet",), frames=(STANDING, bent))  # fmt: skip
    found = problems("demo", built)
    assert (
        "exercises.yaml: exercise demo: frame 2: field poses.frames.1.near.knee: 170 is outside 0..160"
        in found
    )
    assert problems("demo", poses(STANDING, STANDING, contacts=("feet",))) == []


def test_nothing_is_ever_below_the_floor() -> None:
    for trunk in range(-180, 181, 30):
        for hip in (-30, 0, 60, 140):
            for knee in (0, 80, 160):
                assert figure(frame(trunk, hip, knee)).lowest() == pytest.approx(0)


def test_every_shipped_exercise_has_sound_poses() -> None:
    for exercise in default_content().exercises:
        assert exercise.poses is not None, exercise.id
        assert problems(exercise.id, exercise.poses) == []
