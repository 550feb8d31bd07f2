"""The exercise pictures (issue 11): a looping GIF of each exercise's movement, a PNG of its key
frame, and a contact sheet of every key frame. Pure: poses in (content/exercises.yaml, through
coachbot/poses.py), bytes out; no Telegram, no SQL, no files (except `python -m coachbot.pictures
DIR`, which writes the samples). Drawn with Pillow at twice the size and scaled down, so the
lines are smooth; all pictures of all exercises render in seconds.

Style: a friendly side-view figure (round head, thick rounded limbs, white joint dots), the far
limbs paler behind the near ones, the back of the sore thigh (the hamstring) in the coach's accent
colour (the charts' orange), the floor and the props, and in the still the next keyframe ghosted
with an arrow for the direction of movement. A hold is a pause labelled "hold N s".
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from coachbot.content import ArmAngles, Exercise, Keyframe, LegAngles, Poses
from coachbot.poses import Joints, Point, figure

WIDTH, HEIGHT = 480, 360  # what Telegram shows inline on a phone
SUPERSAMPLE = 2  # drawn at twice the size, then scaled down: anti-aliased lines
FPS = 10
MAX_LOOP_SECONDS = 20.0
MAX_PAUSE_SECONDS = 3.0  # a 30 s hold is shown as a 3 s pause labelled "hold 30 s"
SHEET_COLUMNS = 4
SHEET_CELL = (360, 270)

# Colours: the charts' palette (coachbot/charts.py, Okabe-Ito) for the accents.
BACKGROUND = "#FFFFFF"
INK = "#2F4B66"  # the near limbs, trunk and head
FAR_INK = "#93A9BE"  # the far limbs, behind
GHOST = "#DCE3EA"  # the next keyframe, in the still
ACCENT = "#D55E00"  # the sore hamstring (charts: flare-ups)
FAR_ACCENT = "#EFA57A"
ARROW = "#0072B2"
FLOOR = "#6B6B6B"
FLOOR_FILL = "#EFEBE4"
TEXT = "#222222"
MUTED = "#666666"
PROP = "#B59A78"  # chair, table leg
BAND = "#009E73"
TOWEL = "#56B4E9"
PARTNER = "#B3B3B3"
BIKE = "#7A7A7A"

# Limb widths and dot sizes, fractions of height.
WIDTHS = {"trunk": 0.085, "thigh": 0.066, "shin": 0.052, "foot": 0.034, "upper": 0.042,
          "fore": 0.036}  # fmt: skip
HEAD_RADIUS = 0.06
DOT = 0.012
BIKE_LIFT = 0.14  # the pedals' clearance: the figure on a bike sits this far above the floor


@dataclass(frozen=True)
class _View:
    """World (fractions of height, floor y = 0) to pixels of one picture."""

    scale: float
    x0: float  # pixel x of world x = 0
    floor: float  # pixel y of the floor

    def __call__(self, point: Point) -> tuple[float, float]:
        return (self.x0 + point[0] * self.scale, self.floor - point[1] * self.scale)


# ----------------------------------------------------------------------------- public API


def animation_gif(exercise: Exercise) -> bytes:
    """A looping GIF of the movement, 480 px wide: keyframes joined at 10 frames a second, each
    hold a pause labelled with its seconds."""
    poses = _poses(exercise)
    bounds = _bounds(poses)
    timeline = _timeline(exercise, poses)
    key = _key_index(poses)
    palette_source = _render(exercise, poses, poses.frames[key], bounds, (WIDTH, HEIGHT))
    palette = palette_source.quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    frames: list[Image.Image] = []
    durations: list[int] = []
    for pose, seconds, hold in timeline:
        picture = _render(exercise, poses, pose, bounds, (WIDTH, HEIGHT), hold=hold)
        frames.append(picture.quantize(palette=palette, dither=Image.Dither.NONE))
        durations.append(max(20, round(seconds * 1000 / 10) * 10))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=durations, loop=0, optimize=False, disposal=1)  # fmt: skip
    return buffer.getvalue()


def still_png(exercise: Exercise, size: tuple[int, int] = (WIDTH, HEIGHT)) -> bytes:
    """The key frame (the longest hold; the first on a tie), the next keyframe ghosted behind
    it and an arrow for the direction of movement."""
    buffer = io.BytesIO()
    _still(exercise, size).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def contact_sheet_png(exercises: Sequence[Exercise]) -> bytes:
    """Every exercise's key frame in a labelled grid, SHEET_COLUMNS wide, for a clinician to
    review all pictures on one page."""
    columns = min(SHEET_COLUMNS, max(1, len(exercises)))
    rows = math.ceil(len(exercises) / columns)
    cell_w, cell_h = SHEET_CELL
    header = 56
    sheet = Image.new("RGB", (columns * cell_w, header + rows * cell_h), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((16, 14), "coachbot exercises: the key frame of each (grey: the next keyframe; "
              "orange: the back of the sore thigh, working)", font=_font(17, bold=True),
              fill=TEXT)  # fmt: skip
    for index, exercise in enumerate(exercises):
        x, y = (index % columns) * cell_w, header + (index // columns) * cell_h
        sheet.paste(_still(exercise, SHEET_CELL, label=exercise.id), (x, y))
        draw.rectangle((x, y, x + cell_w - 1, y + cell_h - 1), outline="#D0D0D0")
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- timing


def _poses(exercise: Exercise) -> Poses:
    if exercise.poses is None:
        raise ValueError(f"exercise {exercise.id} has no poses")
    return exercise.poses


def _key_index(poses: Poses) -> int:
    """The frame with the longest hold; on a tie the last of them (with no holds at all, the
    end of the movement: the bottom of a squat, not the standing start)."""
    holds = [frame.hold for frame in poses.frames]
    return max(range(len(holds)), key=lambda index: (holds[index], index))


def _pause(hold: float) -> float:
    return min(hold, 1 + hold / 4, MAX_PAUSE_SECONDS)


def _cyclic(poses: Poses) -> bool:
    """A gait or pedalling cycle (the legs swap roles): moved at an even pace, without easing."""
    first, second = poses.frames[0], poses.frames[1]
    return poses.position == "on_bike" or (first.near == second.far and first.far == second.near)


def _timeline(exercise: Exercise, poses: Poses) -> list[tuple[Keyframe, float, float]]:
    """(pose, seconds shown, hold to label) for each picture of one loop."""
    frames = poses.frames
    step = 1 / FPS
    shown: list[tuple[Keyframe, float, float]] = []
    ease = not _cyclic(poses)
    # The exercise's holds are labelled (the longest, e.g. a bridge held 10 s); a shorter pause,
    # such as resting between repetitions, and the rest exercises' stillness are not.
    longest = max(frame.hold for frame in frames) if exercise.load != "rest" else -1
    for index, frame in enumerate(frames):
        nxt = frames[(index + 1) % len(frames)]
        if frame.hold > 0:
            shown.append((frame, _pause(frame.hold), frame.hold if frame.hold == longest else 0))
        moves = max(_largest_change(frame, nxt), 1)
        seconds = min(max(moves / 45, 0.7), 2.2) if ease else max(moves / 90, 0.3)
        count = max(2, round(seconds * FPS))
        for n in range(count):
            t = n / count
            if ease:
                t = t * t * (3 - 2 * t)
            shown.append((_blend(frame, nxt, t), step, 0))
    total = sum(seconds for _, seconds, _ in shown)
    if total > MAX_LOOP_SECONDS:  # keep the loop short: shorten every pause and step alike
        factor = MAX_LOOP_SECONDS / total
        shown = [(pose, seconds * factor, hold) for pose, seconds, hold in shown]
    return shown


def _angles(frame: Keyframe) -> list[float]:
    return [frame.trunk, frame.near.hip, frame.near.knee, frame.near.ankle, frame.far.hip,
            frame.far.knee, frame.far.ankle, frame.arms.shoulder, frame.arms.elbow]  # fmt: skip


def _largest_change(a: Keyframe, b: Keyframe) -> float:
    return max(abs(x - y) for x, y in zip(_angles(a), _angles(b), strict=True))


def _blend(a: Keyframe, b: Keyframe, t: float) -> Keyframe:
    """The pose `t` of the way from `a` to `b` (angles interpolated, so limbs keep their length)."""

    def mix(x: float, y: float) -> float:
        return x + (y - x) * t

    def leg(x: LegAngles, y: LegAngles) -> LegAngles:
        return LegAngles.model_construct(hip=mix(x.hip, y.hip), knee=mix(x.knee, y.knee),
                                         ankle=mix(x.ankle, y.ankle))  # fmt: skip

    arms = ArmAngles.model_construct(shoulder=mix(a.arms.shoulder, b.arms.shoulder),
                                     elbow=mix(a.arms.elbow, b.arms.elbow))  # fmt: skip
    return Keyframe.model_construct(hold=0, trunk=mix(a.trunk, b.trunk), near=leg(a.near, b.near),
                                    far=leg(a.far, b.far), arms=arms)  # fmt: skip


# ----------------------------------------------------------------------------- geometry


def _anchor(joints: Joints, poses: Poses) -> float:
    """The x that stays put from frame to frame: the mean of the points resting on the floor
    (so a bridge's shoulders and feet, a Nordic's knees, a standing foot never slide)."""
    sides = ("near", "far") if poses.sore == "both" else (poses.sore,)
    xs: list[float] = []
    for contact in poses.contacts:
        if contact == "feet":
            xs += [getattr(joints, f"{side}_ankle")[0] for side in sides]
        elif contact == "knees":
            xs += [getattr(joints, f"{side}_knee")[0] for side in sides]
        elif contact == "hands":
            xs.append(joints.near_hand[0])
        else:
            xs.append(getattr(joints, contact)[0])
    return sum(xs) / len(xs)


def _placed(frame: Keyframe, poses: Poses) -> Joints:
    """The figure of `frame`, its anchor at x = 0, lifted onto the bike's pedals on a bike."""
    joints = figure(frame)
    dx = -_anchor(joints, poses)
    dy = BIKE_LIFT if poses.position == "on_bike" else 0.0
    return Joints(**{name: (x + dx, y + dy) for name, (x, y) in joints.items()})


