"""The Bot API methods of the emulator: ``/bot<token>/<method>``, answered by Telegram's rules.

:class:`BotApi` authenticates a call, applies any fault a test injected, checks the parameters
(:mod:`coachbot.sandbox.params`), acts on the :class:`~coachbot.sandbox.world.World` and
records the call with its verdict. Flood limits are enforced only when asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from tornado.httputil import HTTPServerRequest

from coachbot.sandbox._html import ParsedText, utf16_len
from coachbot.sandbox.params import (
    MAX_CALLBACK_ANSWER,
    MAX_CAPTION,
    MAX_COMMANDS,
    MAX_DOCUMENT_BYTES,
    MAX_TEXT,
    ApiError,
    JsonDict,
    Params,
    Upload,
    allowed_updates,
    bad_request,
    check_animation,
    check_length,
    check_photo,
    format_text,
    parse_command,
    parse_reply_markup,
    too_many_requests,
)
from coachbot.sandbox.webhook import Webhook, WebhookDelivery
from coachbot.sandbox.world import (
    DEFAULT_SCOPE,
    Chat,
    Event,
    RateLimiter,
    StoredFile,
    StoredMessage,
    World,
    commands_key,
)

__all__ = ["DROP_CONNECTION", "TOKEN_SHAPE", "BotApi", "InjectedFault", "RecordedRequest"]

TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LANGUAGE_CODE = re.compile(r"(?:[a-z]{2})?")

DROP_CONNECTION = 0  # the error code of an injected fault that closes the socket unanswered

_CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
_COMMAND_SCOPES = frozenset(
    [
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    ]
)
_SENDING_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendAnimation"})

_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"

_ApiMethod = Callable[[Params], Awaitable[Any]]


class InjectedFault(ApiError):
    """A failure a test asked for, so that it is recorded but not counted as the bot's fault."""


@dataclass
class _Fault:
    error: InjectedFault
    remaining: int


@dataclass(frozen=True)
class RecordedRequest:
    """One Bot API call as the emulator answered it (uploads shown as name and size)."""

    method: str
    params: JsonDict
    ok: bool
    error_code: int | None
    description: str | None
    at: float
    injected: bool = False

    @property
    def is_rejection(self) -> bool:
        """Refused by Telegram's rules: not injected, not a wrong token or an unknown method."""
        if self.injected or self.error_code is None:
            return False
        return 400 <= self.error_code < 500 and self.error_code not in (401, 404)


@dataclass
class _PollTicket:
    """The getUpdates request currently waiting; a newer one supersedes it, like on Telegram."""

    superseded: bool = False


