"""The geometry of the exercise pictures (issue 11): a keyframe's joint angles to a 2-D figure,
and the checks `content check` runs on every exercise's poses. Pure functions, no I/O.

Conventions (shared interface /tmp/v3/poses.md): a side view; lengths are fractions of the
person's height; y points up and the floor is y = 0. Angles are in degrees, measured clockwise
from vertical-up. The upright figure faces right (its front is +x) and the whole body turns with
the trunk, so its front is always the trunk's direction turned a further 90 degrees clockwise:
trunk 0 is upright, 45 leans forward (a hip hinge), 90 lies face down with the head to the right
and -90 lies face up with the head to the left (lying on the back).

- The pelvis (both hips) is at the origin; the shoulders are `TRUNK` along the trunk.
- A thigh points down the body (the trunk reversed) turned towards the front by hip flexion; the
  shin turns back from the thigh by knee flexion; the foot starts at right angles to the shin,
  towards the front, and turns toes-up by a positive ankle angle.
- An arm hangs along the trunk at shoulder 0 and turns forward by shoulder flexion; the forearm
  turns forward from the upper arm by elbow flexion.
- The head sits on the trunk's line, except that the neck bends (up to 45 degrees) to keep it
  level with the shoulders when the trunk points downwards (a bridge: the head stays down).
- Every point has a body thickness (`RADIUS`): a point touches the floor when the underside of
  that thickness does, and the figure is shifted up so that its lowest underside is on the floor.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields

from coachbot.content import Keyframe, LegAngles, Poses

# Segment lengths, fractions of height (the interface's table).
TRUNK = 0.30
HEAD = 0.13
THIGH = 0.25
SHIN = 0.25
FOOT = 0.12
UPPER_ARM = 0.17
FOREARM = 0.15
HEAD_RADIUS = 0.06
# Half the body's thickness at each point: what rests on the floor when the point "touches" it.
RADIUS = {
    "head": HEAD_RADIUS,
    "shoulders": 0.055,
    "pelvis": 0.055,
    "knee": 0.045,
    "ankle": 0.04,
    "toe": 0.02,
    "elbow": 0.035,
    "hand": 0.03,
}
MAX_NECK_BEND = 45.0
CONTACT_TOLERANCE = 0.02  # a declared contact's underside is at most this far above the floor
# The human ranges of the interface (the pydantic model enforces the same at load).
RANGES: dict[str, tuple[float, float]] = {
    "hip": (-30, 140),
    "knee": (0, 160),
    "ankle": (-50, 40),
    "shoulder": (-60, 180),
    "elbow": (0, 150),
    "trunk": (-180, 180),
}

Point = tuple[float, float]


@dataclass(frozen=True)
class Joints:
    """Every named point of one pose, (x, y) in fractions of height, the floor at y = 0."""

    head: Point  # the head's centre
    shoulders: Point  # the neck and both shoulders
    pelvis: Point  # both hips
    near_knee: Point
    near_ankle: Point  # also the heel
    near_toe: Point
    far_knee: Point
    far_ankle: Point
    far_toe: Point
    near_elbow: Point
    near_hand: Point
    far_elbow: Point
    far_hand: Point

    def items(self) -> Iterator[tuple[str, Point]]:
        for field in fields(self):
            yield field.name, getattr(self, field.name)

    def lowest(self) -> float:
        """The lowest underside of the body (0 once the figure stands on the floor)."""
        return min(y - radius(name) for name, (_, y) in self.items())

    @property
    def near_hip(self) -> Point:
        return self.pelvis

    @property
    def far_hip(self) -> Point:
        return self.pelvis


def radius(name: str) -> float:
    """The body's half thickness at the point `name` (near_knee -> knee)."""
    return RADIUS[name.removeprefix("near_").removeprefix("far_")]


def direction(angle: float) -> Point:
    """The unit vector `angle` degrees clockwise from vertical-up."""
    rad = math.radians(angle)
    return (math.sin(rad), math.cos(rad))


def _along(start: Point, angle: float, length: float) -> Point:
    dx, dy = direction(angle)
    return (start[0] + dx * length, start[1] + dy * length)


