/* coachbot sandbox: a Telegram-like chat with the bot, the sandbox clock and the inspector.
 *
 * Talks only to same-origin JSON routes of the Bot API emulator:
 *   user side   POST /_sandbox/send, POST /_sandbox/press, GET /_sandbox/messages,
 *               GET /_sandbox/events (long poll), GET /_sandbox/commands, GET /_sandbox/files/<id>
 *   bot side    POST /_sandbox/control/next | skip | inspect
 * Message text is never parsed as HTML: every piece of it becomes a DOM text node.
 */
(function () {
  "use strict";

  var DEFAULT_USER_ID = 424242;
  var FIRST_NAME = "You";
  var POLL_TIMEOUT_S = 25;
  var INSPECT_DEBOUNCE_MS = 300;
  var TYPING_MS = 5000;
  var PRESS_MAX_MS = 4000;
  var PRESS_MIN_MS = 300;
  var SVG_NS = "http://www.w3.org/2000/svg";

  var USER_ID = (function () {
    var raw = new URLSearchParams(window.location.search).get("user");
    return raw && /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : DEFAULT_USER_ID;
  })();

  // -- elements ---------------------------------------------------------------------------

  function byId(id) { return document.getElementById(id); }

  var ui = {
    messages: byId("messages"),
    emptyHint: byId("empty-hint"),
    start: byId("start"),
    scrollDown: byId("scroll-down"),
    status: byId("chat-status"),
    form: byId("composer-form"),
    composer: byId("composer"),
    send: byId("send"),
    commandsButton: byId("commands-button"),
    commandMenu: byId("command-menu"),
    sandboxTime: byId("sandbox-time"),
    nextPrompt: byId("next-prompt"),
    skipDays: byId("skip-days"),
    skipCount: byId("skip-count"),
    said: byId("control-said"),
    userId: byId("user-id"),
    inspector: byId("inspector"),
    inspectRefresh: byId("inspect-refresh"),
    inspectorNote: byId("inspector-note"),
    facts: byId("facts"),
    decisionsBlock: byId("decisions-block"),
    decisions: byId("decisions"),
    toasts: byId("toasts"),
    alertDialog: byId("alert-dialog"),
    alertText: byId("alert-text"),
  };

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "className") node.className = value;
        else if (key === "text") node.textContent = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
    return node;
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // -- HTTP -------------------------------------------------------------------------------

  function HttpError(status, message, fromRoute) {
    this.name = "HttpError";
    this.status = status;
    this.message = message;
    this.fromRoute = fromRoute; // the route answered {"error": ...}, as opposed to "no such route"
  }
  HttpError.prototype = Object.create(Error.prototype);

  function request(method, path, body, signal) {
    var init = { method: method, headers: { Accept: "application/json" }, signal: signal };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        if (text) {
          try { data = JSON.parse(text); } catch (error) { data = null; }
        }
        if (!response.ok) {
          var fromRoute = !!data && typeof data.error === "string";
          throw new HttpError(response.status, fromRoute ? data.error
            : response.status + " " + (response.statusText || "error"), fromRoute);
        }
        return data;
      });
    });
  }

  function getJson(path, signal) { return request("GET", path, undefined, signal); }
  function postJson(path, body) { return request("POST", path, body); }

  function errorText(error) {
    if (error instanceof HttpError) return error.message;
    return "Network error: " + (error && error.message ? error.message : "the sandbox is not reachable");
  }

  // -- formatted text (Telegram MessageEntity, offsets in UTF-16 code units) ----------------

  var SAFE_SCHEMES = ["http:", "https:", "mailto:", "tg:", "tel:"];

  function safeUrl(raw) {
    if (typeof raw !== "string" || !raw) return null;
    var candidate = /^[a-z][a-z0-9+.-]*:/i.test(raw) ? raw : "http://" + raw;
    try {
      var url = new URL(candidate);
      return SAFE_SCHEMES.indexOf(url.protocol) >= 0 ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  /* Entities as a tree of [start, end) ranges; one crossing its parent's end is split in two. */
  function entityTree(text, entities) {
    var items = [];
    (entities || []).forEach(function (entity, order) {
      if (!entity || typeof entity.offset !== "number" || typeof entity.length !== "number") return;
      var start = Math.max(0, entity.offset);
      var end = Math.min(text.length, entity.offset + entity.length);
      if (end > start) items.push({ entity: entity, start: start, end: end, order: order });
    });
    function compare(a, b) { return a.start - b.start || b.end - a.end || a.order - b.order; }
    items.sort(compare);
    var root = { start: 0, end: text.length, entity: null, children: [] };
    var stack = [root];
    while (items.length) {
      var item = items.shift();
      while (stack.length > 1 && item.start >= stack[stack.length - 1].end) stack.pop();
      var parent = stack[stack.length - 1];
      var end = item.end;
      if (end > parent.end) {
        var rest = { entity: item.entity, start: parent.end, end: end, order: item.order };
        var at = 0;
        while (at < items.length && compare(items[at], rest) <= 0) at++;
        items.splice(at, 0, rest);
        end = parent.end;
      }
      var node = { start: item.start, end: end, entity: item.entity, children: [] };
      parent.children.push(node);
      stack.push(node);
    }
    return root;
  }

  function renderFormatted(text, entities) {
    text = typeof text === "string" ? text : "";
    var fragment = document.createDocumentFragment();
    fillNode(fragment, text, entityTree(text, entities));
    trimAroundBlocks(fragment);
    linkCommands(fragment);
    return fragment;
  }

  /* Telegram's servers mark every "/command" of a message as a bot_command entity, so its
     clients make them tappable; the emulator marks only a user's leading one. Do the same for
     the others here, in plain text only (not in code, links or existing commands). */
  var COMMAND_IN_TEXT = /(^|[\s(\[«"'])(\/[A-Za-z][A-Za-z0-9_]{0,31}(?:@[A-Za-z0-9_]{3,})?)(?![A-Za-z0-9_\/@])/g;

  function linkCommands(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var found = [];
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      var parent = node.parentNode;
      if (parent && parent.closest && parent.closest("code, pre, a, button, .spoiler")) continue;
      if (node.data.indexOf("/") >= 0) found.push(node);
    }
    found.forEach(function (textNode) {
      var data = textNode.data;
      var pieces = document.createDocumentFragment();
      var position = 0;
      var match;
      COMMAND_IN_TEXT.lastIndex = 0;
      while ((match = COMMAND_IN_TEXT.exec(data)) !== null) {
        var start = match.index + match[1].length;
        if (start > position) pieces.appendChild(document.createTextNode(data.slice(position, start)));
        pieces.appendChild(h("button", { type: "button", className: "bot-command", "data-command": match[2], text: match[2] }));
        position = start + match[2].length;
      }
      if (position === 0) return;
      if (position < data.length) pieces.appendChild(document.createTextNode(data.slice(position)));
      textNode.parentNode.replaceChild(pieces, textNode);
    });
  }

  function fillNode(target, text, node) {
    var position = node.start;
    node.children.forEach(function (child) {
      if (child.start > position) target.appendChild(document.createTextNode(text.slice(position, child.start)));
      target.appendChild(entityElement(text, child));
      position = child.end;
    });
    if (node.end > position) target.appendChild(document.createTextNode(text.slice(position, node.end)));
  }

  function entityElement(text, node) {
    var entity = node.entity;
    var content = text.slice(node.start, node.end);
    var element;
    var inner = null; // where the children go, when not the element itself
    switch (entity.type) {
      case "bold": element = h("strong"); break;
      case "italic": element = h("em"); break;
      case "underline": element = h("u"); break;
      case "strikethrough": element = h("s"); break;
      case "code": element = h("code"); break;
      case "spoiler":
        element = h("span", {
          className: "spoiler", role: "button", tabindex: "0",
          "aria-label": "Hidden text, press to reveal",
        });
        break;
      case "pre":
        inner = h("code", { className: entity.language ? "language-" + entity.language : null });
        element = h("pre", { "data-language": entity.language || null }, [inner]);
        break;
      case "blockquote":
        element = h("blockquote");
        break;
      case "expandable_blockquote":
        element = h("blockquote", { className: "expandable collapsed" });
        break;
      case "text_link":
      case "url":
      case "email":
      case "phone_number": {
        var href = entity.type === "text_link" ? safeUrl(entity.url)
          : entity.type === "url" ? safeUrl(content)
            : entity.type === "email" ? "mailto:" + content
              : "tel:" + content.replace(/[^\d+]/g, "");
        element = href
          ? h("a", { href: href, target: "_blank", rel: "noopener noreferrer" })
          : h("span", { className: "entity-" + entity.type });
        break;
      }
      case "bot_command":
        // The command's own text only: a button holds no nested interactive content.
        return h("button", { type: "button", className: "bot-command", "data-command": content, text: content });
      case "mention":
      case "hashtag":
      case "cashtag":
        element = h("span", { className: "entity-link" });
        break;
      default:
        element = h("span", { className: "entity-" + String(entity.type || "unknown") });
    }
    fillNode(inner || element, text, node);
    if (entity.type === "expandable_blockquote") {
      element.appendChild(h("button", {
        type: "button", className: "quote-toggle", "aria-expanded": "false",
        "aria-label": "Show the whole quote",
      }));
    }
    return element;
  }

  /* A newline next to a block (quote, pre) would render as an empty line: drop it. */
  function trimAroundBlocks(root) {
    var blocks = root.querySelectorAll ? root.querySelectorAll("blockquote, pre") : [];
    Array.prototype.forEach.call(blocks, function (block) {
      var before = block.previousSibling;
      if (before && before.nodeType === 3 && /\n$/.test(before.data)) before.data = before.data.slice(0, -1);
      var after = block.nextSibling;
      if (after && after.nodeType === 3 && /^\n/.test(after.data)) after.data = after.data.slice(1);
    });
  }

  function commandEntities(text) {
    var match = /^\/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?/.exec(text);
    return match ? [{ type: "bot_command", offset: 0, length: match[0].length }] : [];
  }

  // -- messages ---------------------------------------------------------------------------

  var PLACEHOLDERS = {
    sticker: "Sticker", voice: "Voice message", video: "Video", video_note: "Video message",
    audio: "Audio", location: "Location", contact: "Contact", poll: "Poll",
  };

  function normalize(raw, fromBot) {
    var kind = raw.kind || (raw.photo ? "photo" : raw.animation ? "animation" : raw.document ? "document" : "text");
    return {
      message_id: raw.message_id,
      from_bot: raw.from_bot !== undefined ? !!raw.from_bot : fromBot,
      text: raw.text,
      entities: raw.entities || [],
      caption: raw.caption,
      caption_entities: raw.caption_entities || [],
      buttons: Array.isArray(raw.buttons) ? raw.buttons : [],
      photo: raw.photo || null,
      document: raw.document || null,
      animation: raw.animation || null,
      kind: kind,
      edited: !!raw.edited,
    };
  }

  function fileUrl(file, download) {
    return "/_sandbox/files/" + encodeURIComponent(file.file_id) + (download ? "?download=1" : "");
  }

  function humanSize(bytes) {
    if (typeof bytes !== "number" || !isFinite(bytes) || bytes < 0) return "";
    if (bytes < 1024) return bytes + " B";
    var units = ["KB", "MB", "GB"];
    var value = bytes / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
    return (value < 10 ? value.toFixed(1) : String(Math.round(value))) + " " + units[unit];
  }

  function mediaBlock(file, isAnimation, altText) {
    var img = h("img", {
      src: fileUrl(file),
      alt: altText || (isAnimation ? "Animation" : "Photo"),
      width: file.width || null,
      height: file.height || null,
      decoding: "async",
    });
    img.addEventListener("load", onContentResize);
    var link = h("a", {
      className: "media-link", href: fileUrl(file), target: "_blank", rel: "noopener",
      title: "Open full size",
    }, [img]);
    var frame = h("div", { className: "media-frame" }, [link]);
    return frame;
  }

  function documentBlock(file) {
    var name = file.file_name || "file";
    var size = humanSize(file.size);
    var icon = svg("svg", { viewBox: "0 0 24 24", width: 22, height: 22, "aria-hidden": "true", focusable: "false" });
    icon.appendChild(svg("path", {
      d: "M14 3H7a2 2 0 00-2 2v14a2 2 0 002 2h10a2 2 0 002-2V8z M14 3v5h5 M9 13h6 M9 17h4",
      fill: "none", stroke: "currentColor", "stroke-width": 1.8, "stroke-linejoin": "round", "stroke-linecap": "round",
    }));
    var iconLink = h("a", {
      className: "doc-icon", href: fileUrl(file, true), download: name, tabindex: "-1", "aria-hidden": "true",
    });
    iconLink.appendChild(icon);
    var download = h("a", {
      className: "doc-download", href: fileUrl(file, true), download: name,
      "aria-label": "Download " + name + (size ? " (" + size + ")" : ""), text: "Download",
    });
    var sizeLine = h("span", { className: "doc-size" }, [size ? size + " \u00B7 " : "", download]);
    return h("div", { className: "document" }, [
      iconLink,
      h("div", { className: "doc-info" }, [h("span", { className: "doc-name", title: name, text: name }), sizeLine]),
    ]);
  }

  function keyboardBlock(message) {
    var rows = message.buttons.filter(function (row) { return Array.isArray(row) && row.length; });
    if (!rows.length) return null;
    var keyboard = h("div", { className: "keyboard", role: "group", "aria-label": "Buttons" });
    rows.forEach(function (row) {
      var line = h("div", { className: "keyboard-row" });
      row.forEach(function (button) {
        var label = String(button.text || "");
        var node;
        if (typeof button.callback_data === "string") {
          node = h("button", { type: "button", className: "inline-button", "data-callback-data": button.callback_data, text: label });
        } else if (button.url && safeUrl(button.url)) {
          node = h("button", {
            type: "button", className: "inline-button url-button", "data-url": safeUrl(button.url),
            title: button.url, "aria-label": label + " (opens a link)",
          }, [label]);
        } else {
          node = h("button", { type: "button", className: "inline-button", disabled: true, title: "Not available in the sandbox", text: label });
        }
        line.appendChild(node);
      });
      keyboard.appendChild(line);
    });
    return keyboard;
  }

  function metaLabel(message, state) {
    if (state === "pending") return "sending\u2026";
    if (state === "failed") return "not sent";
    var parts = [];
    if (message.edited) parts.push("edited");
    if (!message.from_bot) parts.push("\u2713");
    return parts.join(" ");
  }

  function messageElement(message, state) {
    var hasMedia = message.photo || message.animation;
    var bubble = h("div", { className: "bubble" + (hasMedia ? " has-media" : "") + (message.document ? " has-document" : "") });
    var bodyText = message.text;
    var bodyEntities = message.entities;
    if (typeof bodyText !== "string" || bodyText === "") {
      bodyText = message.caption;
      bodyEntities = message.caption_entities;
    }
    var hasText = typeof bodyText === "string" && bodyText !== "";

    var picture = message.photo || message.animation;
    if (picture) bubble.style.width = Math.max(200, Math.min(400, picture.width || 320)) + "px";
    if (message.photo) bubble.appendChild(mediaBlock(message.photo, false, hasText ? bodyText : null));
    if (message.animation) bubble.appendChild(mediaBlock(message.animation, true, hasText ? bodyText : null));
    if (message.document) bubble.appendChild(documentBlock(message.document));

    var textBox = null;
    if (hasText) {
      textBox = h("div", { className: "text" });
      textBox.appendChild(renderFormatted(bodyText, bodyEntities));
      bubble.appendChild(textBox);
    } else if (!hasMedia && !message.document) {
      var label = PLACEHOLDERS[message.kind] || (message.kind && message.kind !== "text" ? message.kind : "Empty message");
      textBox = h("div", { className: "text placeholder", text: label });
      bubble.appendChild(textBox);
    }

    var meta = metaLabel(message, state);
    if (meta) {
      var spacerHost = textBox || (message.document ? bubble.querySelector(".doc-size") : null);
      // The label is CSS generated content: the message's own text stays exactly the text.
      if (spacerHost) spacerHost.appendChild(h("span", { className: "meta-spacer", "aria-hidden": "true", "data-meta": meta }));
      bubble.appendChild(h("span", { className: "meta" + (spacerHost ? "" : " on-media"), "data-meta": meta }));
    }

    var node = h("div", {
      className: "message " + (message.from_bot ? "from-bot" : "from-user") + (state ? " " + state : ""),
      "data-message-id": message.message_id !== undefined && message.message_id !== null ? message.message_id : null,
      "data-kind": message.kind,
      "data-edited": message.edited ? "true" : null,
    }, [bubble]);
    var keyboard = keyboardBlock(message);
    if (keyboard) node.appendChild(keyboard);
    return node;
  }

  function findMessage(messageId) {
    if (messageId === null || messageId === undefined) return null;
    return ui.messages.querySelector('.message[data-message-id="' + Number(messageId) + '"]');
  }

  /* Messages stay in message_id order; ones still being sent (no id yet) stay last. */
  function placeMessage(node) {
    var id = Number(node.getAttribute("data-message-id"));
    var before = null;
    if (node.hasAttribute("data-message-id")) {
      var children = ui.messages.children;
      for (var i = 0; i < children.length; i++) {
        var other = children[i];
        if (other === node) continue;
        if (!other.hasAttribute("data-message-id") || Number(other.getAttribute("data-message-id")) > id) {
          before = other;
          break;
        }
      }
    }
    if (node.parentNode !== ui.messages || node.nextSibling !== before) ui.messages.insertBefore(node, before);
    afterPlacement(node);
  }

  function afterPlacement(node) {
    window.requestAnimationFrame(function () {
      Array.prototype.forEach.call(node.querySelectorAll("blockquote.expandable.collapsed"), function (quote) {
        if (quote.scrollHeight <= quote.clientHeight + 2) {
          quote.classList.remove("collapsed", "expandable");
          var toggle = quote.querySelector(".quote-toggle");
          if (toggle) toggle.remove();
        }
      });
    });
  }

  function replaceMessage(old, node) {
    var focusIndex = -1;
    if (old.contains(document.activeElement)) {
      focusIndex = Array.prototype.indexOf.call(old.querySelectorAll("button, a[href]"), document.activeElement);
    }
    old.replaceWith(node);
    placeMessage(node);
    if (focusIndex >= 0) {
      var target = node.querySelectorAll("button, a[href]")[focusIndex];
      (target && !target.disabled ? target : ui.messages).focus();
    }
  }

  function upsertMessage(message, options) {
    var existing = findMessage(message.message_id);
    if (existing && options && options.onlyIfNew) return;
    withScroll(function () {
      var node = messageElement(message);
      if (existing) replaceMessage(existing, node);
      else placeMessage(node);
    });
  }

  function removeMessage(messageId) {
    var node = findMessage(messageId);
    if (!node) return;
    if (node.contains(document.activeElement)) ui.messages.focus();
    node.remove();
    updateEmptyHint();
  }

  function renderHistory(list) {
    withScroll(function () {
      Array.prototype.slice.call(ui.messages.querySelectorAll(".message[data-message-id]")).forEach(function (node) {
        node.remove();
      });
      (list || []).forEach(function (raw) { placeMessage(messageElement(normalize(raw, !!raw.from_bot))); });
    }, true);
  }

  // -- scrolling and the empty chat --------------------------------------------------------

  var stickToBottom = true;

  function nearBottom() {
    var box = ui.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight < 48;
  }

  function scrollToBottom(smooth) {
    var box = ui.messages;
    if (smooth && box.scrollTo) box.scrollTo({ top: box.scrollHeight, behavior: "smooth" });
    else box.scrollTop = box.scrollHeight;
    stickToBottom = true;
    ui.scrollDown.hidden = true;
  }

  function withScroll(change, force) {
    var stick = force || stickToBottom || nearBottom();
    change();
    updateEmptyHint();
    if (stick) scrollToBottom(false);
    else ui.scrollDown.hidden = false;
  }

  function onContentResize() {
    if (stickToBottom) scrollToBottom(false);
  }

  function updateEmptyHint() {
    ui.emptyHint.hidden = ui.messages.querySelector(".message") !== null;
  }

  // -- sending ----------------------------------------------------------------------------

  function sendText(raw) {
    var text = String(raw || "").trim();
    if (!text) return Promise.resolve();
    var message = normalize({ text: text, entities: commandEntities(text) }, false);
    var node = messageElement(message, "pending");
    withScroll(function () { ui.messages.appendChild(node); }, true);
    return postJson("/_sandbox/send", { user_id: USER_ID, text: text, first_name: FIRST_NAME }).then(function (answer) {
      message.message_id = answer && answer.message_id;
      var existing = findMessage(message.message_id);
      if (existing) { // already shown by a resync
        node.remove();
        return;
      }
      var sent = messageElement(message);
      if (node.isConnected) withScroll(function () { replaceMessage(node, sent); });
    }, function (error) {
      var failed = messageElement(message, "failed");
      failed.title = errorText(error);
      if (node.isConnected) replaceMessage(node, failed);
      toast("Not sent: " + errorText(error), "error");
    });
  }

  // -- inline buttons ---------------------------------------------------------------------

  var pendingPresses = {}; // message_id -> {button, timer, started}

  function pressButton(button) {
    if (button.getAttribute("aria-disabled") === "true") return;
    var node = button.closest(".message");
    var messageId = Number(node && node.getAttribute("data-message-id"));
    if (!messageId) return;
    var url = button.getAttribute("data-url");
    if (url) {
      window.open(url, "_blank", "noopener,noreferrer");
      return;
    }
    var data = button.getAttribute("data-callback-data");
    settlePress(messageId, true);
    button.classList.add("pressed");
    button.setAttribute("aria-disabled", "true");
    button.setAttribute("aria-busy", "true");
    pendingPresses[messageId] = {
      button: button,
      started: Date.now(),
      timer: setTimeout(function () { settlePress(messageId, true); }, PRESS_MAX_MS),
    };
    postJson("/_sandbox/press", { user_id: USER_ID, message_id: messageId, callback_data: data }).catch(function (error) {
      settlePress(messageId, true);
      toast(errorText(error), "error");
    });
  }

  function settlePress(messageId, now) {
    var pending = pendingPresses[messageId];
    if (!pending) return;
    delete pendingPresses[messageId];
    clearTimeout(pending.timer);
    var wait = now ? 0 : Math.max(0, PRESS_MIN_MS - (Date.now() - pending.started));
    setTimeout(function () {
      pending.button.classList.remove("pressed");
      pending.button.removeAttribute("aria-disabled");
      pending.button.removeAttribute("aria-busy");
    }, wait);
  }

  // -- bot events -------------------------------------------------------------------------

  var lastSeq = 0;
  var connected = true;
  var typingAction = null;
  var typingTimer = null;

  var ACTIONS = {
    typing: "typing\u2026",
    upload_photo: "sending a photo\u2026",
    upload_document: "sending a file\u2026",
    upload_video: "sending a video\u2026",
    record_video: "recording a video\u2026",
    record_voice: "recording a voice message\u2026",
    upload_voice: "sending a voice message\u2026",
    choose_sticker: "choosing a sticker\u2026",
    find_location: "finding a location\u2026",
  };

  function updateStatus() {
    if (!connected) {
      ui.status.textContent = "reconnecting\u2026";
      ui.status.setAttribute("data-state", "reconnecting");
    } else if (typingAction) {
      ui.status.textContent = "coachbot is " + typingAction;
      ui.status.setAttribute("data-state", "typing");
    } else {
      ui.status.textContent = "bot";
      ui.status.setAttribute("data-state", "online");
    }
  }

  function setConnected(value) {
    if (connected === value) return;
    connected = value;
    updateStatus();
  }

  function showAction(action) {
    clearTimeout(typingTimer);
    typingAction = ACTIONS[action] || String(action || "typing").replace(/_/g, " ") + "\u2026";
    typingTimer = setTimeout(clearAction, TYPING_MS);
    updateStatus();
  }

  function clearAction() {
    clearTimeout(typingTimer);
    if (typingAction === null) return;
    typingAction = null;
    updateStatus();
  }

  function handleEvent(event) {
    switch (event.type) {
      case "message":
        clearAction();
        upsertMessage(normalize(event, true), { onlyIfNew: true });
        break;
      case "edit": {
        var edited = normalize(event, true);
        edited.edited = true;
        upsertMessage(edited);
        settlePress(event.message_id);
        break;
      }
      case "delete":
        removeMessage(event.message_id);
        break;
      case "callback_answer":
        settlePress(event.message_id);
        if (event.callback_text) {
          if (event.show_alert) showAlert(event.callback_text);
          else toast(event.callback_text);
        }
        break;
      case "chat_action":
        showAction(event.action);
        break;
      default:
        break;
    }
  }

  function handleEvents(answer) {
    var events = (answer && answer.events) || [];
    events.forEach(function (event) {
      try { handleEvent(event); } catch (error) { console.error("event", event, error); }
    });
    if (answer && typeof answer.last === "number") lastSeq = answer.last;
    if (events.length) scheduleInspect();
  }

  /* Where the chat stands now: the latest event number, then the messages as they are. */
  function resync() {
    return getJson("/_sandbox/events?chat_id=" + USER_ID + "&after=0&timeout=0").then(function (answer) {
      var last = answer && typeof answer.last === "number" ? answer.last : 0;
      return getJson("/_sandbox/messages?chat_id=" + USER_ID).then(function (list) {
        renderHistory(Array.isArray(list) ? list : []);
        lastSeq = last;
      });
    });
  }

  function backoff(failures) { return Math.min(3000, 500 * Math.pow(2, Math.min(failures - 1, 3))); }

  async function connect() {
    var failures = 0;
    for (;;) {
      try {
        await resync();
        setConnected(true);
        return;
      } catch (error) {
        failures++;
        setConnected(false);
        await sleep(backoff(failures));
      }
    }
  }

  async function pollForever() {
    var failures = 0;
    for (;;) {
      try {
        if (failures) {
          // Back after an outage: the server may have restarted (its event numbers with it),
          // so start again from what it has now rather than long-polling a stale number.
          await resync();
          failures = 0;
          setConnected(true);
          scheduleInspect();
          continue;
        }
        var controller = window.AbortController ? new AbortController() : null;
        var guard = setTimeout(function () { if (controller) controller.abort(); }, (POLL_TIMEOUT_S + 15) * 1000);
        try {
          var answer = await getJson(
            "/_sandbox/events?chat_id=" + USER_ID + "&after=" + lastSeq + "&timeout=" + POLL_TIMEOUT_S,
            controller ? controller.signal : undefined
          );
        } finally {
          clearTimeout(guard);
        }
        handleEvents(answer);
      } catch (error) {
        failures++;
        setConnected(false);
        await sleep(backoff(failures));
      }
    }
  }

  // -- toasts and alerts ------------------------------------------------------------------

  function toast(text, kind) {
    var node = h("div", { className: "toast" + (kind ? " " + kind : ""), text: text });
    if (kind === "error") node.setAttribute("role", "alert");
    ui.toasts.appendChild(node);
    while (ui.toasts.children.length > 3) ui.toasts.firstChild.remove();
    setTimeout(function () {
      node.classList.add("leaving");
      setTimeout(function () { node.remove(); }, 350);
    }, kind === "error" ? 5000 : 3200);
  }

  function showAlert(text) {
    var dialog = ui.alertDialog;
    ui.alertText.textContent = text;
    if (typeof dialog.showModal !== "function") {
      window.alert(text);
      return;
    }
    if (!dialog.open) dialog.showModal();
    byId("alert-ok").focus();
  }

  // -- command menu -----------------------------------------------------------------------

  var commands = [];
  var commandsLoaded = false;
  var menu = { open: false, items: [], active: -1 };

  function loadCommands() {
    return getJson("/_sandbox/commands").then(function (list) {
      commands = (Array.isArray(list) ? list : []).filter(function (c) { return c && typeof c.command === "string"; });
      commandsLoaded = true;
    }, function () { commandsLoaded = false; });
  }

  function commandFilter() {
    var match = /^\/([A-Za-z0-9_]*)(@\S*)?$/.exec(ui.composer.value);
    return match ? match[1].toLowerCase() : null;
  }

  function openMenu(prefix) {
    var items = commands.filter(function (c) { return !prefix || c.command.toLowerCase().indexOf(prefix) === 0; });
    if (prefix !== "" && prefix !== null && !items.length) {
      closeMenu();
      return;
    }
    menu.open = true;
    menu.items = items;
    menu.active = items.length ? 0 : -1;
    ui.commandMenu.textContent = "";
    if (!items.length) {
      ui.commandMenu.appendChild(h("li", {
        className: "command-item empty", role: "option", "aria-disabled": "true",
        text: commandsLoaded ? "The bot has no commands yet." : "Loading the commands\u2026",
      }));
    }
    items.forEach(function (c, index) {
      var option = h("li", {
        id: "command-option-" + index, className: "command-item", role: "option",
        "data-command": c.command, "aria-selected": index === menu.active ? "true" : "false",
      }, [
        h("span", { className: "command-name", text: "/" + c.command }),
        h("span", { className: "command-desc", text: c.description || "" }),
      ]);
      option.addEventListener("mousedown", function (event) { event.preventDefault(); });
      option.addEventListener("click", function () { chooseCommand(c.command); });
      ui.commandMenu.appendChild(option);
    });
    ui.commandMenu.hidden = false;
    ui.commandsButton.setAttribute("aria-expanded", "true");
    highlight(menu.active);
  }

  function closeMenu() {
    if (!menu.open && ui.commandMenu.hidden) return;
    menu.open = false;
    menu.items = [];
    menu.active = -1;
    ui.commandMenu.hidden = true;
    ui.commandMenu.textContent = "";
    ui.commandsButton.setAttribute("aria-expanded", "false");
    ui.composer.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    menu.active = index;
    Array.prototype.forEach.call(ui.commandMenu.querySelectorAll("[data-command]"), function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
      if (i === index) option.scrollIntoView({ block: "nearest" });
    });
    if (index >= 0) ui.composer.setAttribute("aria-activedescendant", "command-option-" + index);
    else ui.composer.removeAttribute("aria-activedescendant");
  }

  function chooseCommand(command) {
    closeMenu();
    ui.composer.value = "";
    autosize();
    ui.composer.focus();
    sendText("/" + command);
  }

  function syncMenuWithText() {
    var prefix = commandFilter();
    if (prefix === null) closeMenu();
    else openMenu(prefix);
  }

  // -- composer ---------------------------------------------------------------------------

  function autosize() {
    var box = ui.composer;
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight, 160) + "px";
    ui.send.classList.toggle("idle", box.value.trim() === "");
  }

  function submitComposer() {
    var text = ui.composer.value;
    if (!text.trim()) return;
    ui.composer.value = "";
    autosize();
    closeMenu();
    sendText(text);
  }

  function setUpComposer() {
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitComposer();
      ui.composer.focus();
    });
    ui.composer.addEventListener("input", function () {
      autosize();
      syncMenuWithText();
    });
    ui.composer.addEventListener("keydown", function (event) {
      if (event.isComposing) return;
      if (menu.open && menu.items.length) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          var step = event.key === "ArrowDown" ? 1 : -1;
          highlight((menu.active + step + menu.items.length) % menu.items.length);
          return;
        }
        if (event.key === "Enter" && !event.shiftKey && menu.active >= 0) {
          event.preventDefault();
          chooseCommand(menu.items[menu.active].command);
          return;
        }
      }
      if (event.key === "Escape" && menu.open) {
        event.preventDefault();
        closeMenu();
        return;
      }
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        submitComposer();
      }
    });
    ui.commandsButton.addEventListener("click", function () {
      if (menu.open) {
        closeMenu();
      } else {
        var prefix = commandFilter();
        openMenu(prefix || "");
        if (!commandsLoaded) loadCommands().then(function () { if (menu.open) openMenu(commandFilter() || ""); });
      }
      ui.composer.focus();
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !event.target.closest(".composer-area")) closeMenu();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        closeMenu();
        ui.composer.focus();
      }
    });
    autosize();
  }

  // -- message list interactions ----------------------------------------------------------

  function revealSpoiler(spoiler) {
    spoiler.classList.add("revealed");
    spoiler.removeAttribute("role");
    spoiler.removeAttribute("tabindex");
    spoiler.removeAttribute("aria-label");
  }

  function setUpMessageList() {
    ui.messages.addEventListener("click", function (event) {
      var target = event.target;
      var spoiler = target.closest(".spoiler:not(.revealed)");
      if (spoiler) {
        event.preventDefault();
        revealSpoiler(spoiler);
        return;
      }
      var command = target.closest(".bot-command");
      if (command) {
        sendText(command.getAttribute("data-command"));
        return;
      }
      var toggle = target.closest(".quote-toggle");
      if (toggle) {
        var quote = toggle.closest("blockquote");
        var collapsed = quote.classList.toggle("collapsed");
        toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
        toggle.setAttribute("aria-label", collapsed ? "Show the whole quote" : "Show less");
        return;
      }
      var button = target.closest(".inline-button");
      if (button && !button.disabled) pressButton(button);
    });
    ui.messages.addEventListener("keydown", function (event) {
      var spoiler = event.target.closest && event.target.closest(".spoiler:not(.revealed)");
      if (spoiler && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        revealSpoiler(spoiler);
      }
    });
    ui.messages.addEventListener("scroll", function () {
      stickToBottom = nearBottom();
      ui.scrollDown.hidden = stickToBottom;
    }, { passive: true });
    ui.scrollDown.addEventListener("click", function () {
      scrollToBottom(true);
      ui.messages.focus({ preventScroll: true });
    });
    ui.start.addEventListener("click", function () {
      sendText("/start");
      ui.composer.focus();
    });
    window.addEventListener("resize", onContentResize);
  }

  // -- time controls ----------------------------------------------------------------------

  var controlBusy = false;

  function setControlsBusy(busy) {
    controlBusy = busy;
    ui.nextPrompt.disabled = busy;
    ui.skipDays.disabled = busy;
    byId("time-controls").setAttribute("aria-busy", busy ? "true" : "false");
  }

  function setSaid(text, isError) {
    ui.said.textContent = text || "";
    ui.said.classList.toggle("error", !!isError);
  }

  function setSandboxTime(localTime) {
    if (!localTime) return;
    ui.sandboxTime.textContent = "";
    ui.sandboxTime.appendChild(timeNodes(localTime));
  }

  /* "Tue 1 Dec, 07:45 America/Argentina/Buenos_Aires": the time, then its zone on a line of
     its own (long zone names do not fit beside it); the text itself is unchanged. */
  function timeNodes(text) {
    var fragment = document.createDocumentFragment();
    var match = /^(.*\S)\s+([A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)+|UTC|GMT)$/.exec(String(text));
    if (!match) {
      fragment.appendChild(document.createTextNode(String(text)));
      return fragment;
    }
    fragment.appendChild(h("span", { className: "time-main", text: match[1] }));
    fragment.appendChild(document.createTextNode(" "));
    fragment.appendChild(h("span", { className: "time-zone", text: match[2] }));
    return fragment;
  }

  function runControl(action, body, button) {
    if (controlBusy) return;
    setControlsBusy(true);
    setSaid(action === "next" ? "Moving to the next prompt\u2026" : "Skipping ahead\u2026");
    var payload = Object.assign({ user_id: USER_ID }, body || {});
    postJson("/_sandbox/control/" + action, payload).then(function (answer) {
      setSandboxTime(answer && answer.local_time);
      setSaid((answer && answer.said) || "Done.");
    }, function (error) {
      setSaid(errorText(error), true);
      toast(errorText(error), "error");
    }).then(function () {
      var refocus = document.activeElement === document.body || document.activeElement === null;
      setControlsBusy(false);
      if (refocus && button) button.focus();
      scheduleInspect(0);
    });
  }

  function setUpControls() {
    ui.userId.textContent = String(USER_ID);
    ui.nextPrompt.addEventListener("click", function () { runControl("next", {}, ui.nextPrompt); });
    ui.skipDays.addEventListener("click", function () {
      var days = Number(ui.skipCount.value);
      if (!Number.isInteger(days) || days < 1 || days > 28) {
        ui.skipCount.setAttribute("aria-invalid", "true");
        setSaid("Choose a number of days from 1 to 28.", true);
        ui.skipCount.focus();
        return;
      }
      ui.skipCount.removeAttribute("aria-invalid");
      runControl("skip", { days: days }, ui.skipDays);
    });
    ui.skipCount.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        ui.skipDays.click();
      }
    });
    ui.skipCount.addEventListener("input", function () { ui.skipCount.removeAttribute("aria-invalid"); });
    ui.inspectRefresh.addEventListener("click", function () { scheduleInspect(0); });
  }

  // -- inspector --------------------------------------------------------------------------

  var inspectTimer = null;
  var inspecting = false;
  var inspectAgain = false;

  function scheduleInspect(delay) {
    clearTimeout(inspectTimer);
    inspectTimer = setTimeout(refreshInspector, delay === undefined ? INSPECT_DEBOUNCE_MS : delay);
  }

  function refreshInspector() {
    if (inspecting) {
      inspectAgain = true;
      return Promise.resolve();
    }
    inspecting = true;
    ui.inspector.setAttribute("aria-busy", "true");
    return postJson("/_sandbox/control/inspect", { user_id: USER_ID }).then(renderInspector, function (error) {
      ui.inspectorNote.classList.add("error");
      ui.inspectorNote.textContent = error instanceof HttpError && error.status === 404 && !error.fromRoute
        ? "The inspector is not available on this server."
        : "Could not inspect: " + errorText(error);
    }).then(function () {
      inspecting = false;
      ui.inspector.setAttribute("aria-busy", "false");
      if (inspectAgain) {
        inspectAgain = false;
        scheduleInspect();
      }
    });
  }

  function field(name) { return ui.inspector.querySelector('[data-field="' + name + '"]'); }

  function setField(name, value) {
    var node = field(name);
    node.textContent = value === null || value === undefined || value === "" ? "\u2013" : String(value);
    return node;
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function renderInspector(data) {
    data = data || {};
    setSandboxTime(data.local_time);
    ui.inspectorNote.classList.remove("error");
    if (!data.enrolled) {
      ui.inspectorNote.textContent = "Not enrolled yet: type /start in the chat.";
      ui.facts.hidden = true;
      ui.decisionsBlock.hidden = true;
      ui.decisions.textContent = "";
      return;
    }
    ui.inspectorNote.textContent = "";
    ui.facts.hidden = false;

    setField("day", data.day);
    setField("injury", data.injury);
    setField("group", data.group);
    setField("phase", data.phase);
    var since = "";
    if (data.phase_since !== null && data.phase_since !== undefined) {
      since = "since day " + data.phase_since;
      if (typeof data.days_in_phase === "number") since += " (" + plural(data.days_in_phase, "day") + ")";
    }
    field("phase-since").textContent = since;

    var status = setField("status", data.status);
    status.setAttribute("data-status", data.status || "");
    status.className = "badge status-" + String(data.status || "unknown");

    var holds = field("holds");
    holds.textContent = "";
    var holdList = Array.isArray(data.holds) ? data.holds : [];
    if (!holdList.length) {
      holds.appendChild(h("span", { className: "none", text: "none" }));
    } else {
      holds.appendChild(h("ul", { className: "holds-list" }, holdList.map(function (hold) {
        return h("li", { text: String(hold) });
      })));
    }

    var next = field("next-prompt");
    next.textContent = "";
    next.appendChild(timeNodes(data.next_prompt || "none"));
    renderRatings(Array.isArray(data.ratings) ? data.ratings : []);
    renderDecisions(Array.isArray(data.decisions) ? data.decisions : []);
  }

  function renderRatings(ratings) {
    var target = field("ratings");
    target.textContent = "";
    var points = ratings.filter(function (r) { return Array.isArray(r) && r.length >= 2 && typeof r[1] === "number"; });
    if (!points.length) {
      target.appendChild(h("span", { className: "none", text: "none yet" }));
      return;
    }
    var box = h("div", { className: "ratings" });
    if (points.length >= 2) box.appendChild(sparkline(points));
    var shown = points.slice(-12).map(function (p) { return String(p[1]); });
    var label = (points.length > 12 ? "\u2026 \u2192 " : "") + shown.join(" \u2192 ");
    box.appendChild(h("span", {
      className: "ratings-text",
      title: points.map(function (p) { return "day " + p[0] + ": " + p[1]; }).join(", "),
      text: label,
    }));
    target.appendChild(box);
  }

  function sparkline(points) {
    var width = 180;
    var height = 40;
    var pad = 4;
    var days = points.map(function (p) { return Number(p[0]) || 0; });
    var minDay = Math.min.apply(null, days);
    var maxDay = Math.max.apply(null, days);
    var top = Math.max(10, Math.max.apply(null, points.map(function (p) { return p[1]; })));
    function x(day) { return pad + (maxDay === minDay ? 0 : (day - minDay) / (maxDay - minDay)) * (width - 2 * pad); }
    function y(value) { return pad + (1 - value / top) * (height - 2 * pad); }
    var chart = svg("svg", {
      viewBox: "0 0 " + width + " " + height, width: width, height: height,
      class: "sparkline", "aria-hidden": "true", focusable: "false",
    });
    chart.appendChild(svg("line", { x1: pad, x2: width - pad, y1: height - pad, y2: height - pad, stroke: "#e3e6e8", "stroke-width": 1 }));
    var coords = points.map(function (p) { return x(Number(p[0]) || 0).toFixed(1) + "," + y(p[1]).toFixed(1); });
    chart.appendChild(svg("polyline", {
      points: coords.join(" "), fill: "none", stroke: "currentColor", "stroke-width": 2,
      "stroke-linejoin": "round", "stroke-linecap": "round",
    }));
    var lastPoint = points[points.length - 1];
    chart.appendChild(svg("circle", { cx: x(Number(lastPoint[0]) || 0), cy: y(lastPoint[1]), r: 3, fill: "currentColor" }));
    return chart;
  }

  function renderDecisions(decisions) {
    ui.decisionsBlock.hidden = false;
    ui.decisions.textContent = "";
    var old = ui.decisionsBlock.querySelector(".decisions-empty");
    if (old) old.remove();
    if (!decisions.length) {
      ui.decisionsBlock.appendChild(h("p", { className: "decisions-empty", text: "No decisions yet." }));
      return;
    }
    decisions.forEach(function (d) {
      var head = [];
      if (d.day !== undefined && d.day !== null) head.push(h("span", { className: "decision-day", text: "Day " + d.day }));
      if (d.rule) head.push(h("span", { className: "decision-rule", text: String(d.rule) }));
      if (d.kind) head.push(h("span", { className: "decision-kind", text: String(d.kind) }));
      ui.decisions.appendChild(h("li", {
        className: "decision", "data-kind": d.kind || "other", "data-rule": d.rule || null, "data-day": d.day,
      }, [
        h("div", { className: "decision-head" }, head),
        h("strong", { className: "decision-summary", text: String(d.summary || "") }),
        d.why ? h("p", { className: "decision-why", text: String(d.why) }) : null,
      ]));
    });
  }

  // -- start ------------------------------------------------------------------------------

  function main() {
    setUpComposer();
    setUpMessageList();
    setUpControls();
    updateStatus();
    loadCommands();
    scheduleInspect(0);
    connect().then(function () {
      updateEmptyHint();
      pollForever();
    });
  }

  // Exposed for browser tests and debugging only.
  window.coachbotSandbox = {
    userId: USER_ID,
    renderFormatted: renderFormatted,
    refreshInspector: refreshInspector,
    get lastSeq() { return lastSeq; },
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