class BotApi:
    """The Bot API subset coachbot uses, acting on ``world``; every call is recorded.

    ``token`` None accepts any well-formed token. ``clock`` (monotonic seconds) times requests
    and rate limits, and may be replaced by tests that need to move time. ``latency`` (seconds)
    delays every answer, as Telegram's round trip would, without blocking the other requests:
    the call has taken effect, only its answer waits.
    """

    def __init__(self, world: World, *, token: str | None, enforce_rate_limits: bool,
                 latency: float = 0.0) -> None:  # fmt: skip
        if latency < 0:
            raise ValueError("latency must be zero or more seconds")
        self._world = world
        self._token = token
        self.enforce_rate_limits = enforce_rate_limits
        self.latency = latency
        self.clock: Callable[[], float] = time.monotonic
        self.requests: list[RecordedRequest] = []
        self.too_many_requests_count = 0
        self._rate_limiter = RateLimiter(lambda: self.clock())
        self._faults: dict[str, deque[_Fault]] = {}
        self._poll: _PollTicket | None = None
        self._webhook: WebhookDelivery | None = None
        self._methods = self._api_methods()

    # -- dispatch, faults and the request log ------------------------------------------------

    async def call(
        self, token: str, method: str, request: HTTPServerRequest
    ) -> tuple[int, JsonDict]:
        """Answer one Bot API request: (HTTP status, Telegram envelope). Every call is recorded,
        and answered ``latency`` seconds after it took effect."""
        answer = await self._call(token, method, request)
        if self.latency:
            await asyncio.sleep(self.latency)  # the client leaving cancels this, as a long poll
        return answer

    async def _call(
        self, token: str, method: str, request: HTTPServerRequest
    ) -> tuple[int, JsonDict]:
        at = self.clock()
        params: Params | None = None
        try:
            params = Params.from_request(request)
            self._authenticate(token)
            if method.lower() not in self._methods:
                raise ApiError(404, "Not Found")
            method, handler = self._methods[method.lower()]
            self._raise_injected_fault(method)
            result = await handler(params)
        except ApiError as error:
            self._record(method, params, at, error)
            return error.error_code, error.envelope()  # error_code 0: the connection is dropped
        except asyncio.CancelledError:
            self._record(method, params, at, None, "client closed the connection")
            raise
        self._record(method, params, at)
        return 200, {"ok": True, "result": result}

    def _api_methods(self) -> dict[str, tuple[str, _ApiMethod]]:
        methods: dict[str, _ApiMethod] = {
            "getMe": self._get_me,
            "logOut": self._log_out,
            "close": self._log_out,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendAnimation": self._send_animation,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
        }
        return {name.lower(): (name, handler) for name, handler in methods.items()}

    def _authenticate(self, token: str) -> None:
        accepted = token == self._token if self._token else bool(TOKEN_SHAPE.fullmatch(token))
        if not accepted:
            raise ApiError(401, "Unauthorized")
        self._world.bot_id = int(token.split(":")[0])

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with this error, before any checks.
        ``error_code`` 0 drops the connection without an answer (``DROP_CONNECTION``)."""
        if method.lower() not in self._methods:
            raise ValueError(f"unknown Bot API method {method!r}")
        error = InjectedFault(error_code, description, retry_after=retry_after,
                              migrate_to_chat_id=migrate_to_chat_id)  # fmt: skip
        self._faults.setdefault(method.lower(), deque()).append(_Fault(error, count))

    def _raise_injected_fault(self, method: str) -> None:
        faults = self._faults.get(method.lower())
        if not faults:
            return
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.popleft()
        raise fault.error

    def _record(
        self,
        method: str,
        params: Params | None,
        at: float,
        error: ApiError | None = None,
        description: str | None = None,
    ) -> None:
        self.requests.append(
            RecordedRequest(
                method=method,
                params=params.recorded() if params is not None else {},
                ok=error is None and description is None,
                error_code=error.error_code if error else None,
                description=error.description if error else description,
                at=at,
                injected=isinstance(error, InjectedFault),
            )
        )

    def rejected(self) -> list[RecordedRequest]:
        """The calls Telegram's rules refused (injected faults excluded)."""
        return [request for request in self.requests if request.is_rejection]

    def sent_messages_per_chat(self) -> dict[int, int]:
        """How many messages the bot sent successfully into each chat."""
        counts: dict[int, int] = {}
        for request in self.requests:
            if request.ok and request.method in _SENDING_METHODS:
                chat_id = int(request.params["chat_id"])
                counts[chat_id] = counts.get(chat_id, 0) + 1
        return counts

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting now."""
        return self._poll is not None

    # -- identity, updates, webhooks, commands ----------------------------------------------

    async def _get_me(self, params: Params) -> JsonDict:
        return {
            **self._world.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _log_out(self, params: Params) -> bool:
        return True

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        updates = self._world.updates
        if self._webhook is not None:
            raise ApiError(409, _WEBHOOK_CONFLICT)
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        updates.set_allowed(allowed_updates(params))
        updates.confirm(params.integer("offset") or 0)
        if self._poll is not None:
            self._poll.superseded = True
            updates.changed.notify()
        ticket = self._poll = _PollTicket()
        try:
            if not updates.peek(limit) and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wait_for_updates(ticket)
            return updates.peek(limit)
        finally:
            if self._poll is ticket:
                self._poll = None

    async def _wait_for_updates(self, ticket: _PollTicket) -> None:
        """Wait for the first update, giving way to a newer getUpdates or a webhook."""
        updates = self._world.updates
        while not updates.peek(1):
            await updates.changed.wait()
            if ticket.superseded:
                raise ApiError(409, _POLL_CONFLICT)
            if self._webhook is not None:
                raise ApiError(409, _WEBHOOK_CONFLICT)

    async def _set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: invalid webhook URL specified")
        secret = params.text("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        max_connections = params.integer("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: invalid max_connections specified")
        updates = self._world.updates
        updates.set_allowed(allowed_updates(params))
        if params.flag("drop_pending_updates"):
            updates.clear()
        await self.stop_webhook()
        self._webhook = WebhookDelivery(Webhook(url, secret, max_connections), updates)
        updates.changed.notify()  # a waiting getUpdates must now give way
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._world.updates.clear()
        await self.stop_webhook()
        return True

    async def stop_webhook(self) -> None:
        """Stop delivering to the webhook, if one is set (as deleteWebhook does)."""
        if self._webhook is not None:
            webhook, self._webhook = self._webhook, None
            await webhook.stop()

    async def _get_webhook_info(self, params: Params) -> JsonDict:
        updates = self._world.updates
        info: JsonDict = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(updates),
        }
        if self._webhook is not None:
            info.update(url=self._webhook.webhook.url)
            info.update(max_connections=self._webhook.webhook.max_connections)
            if self._webhook.last_error is not None:
                date, message = self._webhook.last_error
                info.update(last_error_date=date, last_error_message=message)
        if updates.allowed is not None:
            info["allowed_updates"] = updates.allowed
        return info

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("too many commands specified")
        self._world.commands[_commands_key(params)] = [parse_command(c) for c in commands]
        return True

    async def _get_my_commands(self, params: Params) -> list[JsonDict]:
        return self._world.commands.get(_commands_key(params), [])

    async def _delete_my_commands(self, params: Params) -> bool:
        self._world.commands.pop(_commands_key(params), None)
        return True

    # -- messages ----------------------------------------------------------------------------

    async def _send_message(self, params: Params) -> JsonDict:
        chat = self._writable_chat(params)
        text = format_text(params.text("text") or "", params.text("parse_mode"))
        check_length(text, MAX_TEXT, empty="message text is empty", long="message is too long")
        markup = parse_reply_markup(_markup_param(params))
        self._throttle(chat)
        return self._post_bot_message(chat, params, text=text, reply_markup=markup)

    async def _send_photo(self, params: Params) -> JsonDict:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: Params) -> JsonDict:
        return await self._send_file(params, "document")

    async def _send_animation(self, params: Params) -> JsonDict:
        return await self._send_file(params, "animation")

    async def _send_file(self, params: Params, kind: str) -> JsonDict:
        chat = self._writable_chat(params)
        caption = _caption(params)
        markup = parse_reply_markup(_markup_param(params))
        stored = self._input_file(params, kind)
        self._throttle(chat)
        return self._post_bot_message(
            chat, params, caption=caption, file=stored, reply_markup=markup
        )

    async def _send_chat_action(self, params: Params) -> bool:
        chat = self._writable_chat(params)
        action = params.text("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._world.events.add(Event(chat_id=chat.id, type="chat_action", action=action))
        return True

    async def _edit_message_text(self, params: Params) -> JsonDict:
        message = self._message_to_edit(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text = format_text(params.text("text") or "", params.text("parse_mode"))
        check_length(text, MAX_TEXT, empty="message text is empty", long="message is too long")
        markup = parse_reply_markup(_markup_param(params), inline_only=True)
        parse_mode = params.text("parse_mode")
        edited = replace(message, text=text, parse_mode=parse_mode, reply_markup=markup)
        return self._commit_edit(message, edited)

    async def _edit_message_caption(self, params: Params) -> JsonDict:
        message = self._message_to_edit(params)
        if message.file is None:
            raise bad_request("there is no caption in the message to edit")
        caption = _caption(params)
        markup = parse_reply_markup(_markup_param(params), inline_only=True)
        parse_mode = params.text("parse_mode")
        edited = replace(message, caption=caption, parse_mode=parse_mode, reply_markup=markup)
        return self._commit_edit(message, edited)

    async def _edit_message_reply_markup(self, params: Params) -> JsonDict:
        message = self._message_to_edit(params)
        markup = parse_reply_markup(_markup_param(params), inline_only=True)
        return self._commit_edit(message, replace(message, reply_markup=markup))

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chat(params)
        message = chat.messages.get(_message_id(params))
        if message is None:
            raise bad_request("message to delete not found")
        if not message.from_bot and chat.type != "private":
            raise bad_request("message can't be deleted")
        del chat.messages[message.message_id]
        self._world.events.add(Event(chat_id=chat.id, type="delete", message_id=message.message_id))
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        query = self._world.queries.get(params.text("callback_query_id") or "")
        if query is None or query.answered:
            raise bad_request(_QUERY_TOO_OLD)
        text = params.text("text")
        if text is not None and utf16_len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self._world.events.add(
            Event(
                chat_id=query.chat_id,
                type="callback_answer",
                message_id=query.message_id,
                callback_text=text,
                show_alert=params.flag("show_alert"),
            )
        )
        return True

    # -- shared checks -------------------------------------------------------------------------

    def _chat(self, params: Params) -> Chat:
        raw = params.text("chat_id")
        if raw is None or not raw.strip():
            raise bad_request("chat_id is empty")
        chat_id = int(raw) if re.fullmatch(r"-?\d+", raw.strip()) else None
        chat = self._world.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, params: Params) -> Chat:
        chat = self._chat(params)
        if chat.user is not None and chat.user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _message_to_edit(self, params: Params) -> StoredMessage:
        if params.text("inline_message_id") is not None:
            raise bad_request("inline messages are not emulated")
        chat = self._chat(params)
        message = chat.messages.get(_message_id(params))
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _input_file(self, params: Params, kind: str) -> StoredFile:
        given = params.upload(kind)
        if given is None or given == "":
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(given, Upload):
            return self._store_upload(given, kind)
        if urlsplit(given).scheme in ("http", "https"):
            raise bad_request("failed to get HTTP URL content")
        stored = self._world.files.get(given)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request("type of file mismatch")
        return stored

    def _store_upload(self, upload: Upload, kind: str) -> StoredFile:
        if not upload.data:
            raise bad_request("file must be non-empty")
        width = height = 0
        if kind == "photo":
            width, height = check_photo(upload.data)
        elif kind == "animation":
            width, height = check_animation(upload.data)
        elif len(upload.data) > MAX_DOCUMENT_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        mime_type = upload.content_type
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(upload.file_name)[0] or "application/octet-stream"
        name = upload.file_name or kind
        return self._world.store_file(kind, upload.data, name, mime_type, width, height)

    def _throttle(self, chat: Chat) -> None:
        """Refuse a message beyond Telegram's flood limits, when they are enforced."""
        if not self.enforce_rate_limits:
            return
        retry_after = self._rate_limiter.retry_after(chat.id)
        if retry_after is not None:
            self.too_many_requests_count += 1
            raise too_many_requests(retry_after)
        self._rate_limiter.record(chat.id)

    def _post_bot_message(
        self,
        chat: Chat,
        params: Params,
        *,
        text: ParsedText | None = None,
        caption: ParsedText | None = None,
        file: StoredFile | None = None,
        reply_markup: JsonDict | None = None,
    ) -> JsonDict:
        message = StoredMessage(
            message_id=chat.next_message_id(),
            chat=chat,
            sender=self._world.bot_user(),
            from_bot=True,
            date=int(time.time()),
            text=text,
            caption=caption,
            parse_mode=params.text("parse_mode"),
            file=file,
            reply_markup=reply_markup,
        )
        chat.add(message)
        self._world.events.add(message.event("message"))
        return message.to_api()

    def _commit_edit(self, original: StoredMessage, edited: StoredMessage) -> JsonDict:
        """Replace the message by its edited copy; an edit that changes nothing is refused."""
        if edited.content() == original.content():
            raise bad_request(_NOT_MODIFIED)
        self._throttle(original.chat)
        edited.edit_date = int(time.time())
        original.chat.add(edited)
        self._world.events.add(edited.event("edit"))
        return edited.to_api()


def _commands_key(params: Params) -> str:
    """The scope and language a command list is kept under, checked as Telegram checks them."""
    scope = params.json("scope", "can't parse BotCommandScope JSON object")
    scope = scope if scope is not None else DEFAULT_SCOPE
    if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
        raise bad_request("unsupported bot command scope type")
    language = params.text("language_code") or ""
    if not _LANGUAGE_CODE.fullmatch(language):
        raise bad_request("invalid language code specified")
    return commands_key(scope, language)


def _message_id(params: Params) -> int:
    message_id = params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    return message_id


def _markup_param(params: Params) -> Any:
    return params.json("reply_markup", "can't parse reply keyboard markup JSON object")


def _caption(params: Params) -> ParsedText | None:
    caption = format_text(params.text("caption") or "", params.text("parse_mode"))
    if utf16_len(caption.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return caption if caption.text else None
