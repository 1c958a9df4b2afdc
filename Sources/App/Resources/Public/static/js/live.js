// SecMon live updates: the dashboard and the incident page follow the server's live feed
// (/live, a WebSocket on this site only). Text only ever goes in with textContent; whole
// sections are fetched from the server, which escapes them. Without this script the pages work
// and show the state when they were loaded (each has a Reload link).
(function () {
  "use strict";

  var socket = null;
  var retry = 1000;
  var handlers = [];

  function status(text, live) {
    var badge = document.getElementById("live-status");
    if (!badge) return;
    badge.textContent = text;
    badge.className = "badge" + (live ? " live" : "");
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/live");
    socket.onopen = function () { retry = 1000; status("live", true); };
    socket.onmessage = function (message) {
      var parsed;
      try { parsed = JSON.parse(message.data); } catch (e) { return; }
      if (parsed.type === "closing") { status("closed: " + (parsed.data && parsed.data.reason), false); return; }
      handlers.forEach(function (handler) { handler(parsed.type, parsed.data || {}); });
    };
    socket.onclose = function () {
      status("reconnecting…", false);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  // Replaces the element with `id` by the same one from `html` (a page or fragment from this server).
  function swap(html, ids) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    ids.forEach(function (id) {
      var now = document.getElementById(id), next = fresh.getElementById(id);
      // Never under the analyst's hands: a section holding the focus (a form being filled) stays.
      if (now && next && !now.contains(document.activeElement)) now.replaceWith(document.importNode(next, true));
    });
  }

  // Runs `work` at most once per `ms`, coalescing calls in between.
  function throttled(work, ms) {
    var pending = false, last = 0;
    return function () {
      if (pending) return;
      var wait = Math.max(0, last + ms - Date.now());
      pending = true;
      setTimeout(function () { pending = false; last = Date.now(); work(); }, wait);
    };
  }

  // Adds a line at the top of a list (or, with `key`, updates the line already there for it).
  function prepend(listId, text, href, key) {
    var list = document.getElementById(listId);
    if (!list) return;
    var empty = list.querySelector("li.muted");
    if (empty) empty.remove();
    if (key) {
      var existing = Array.prototype.find.call(list.children, function (li) { return li.getAttribute("data-key") === key; });
      if (existing) {
        var target = existing.querySelector("a") || existing;
        target.textContent = text;
        existing.className = "fresh";
        return;
      }
    }
    var item = document.createElement("li");
    if (key) item.setAttribute("data-key", key);
    item.className = "fresh";
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      item.appendChild(link);
    } else {
      item.textContent = text;
    }
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 20) list.removeChild(list.lastChild);
  }

  function time(iso) { return (iso || "").slice(11, 19); }

  function dashboard() {
    var refresh = throttled(function () {
      fetch("/dashboard/panels", { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (!html) return;
        var holder = document.getElementById("panels");
        if (!holder) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        holder.replaceChildren.apply(holder, Array.prototype.map.call(fresh.body.children, function (node) { return document.importNode(node, true); }));
      }).catch(function () {});
    }, 2000);
    handlers.push(function (type, data) {
      if (type === "alert") {
        prepend("live-alerts", time(data.first) + " " + data.level + " " + data.rule + " " + data.title + " (" + (data.about || []).join(", ") + ", " + data.events + " events" + (data.status === "closed" ? ", closed" : "") + ")" + (data.note ? " — " + data.note : ""), "/alerts?rule=" + encodeURIComponent(data.rule), "alert-" + data.id);
        refresh();
      } else if (type === "incident") {
        if (data.change === "created") prepend("live-alerts", "Incident opened: " + data.severity + " " + data.title, "/incidents/" + encodeURIComponent(data.id));
        refresh();
      } else if (type === "event") {
        prepend("live-events", time(data.time) + " " + data.action + " " + data.user + " " + data.ip + " " + data.request + " " + (data.status === null ? "" : data.status));
      } else if (type === "responses" || type === "stats") {
        refresh();
      }
    });
  }

  function incidentPage(id) {
    var reload = throttled(function () {
      fetch(location.pathname, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html) swap(html, ["incident-meta", "alerts", "response", "timeline"]);
      }).catch(function () {});
    }, 1000);
    handlers.push(function (type, data) {
      if (type === "incident" && data.id === id) reload();
    });
  }

  function eventSearch() {
    var seen = 0;
    handlers.push(function (type, data) {
      // Not this console's own feed connection.
      if (type !== "event" || / \/live$/.test(data.request || "")) return;
      seen += 1;
      var banner = document.getElementById("new-events");
      document.getElementById("new-events-count").textContent = String(seen);
      document.getElementById("new-events-reload").setAttribute("href", location.pathname + location.search);
      banner.hidden = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-live]");
    if (!root || !("WebSocket" in window)) return;
    if (root.getAttribute("data-live") === "dashboard") dashboard();
    if (root.getAttribute("data-live") === "incident") incidentPage(root.getAttribute("data-incident"));
    if (root.getAttribute("data-live") === "events") eventSearch();
    connect();
  });
})();