def _bounds(poses: Poses) -> tuple[float, float, float, float]:
    """The world box holding every keyframe (and what moves between them) and the props."""
    xs: list[float] = []
    ys: list[float] = [0.0]
    for index, frame in enumerate(poses.frames):
        nxt = poses.frames[(index + 1) % len(poses.frames)]
        for t in (0.0, 0.5):
            for _, (x, y) in _placed(_blend(frame, nxt, t), poses).items():
                xs.append(x)
                ys.append(y)
    pad = 0.1
    left, right, top = min(xs) - pad, max(xs) + pad, max(ys) + pad
    key = _placed(poses.frames[_key_index(poses)], poses)
    for x, y in _prop_extent(poses, key):
        left, right, top = min(left, x - 0.04), max(right, x + 0.04), max(top, y + 0.04)
    return left, right, 0.0, top


def _prop_extent(poses: Poses, key: Joints) -> list[Point]:
    points: list[Point] = []
    if "chair" in poses.props:
        x = _chair_x(poses, key)
        points += [(x, 0.0), (x + 0.22, 0.5)]
    if "band" in poses.props:
        points.append((_band_anchor(poses, key)[0] - 0.03, 0.3))
    if "partner" in poses.props:
        points += [(key.near_ankle[0] - 0.56, 0.0), (key.near_ankle[0] - 0.1, 0.6)]
    if "bike" in poses.props:
        points += [(key.pelvis[0] - 0.15, 0.0), (key.shoulders[0] + 0.25, 0.0)]
    return points


