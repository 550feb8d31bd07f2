"""Send /start as a user through the Bot API emulator's user side and wait for the consent question.

Run with the emulator's own Python, inside its container (the smoke test pipes this file to
`docker exec -i <emulator> python - ...`), so it needs nothing on the host and no published port.
Standard library only. Exit 0 and print the matching text when a bot event contains PHRASE within
TIMEOUT seconds; exit 1 and print what the bot did instead.

    python - EMULATOR_URL USER_ID PHRASE TIMEOUT
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
import urllib.request


def call(url: str, body: dict[str, object] | None = None, timeout: float = 10.0) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def main(url: str, user_id: int, phrase: str, timeout: float) -> int:
    call(f"{url}/_sandbox/send", {"user_id": user_id, "text": "/start", "first_name": "Smoke"})
    deadline = time.monotonic() + timeout
    after, seen = 0, []
    while (remaining := deadline - time.monotonic()) > 0:
        wait = min(20.0, remaining)
        query = urllib.parse.urlencode({"chat_id": user_id, "after": after, "timeout": wait})
        answer = call(f"{url}/_sandbox/events?{query}", timeout=wait + 10)
        for event in answer["events"]:
            text = event.get("text") or event.get("caption") or ""
            if phrase in text:
                print(text.replace("\n", " ")[:200])
                return 0
            seen.append(f"{event['type']}: {text[:80]!r}")
        after = answer["last"]
    print(f"no bot event containing {phrase!r} within {timeout:g} s; saw {seen or 'nothing'}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])))
