// SecMon host pages: follow the sensors. Every 5 seconds the page is fetched again and its live
// part (#host-live) replaced, unless the reader is selecting text or typing, or the tab is hidden.
// Without JavaScript the page shows the reading it was loaded with.
(function () {
  "use strict";
  var live = document.getElementById("host-live");
  if (!live) return;
  var note = document.getElementById("host-refresh");
  function busy() {
    var selection = window.getSelection ? String(window.getSelection()) : "";
    var active = document.activeElement;
    return document.hidden || selection.length > 0 || (active && (active.tagName === "INPUT" || active.tagName === "SELECT"));
  }
  function refresh() {
    if (busy()) return;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("host-live");
        if (next) live.replaceChildren.apply(live, Array.prototype.slice.call(next.childNodes));
        if (note) note.textContent = "Updated " + new Date().toISOString().slice(11, 19) + " UTC; this page follows the sensors every 5 seconds.";
      })
      .catch(function () { if (note) note.textContent = "Could not update: reload the page."; });
  }
  window.setInterval(refresh, 5000);
})();
