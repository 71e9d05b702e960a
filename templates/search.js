// The site's search (issue 6): filters the stories tracker wrote into the index, in the
// browser. No network and no HTML parsing: results are DOM nodes filled with textContent, so
// a headline from a feed can never become markup.
//
// The index comes in parts, one a month (issue 8): search-index.js names them
// (window.TRACKER_SEARCH_MONTHS, newest first, with their story counts) and each part,
// search/YYYY-MM.js, sets window.TRACKER_SEARCH_ROWS["YYYY-MM"]. Only this page loads them,
// with <script> elements (which work from a folder, file://, as from a web server) added as it
// opens, so the page's load event waits for them. A query is answered from the newest months
// as soon as they are in, and again as older ones arrive; a part that cannot be read is named
// and the rest still searched.
(function () {
  "use strict";
  var LIMIT = 50;
  var months = window.TRACKER_SEARCH_MONTHS || [];
  var parts = window.TRACKER_SEARCH_ROWS || {};
  var total = months.reduce(function (sum, m) { return sum + m[1]; }, 0);
  var box = document.getElementById("q");
  var status = document.getElementById("status");
  var list = document.getElementById("results");
  var rows = [];  // the rows of the parts read so far, newest month first
  var haystacks = [];
  var done = {};  // month -> true once its part has loaded or failed
  var next = 0;  // months[0..next) are in rows, in order, whatever order they arrived in
  var failed = [];
  // The parts live next to this script: "search/" under the folder it was loaded from.
  var self = document.currentScript || document.querySelector("script[src$='search.js']");
  var base = self.getAttribute("src").replace(/search\.js$/, "");

  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // A part has arrived (or failed): take in every part up to the first still on its way,
  // so results from the newest months show while older ones load, and the order of rows
  // is always newest first.
  function arrived(month, ok) {
    done[month] = true;
    if (!ok) failed.push(month);
    while (next < months.length && done[months[next][0]]) {
      (parts[months[next][0]] || []).forEach(function (r) {
        rows.push(r);
        haystacks.push(fold([r.h, r.x, r.o.join(" "), r.t.join(" ")].join(" ")));
      });
      next++;
    }
    run();
  }

  function load() {
    months.forEach(function (m) {
      var tag = document.createElement("script");
      tag.src = base + "search/" + m[0] + ".js";
      tag.async = false;
      tag.onload = function () { arrived(m[0], true); };
      tag.onerror = function () { arrived(m[0], false); };
      document.head.appendChild(tag);
    });
  }

  function loading() {
    var note = next < months.length ? " Older months are still loading…" : "";
    if (failed.length) {
      note += " Part of the index could not be read (" + failed.slice().sort().join(", ") + ").";
    }
    return note;
  }

  function result(row) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = row.u;
    a.textContent = row.h;
    var meta = document.createElement("div");
    meta.className = "meta";
    var bits = [row.d, row.o.length + (row.o.length === 1 ? " outlet" : " outlets")];
    if (row.t.length) bits.push(row.t.join(", "));
    meta.textContent = bits.join(" · ");
    li.appendChild(a);
    li.appendChild(meta);
    return li;
  }

  function run() {
    var words = fold(box.value).split(/\s+/).filter(Boolean);
    list.textContent = "";
    if (!words.length) {
      status.textContent = next < months.length ? "Loading the index…"
        : "Type to search " + total + " stories." + loading();
      return;
    }
    if (next === 0 && months.length) {
      status.textContent = "Loading the index…";  // arrived() runs the search again
      return;
    }
    var hits = [];
    for (var i = 0; i < rows.length; i++) {
      var hay = haystacks[i];
      if (words.every(function (w) { return hay.indexOf(w) !== -1; })) {
        var head = fold(rows[i].h);
        var score = words.filter(function (w) { return head.indexOf(w) !== -1; }).length;
        hits.push([score, i]);
      }
    }
    // Headline matches first; then the index's own order (newest first).
    hits.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    hits.slice(0, LIMIT).forEach(function (hit) { list.appendChild(result(rows[hit[1]])); });
    status.textContent = hits.length === 0 ? "No story matches."
      : hits.length + (hits.length === 1 ? " story" : " stories") +
        (hits.length > LIMIT ? ", the first " + LIMIT + " shown." : ".");
    status.textContent += loading();
  }

  box.addEventListener("input", run);
  var start = /[?&#]q=([^&]*)/.exec(window.location.search + window.location.hash);
  if (start) box.value = decodeURIComponent(start[1].replace(/\+/g, " "));
  status.textContent = "Loading the index…";
  if (months.length) load(); else run();
})();