def _view(bounds: tuple[float, float, float, float], size: tuple[int, int], top_margin: float,
          bottom_margin: float) -> _View:  # fmt: skip
    left, right, bottom, top = bounds
    width, height = size
    usable_w = width * 0.92
    usable_h = height - top_margin - bottom_margin
    scale = min(usable_w / (right - left), usable_h / (top - bottom))
    x0 = width / 2 - (left + right) / 2 * scale
    floor = height - bottom_margin
    return _View(scale, x0, floor)


# ----------------------------------------------------------------------------- drawing


def _still(exercise: Exercise, size: tuple[int, int], label: str | None = None) -> Image.Image:
    poses = _poses(exercise)
    key = _key_index(poses)
    nxt = poses.frames[(key + 1) % len(poses.frames)]
    hold = poses.frames[key].hold if exercise.load != "rest" else 0
    return _render(exercise, poses, poses.frames[key], _bounds(poses), size, hold=hold,
                   ghost=nxt, label=label)  # fmt: skip


def _render(exercise: Exercise, poses: Poses, frame: Keyframe,
            bounds: tuple[float, float, float, float], size: tuple[int, int], *, hold: float = 0,
            ghost: Keyframe | None = None, label: str | None = None) -> Image.Image:  # fmt: skip
    s = SUPERSAMPLE
    width, height = size[0] * s, size[1] * s
    unit = height / 360  # text and margins scale with the picture
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    view = _view(bounds, (width, height), 58 * unit, 40 * unit)
    joints = _placed(frame, poses)
    draw.rectangle((0, view.floor, width, height), fill=FLOOR_FILL)
    draw.line((0, view.floor, width, view.floor), fill=FLOOR, width=max(2, round(3 * unit)))
    if ghost is not None:
        ghosted = _placed(ghost, poses)
        _figure(draw, view, ghosted, poses, ghost=True)
    _props_behind(draw, view, joints, poses, exercise)
    _figure(draw, view, joints, poses)
    _props_front(draw, view, joints, poses)
    if ghost is not None:
        _arrow(draw, view, joints, _placed(ghost, poses), unit)
    size_pt = 22
    while (
        size_pt > 12
        and draw.textlength(exercise.name, font=_font(round(size_pt * unit), True))
        > width - 28 * unit
    ):
        size_pt -= 1  # a long name gets a smaller font rather than losing its end
    draw.text(
        (14 * unit, 10 * unit), exercise.name, font=_font(round(size_pt * unit), True), fill=TEXT
    )
    if label is not None:
        draw.text((14 * unit, 36 * unit), label, font=_font(round(14 * unit)), fill=MUTED)
    _legend(draw, poses, height, unit)
    if hold > 0:
        _hold_pill(draw, f"hold {hold:g} s", width, height, unit)
    return image.resize(size, Image.Resampling.LANCZOS)