def _leg(trunk: float, leg: LegAngles) -> tuple[Point, Point, Point]:
    """Knee, ankle and toe of one leg, the hip at the origin."""
    thigh = trunk + 180 - leg.hip  # down the body, turned towards the front by flexion
    shin = thigh + leg.knee  # turned back by knee flexion
    foot = shin - 90 - leg.ankle  # at right angles towards the front; toes up is positive
    knee = _along((0.0, 0.0), thigh, THIGH)
    ankle = _along(knee, shin, SHIN)
    return knee, ankle, _along(ankle, foot, FOOT)


def _neck(trunk: float) -> float:
    """The head's direction: the trunk's, except that when the trunk points downwards (the hips
    up in a bridge) the neck bends, up to `MAX_NECK_BEND`, to keep the head level with the
    shoulders, as a head resting on the floor does."""
    tilt = abs(trunk) - 90  # how far below horizontal the trunk points (trunk within -180..180)
    if tilt <= 0:
        return trunk
    bend = min(tilt, MAX_NECK_BEND)
    return trunk - bend if trunk > 0 else trunk + bend


def figure(frame: Keyframe) -> Joints:
    """The pose of `frame`, shifted up so that the body's lowest underside is on the floor."""
    shoulders = _along((0.0, 0.0), frame.trunk, TRUNK)
    head = _along(shoulders, _neck(frame.trunk), HEAD - HEAD_RADIUS)
    upper = frame.trunk + 180 - frame.arms.shoulder
    elbow = _along(shoulders, upper, UPPER_ARM)
    hand = _along(elbow, upper - frame.arms.elbow, FOREARM)
    near = _leg(frame.trunk, frame.near)
    far = _leg(frame.trunk, frame.far)
    raw = Joints(head, shoulders, (0.0, 0.0), *near, *far, elbow, hand, elbow, hand)
    lift = -raw.lowest()
    shifted = {name: (x, y + lift) for name, (x, y) in raw.items()}
    return Joints(**shifted)


def contact_height(joints: Joints, contact: str, sore: str) -> float:
    """How far the underside of a declared contact is above the floor. The leg contacts (knees,
    feet: the heel or the toe) are the sore leg's; with `sore: both`, either leg's (a double-leg
    exercise moves both alike, and a walk or a run has one foot down at a time)."""
    if contact in ("head", "shoulders", "pelvis"):
        return _height(joints, contact)
    if contact == "hands":
        return _height(joints, "near_hand")
    sides = ("near", "far") if sore == "both" else (sore,)
    if contact == "knees":
        return min(_height(joints, f"{side}_knee") for side in sides)
    return min(_height(joints, f"{side}_{part}") for side in sides for part in ("ankle", "toe"))


def _height(joints: Joints, name: str) -> float:
    point: Point = getattr(joints, name)
    return point[1] - radius(name)


def _angles(frame: Keyframe) -> Iterator[tuple[str, str, float]]:
    yield "trunk", "trunk", frame.trunk
    for side in ("near", "far"):
        leg: LegAngles = getattr(frame, side)
        for joint in ("hip", "knee", "ankle"):
            yield f"{side}.{joint}", joint, getattr(leg, joint)
    yield "arms.shoulder", "shoulder", frame.arms.shoulder
    yield "arms.elbow", "elbow", frame.arms.elbow


def problems(exercise_id: str, poses: Poses) -> list[str]:
    """Every way the poses break the interface's checks (empty: sound): each angle within its
    human range, each declared contact on the floor in every keyframe, nothing below the floor.
    Each message names the exercise, the frame (1-based) and the field."""
    found: list[str] = []
    for index, frame in enumerate(poses.frames):
        where = f"exercises.yaml: exercise {exercise_id}: frame {index + 1}"
        for field, joint, value in _angles(frame):
            low, high = RANGES[joint]
            if not low <= value <= high:
                found.append(
                    f"{where}: field poses.frames.{index}.{field}: {value:g} is outside "
                    f"{low:g}..{high:g}"
                )
        joints = figure(frame)
        for contact in poses.contacts:
            height = contact_height(joints, contact, poses.sore)
            if height > CONTACT_TOLERANCE:
                found.append(
                    f"{where}: field poses.contacts: {contact} {height:.2f} above the floor "
                    f"(at most {CONTACT_TOLERANCE})"
                )
        lowest = joints.lowest()
        if lowest < -1e-9:  # the shift makes this impossible unless the geometry is broken
            found.append(f"{where}: a point is {-lowest:.2f} below the floor")
    return found
