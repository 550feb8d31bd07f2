"""``python -m coachbot.sandbox [--port 8081] [--token T]``: a standalone Bot API emulator."""

from coachbot.sandbox.emulator import main

raise SystemExit(main())