def _segment(draw: ImageDraw.ImageDraw, view: _View, a: Point, b: Point, width: float,
             colour: str) -> None:  # fmt: skip
    pa, pb = view(a), view(b)
    w = max(1, round(width * view.scale))
    draw.line((pa, pb), fill=colour, width=w)
    for p in (pa, pb):  # round caps
        r = w / 2
        draw.ellipse((p[0] - r, p[1] - r, p[0] + r, p[1] + r), fill=colour)


def _dot(draw: ImageDraw.ImageDraw, view: _View, p: Point, colour: str) -> None:
    x, y = view(p)
    r = DOT * view.scale
    draw.ellipse((x - r, y - r, x + r, y + r), fill="#FFFFFF", outline=colour,
                 width=max(1, round(r * 0.45)))  # fmt: skip


def _leg(draw: ImageDraw.ImageDraw, view: _View, j: Joints, side: str, colour: str,
         accent: str | None) -> None:  # fmt: skip
    hip, knee = j.pelvis, getattr(j, f"{side}_knee")
    ankle, toe = getattr(j, f"{side}_ankle"), getattr(j, f"{side}_toe")
    _segment(draw, view, hip, knee, WIDTHS["thigh"], colour)
    _segment(draw, view, knee, ankle, WIDTHS["shin"], colour)
    _segment(draw, view, ankle, toe, WIDTHS["foot"], colour)
    if accent is not None:  # the hamstring: along the back of the thigh
        dx, dy = knee[0] - hip[0], knee[1] - hip[1]
        length = math.hypot(dx, dy) or 1.0
        back = (dy / length, -dx / length)  # the thigh's direction turned 90 degrees clockwise
        off = WIDTHS["thigh"] * 0.3
        a = (hip[0] + dx * 0.18 + back[0] * off, hip[1] + dy * 0.18 + back[1] * off)
        b = (hip[0] + dx * 0.82 + back[0] * off, hip[1] + dy * 0.82 + back[1] * off)
        _segment(draw, view, a, b, WIDTHS["thigh"] * 0.42, accent)


