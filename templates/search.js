// The site's search (issue 6): filters window.TRACKER_SEARCH, written by tracker into
// search-index.js, in the browser. No network and no HTML parsing: results are DOM nodes
// filled with textContent, so a headline from a feed can never become markup.
(function () {
  "use strict";
  var LIMIT = 50;
  var rows = window.TRACKER_SEARCH || [];
  var box = document.getElementById("q");
  var status = document.getElementById("status");
  var list = document.getElementById("results");

  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  var haystacks = rows.map(function (r) {
    return fold([r.h, r.x, r.o.join(" "), r.t.join(" ")].join(" "));
  });

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
      status.textContent = "Type to search " + rows.length + " stories.";
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
  }

  box.addEventListener("input", run);
  var start = /[?&#]q=([^&]*)/.exec(window.location.search + window.location.hash);
  if (start) box.value = decodeURIComponent(start[1].replace(/\+/g, " "));
  run();
})();
