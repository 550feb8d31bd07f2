"""coachbot: a Telegram coach for home rehab of pain at the back of the thigh."""

__version__ = "0.1.0"