def _arm(draw: ImageDraw.ImageDraw, view: _View, j: Joints, side: str, colour: str) -> None:
    elbow, hand = getattr(j, f"{side}_elbow"), getattr(j, f"{side}_hand")
    _segment(draw, view, j.shoulders, elbow, WIDTHS["upper"], colour)
    _segment(draw, view, elbow, hand, WIDTHS["fore"], colour)


def _figure(draw: ImageDraw.ImageDraw, view: _View, j: Joints, poses: Poses, *,
            ghost: bool = False) -> None:  # fmt: skip
    near_ink = GHOST if ghost else INK
    far_ink = GHOST if ghost else FAR_INK
    near_accent = None if ghost or poses.sore == "far" else ACCENT
    far_accent = None if ghost or poses.sore == "near" else FAR_ACCENT
    # The far arm sits a little behind the near one, so both read as two arms.
    _arm(draw, view, _nudged(j, "far", -0.015), "far", far_ink)
    _leg(draw, view, j, "far", far_ink, far_accent)
    _segment(draw, view, j.pelvis, j.shoulders, WIDTHS["trunk"], near_ink)
    hx, hy = view(j.head)
    r = HEAD_RADIUS * view.scale
    draw.ellipse((hx - r, hy - r, hx + r, hy + r), fill=near_ink)
    _segment(draw, view, j.shoulders, _toward(j.shoulders, j.head, 0.5), 0.035, near_ink)  # neck
    _leg(draw, view, j, "near", near_ink, near_accent)
    _arm(draw, view, j, "near", near_ink)
    if ghost:
        return
    for point in (j.pelvis, j.near_knee, j.near_ankle, j.shoulders, j.near_elbow):
        _dot(draw, view, point, INK)
    for point in (j.far_knee, j.far_ankle):
        _dot(draw, view, point, FAR_INK)
    if poses.sore != "both":  # mark the sore leg's knee with the accent
        x, y = view(getattr(j, f"{poses.sore}_knee"))
        r = DOT * view.scale * 0.55
        draw.ellipse((x - r, y - r, x + r, y + r), fill=ACCENT)


def _nudged(j: Joints, side: str, dx: float) -> Joints:
    moved = {f"{side}_elbow", f"{side}_hand"}
    return Joints(**{n: ((x + dx, y) if n in moved else (x, y)) for n, (x, y) in j.items()})


