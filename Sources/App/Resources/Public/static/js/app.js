// SecMon dashboard script. No inline script anywhere (the CSP forbids it): behaviour attaches here.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // fetch() that sends the session cookie and the CSRF token, and reads JSON.
  function api(method, path) {
    return fetch(path, {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrfToken() }
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text); // textContent: never parsed as HTML
    row.appendChild(td);
  }

  function refreshRecent() {
    var table = document.getElementById("recent-activity");
    if (!table) return;
    api("GET", "/api/events?limit=15").then(function (result) {
      if (result.status !== 200) return;
      var body = table.querySelector("tbody");
      body.textContent = "";
      result.body.events.forEach(function (e) {
        var row = document.createElement("tr");
        row.className = "a-" + e.action;
        cell(row, e.timestamp); cell(row, e.action); cell(row, e.username); cell(row, e.ip_address);
        cell(row, (e.method || "") + " " + (e.path || "")); cell(row, e.status);
        body.appendChild(row);
      });
    }).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("api-button");
    var output = document.getElementById("api-result");
    if (button && output) {
      button.addEventListener("click", function () {
        output.textContent = "…";
        api("GET", "/api/status").then(function (result) {
          output.textContent = result.status + " " + JSON.stringify(result.body, null, 2);
          output.setAttribute("data-status", String(result.status));
          // Events reach the database in batches within a fraction of a second.
          setTimeout(refreshRecent, 300);
          setTimeout(refreshRecent, 1500);
        }).catch(function (error) {
          output.textContent = "Request failed: " + error;
        });
      });
    }
    // Pages that follow the live feed (live.js) need no polling.
    if (document.getElementById("recent-activity") && !document.querySelector("[data-live]")) {
      setInterval(refreshRecent, 5000);
    }
  });
})();