def _toward(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _arrow(draw: ImageDraw.ImageDraw, view: _View, now: Joints, nxt: Joints, unit: float) -> None:
    """An arrow from the point that moves most to where it goes next."""
    best, start, end = 0.0, (0.0, 0.0), (0.0, 0.0)
    for (name, a), (_, b) in zip(now.items(), nxt.items(), strict=True):
        if name in ("near_toe", "far_toe", "far_elbow", "far_hand"):
            continue
        moved = math.dist(a, b)
        if moved > best:
            best, start, end = moved, a, b
    if best < 0.06:
        return
    a, b = view(_toward(start, end, 0.15)), view(_toward(start, end, 0.85))
    width = max(2, round(5 * unit))
    draw.line((a, b), fill=ARROW, width=width)
    angle = math.atan2(b[1] - a[1], b[0] - a[0])
    size = 16 * unit
    left = (b[0] - size * math.cos(angle - 0.45), b[1] - size * math.sin(angle - 0.45))
    right = (b[0] - size * math.cos(angle + 0.45), b[1] - size * math.sin(angle + 0.45))
    draw.polygon((b, left, right), fill=ARROW)


def _chair_x(poses: Poses, key: Joints) -> float:
    """The chair (or counter) stands just in front of the figure, its backrest under the hand."""
    return max(key.near_hand[0] + 0.01, key.near_toe[0] + 0.05)


def _chair_top(key: Joints) -> float:
    return min(max(key.near_hand[1] - 0.03, 0.4), 0.6)


def _band_anchor(poses: Poses, key: Joints) -> Point:
    return (min(key.near_toe[0], key.far_toe[0], key.near_ankle[0]) - 0.3, 0.06)


def _props_behind(draw: ImageDraw.ImageDraw, view: _View, j: Joints, poses: Poses,
                  exercise: Exercise) -> None:  # fmt: skip
    key = _placed(poses.frames[_key_index(poses)], poses)
    if "chair" in poses.props:  # a kitchen chair: backrest towards the figure, under the hand
        x = _chair_x(poses, key)
        w = 0.035
        _segment(draw, view, (x, 0.0), (x, _chair_top(key)), w, PROP)
        _segment(draw, view, (x, 0.25), (x + 0.22, 0.25), w, PROP)
        _segment(draw, view, (x + 0.22, 0.25), (x + 0.22, 0.0), w, PROP)
    if "band" in poses.props:  # a heavy table leg near the floor
        ax, ay = _band_anchor(poses, key)
        _segment(draw, view, (ax - 0.02, 0.0), (ax - 0.02, 0.3), 0.05, PROP)
    if "bike" in poses.props:
        _bike(draw, view, j, key)
    if "towel" in poses.props and poses.position == "lying_back":  # under the heels
        heel = (j.near_ankle[0] + j.far_ankle[0]) / 2
        a, b = view((heel - 0.09, 0.012)), view((heel + 0.09, 0.0))
        draw.rectangle((a[0], a[1], b[0], b[1]), fill=TOWEL)
    if "partner" in poses.props:
        _partner(draw, view, key)


def _props_front(draw: ImageDraw.ImageDraw, view: _View, j: Joints, poses: Poses) -> None:
    if "band" in poses.props:
        key = _placed(poses.frames[_key_index(poses)], poses)
        ax, ay = _band_anchor(poses, key)
        _segment(draw, view, (ax, ay + 0.04), j.near_ankle, 0.014, BAND)
    if "towel" in poses.props and poses.position != "lying_back":  # an ice pack on the thigh
        hip, knee = j.pelvis, j.near_knee
        dx, dy = knee[0] - hip[0], knee[1] - hip[1]
        length = math.hypot(dx, dy) or 1.0
        back = (dy / length, -dx / length)
        off = WIDTHS["thigh"] * 0.75
        a = (hip[0] + dx * 0.35 + back[0] * off, hip[1] + dy * 0.35 + back[1] * off)
        b = (hip[0] + dx * 0.75 + back[0] * off, hip[1] + dy * 0.75 + back[1] * off)
        _segment(draw, view, a, b, 0.045, TOWEL)
    if "partner" in poses.props:  # the partner's hands hold the ankles down
        for side in ("far", "near"):
            x, y = view(getattr(j, f"{side}_ankle"))
            r = 0.028 * view.scale
            draw.ellipse((x - r, y - r * 1.6, x + r, y + r * 0.2), fill=PARTNER, outline="#8C8C8C")


def _partner(draw: ImageDraw.ImageDraw, view: _View, key: Joints) -> None:
    """A kneeling helper behind the feet, leaning forward, hands on the ankles."""
    ankle = key.near_ankle
    pelvis = (ankle[0] - 0.3, 0.3)
    shoulders = (pelvis[0] + 0.17, pelvis[1] + 0.24)
    knee = (pelvis[0] + 0.02, 0.045)
    foot = (knee[0] - 0.24, 0.06)
    head = (shoulders[0] + 0.06, shoulders[1] + 0.05)
    elbow = _toward(shoulders, (ankle[0], ankle[1] + 0.03), 0.5)
    elbow = (elbow[0] - 0.02, elbow[1] + 0.03)
    _segment(draw, view, pelvis, knee, WIDTHS["thigh"], PARTNER)
    _segment(draw, view, knee, foot, WIDTHS["shin"], PARTNER)
    _segment(draw, view, pelvis, shoulders, WIDTHS["trunk"], PARTNER)
    _segment(draw, view, shoulders, elbow, WIDTHS["upper"], PARTNER)
    _segment(draw, view, elbow, (ankle[0], ankle[1] + 0.03), WIDTHS["fore"], PARTNER)
    x, y = view(head)
    r = HEAD_RADIUS * view.scale
    draw.ellipse((x - r, y - r, x + r, y + r), fill=PARTNER)


def _bike(draw: ImageDraw.ImageDraw, view: _View, j: Joints, key: Joints) -> None:
    """An exercise bike: seat under the pelvis, cranks between the feet, handlebars at the hands."""
    crank = ((key.near_ankle[0] + key.far_ankle[0]) / 2, (key.near_ankle[1] + key.far_ankle[1]) / 2)
    seat = (key.pelvis[0], key.pelvis[1] - 0.05)
    bars = (key.near_hand[0] + 0.01, key.near_hand[1] - 0.01)
    base_back, base_front = (seat[0] - 0.12, 0.0), (bars[0] + 0.08, 0.0)
    _segment(draw, view, base_back, base_front, 0.03, BIKE)
    _segment(draw, view, seat, crank, 0.035, BIKE)
    _segment(draw, view, crank, (bars[0] - 0.03, 0.02), 0.035, BIKE)
    _segment(draw, view, (bars[0] - 0.03, 0.02), bars, 0.03, BIKE)
    _segment(draw, view, (seat[0] - 0.05, seat[1]), (seat[0] + 0.05, seat[1]), 0.03, "#444444")
    fx, fy = view((bars[0] - 0.03, 0.16))  # the flywheel
    r = 0.12 * view.scale
    draw.ellipse(
        (fx - r, fy - r, fx + r, fy + r), outline=BIKE, width=max(2, round(0.02 * view.scale))
    )
    cx, cy = view(crank)
    for side in ("near", "far"):  # the crank arms to the pedals
        px, py = view(getattr(j, f"{side}_ankle"))
        draw.line(((cx, cy), (px, py)), fill="#444444", width=max(2, round(0.015 * view.scale)))


def _hold_pill(draw: ImageDraw.ImageDraw, text: str, width: float, height: float,
               unit: float) -> None:  # fmt: skip
    """The hold's seconds, bottom right on the floor, clear of the title."""
    font = _font(round(20 * unit), bold=True)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = 8 * unit
    x1 = width - 10 * unit
    x0 = x1 - (right - left) - 2 * pad
    y1 = height - 6 * unit
    y0 = y1 - (bottom - top) - 2 * pad
    draw.rounded_rectangle((x0, y0, x1, y1), radius=(y1 - y0) / 2, fill=ACCENT)
    draw.text((x0 + pad - left, y0 + pad - top), text, font=font, fill="#FFFFFF")


def _legend(draw: ImageDraw.ImageDraw, poses: Poses, height: float, unit: float) -> None:
    words = {"near": "sore leg (in front): back of the thigh working",
             "far": "sore leg (behind): back of the thigh working",
             "both": "both legs: backs of the thighs working"}  # fmt: skip
    y = height - 26 * unit
    draw.rounded_rectangle((14 * unit, y, 38 * unit, y + 12 * unit), radius=5 * unit, fill=ACCENT)
    draw.text((46 * unit, y - 3 * unit), words[poses.sore], font=_font(round(14 * unit)),
              fill=MUTED)  # fmt: skip


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans from matplotlib's own files (a dependency already), else Pillow's font."""
    spec = find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


# ----------------------------------------------------------------------------- samples


def write_samples(directory: Path, exercises: Iterable[Exercise]) -> list[Path]:
    """The contact sheet `exercises.png` and `exercises/<id>.gif` for each exercise."""
    chosen = list(exercises)
    (directory / "exercises").mkdir(parents=True, exist_ok=True)
    written = [directory / "exercises.png"]
    written[0].write_bytes(contact_sheet_png(chosen))
    for exercise in chosen:
        path = directory / "exercises" / f"{exercise.id}.gif"
        path.write_bytes(animation_gif(exercise))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    from coachbot.content import default_content

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m coachbot.pictures DIR", file=sys.stderr)
        return 2
    for path in write_samples(Path(args[0]), default_content().exercises):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
