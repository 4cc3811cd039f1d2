// The station page: each scan (code or QR URL, then Enter from the keyboard-wedge scanner)
// is checked at once over fetch; the answer replaces the big result panel, the field is
// cleared and keeps the cursor. Without this script the form still posts and the page
// answers the same way.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  var input = document.getElementById("scan");
  var panel = document.getElementById("result");
  var tbody = document.querySelector("#checks tbody");
  var counts = document.getElementById("counts");
  var labels = document.getElementById("labels").dataset;
  var keep = parseInt(document.getElementById("checks").dataset.keep, 10) || 30;
  var token = document.querySelector('meta[name="csrf-token"]').content;
  // Scans arrive faster than answers: send them one after another, in order.
  var queue = Promise.resolve();

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function show(answer) {
    panel.className = "result " + (answer.allowed ? "ok" : "refused");
    panel.replaceChildren();
    var headline = el("div", "headline", answer.headline);
    headline.dataset.allowed = answer.allowed ? "true" : "false";
    panel.appendChild(headline);
    panel.appendChild(el("div", "scanned mono", answer.scanned + " · " + answer.time));
    var list = el("ul", "reasons");
    answer.reasons.forEach(function (reason) {
      var item = el("li", "", reason.text);
      item.dataset.code = reason.code;
      list.appendChild(item);
    });
    panel.appendChild(list);

    var row = el("tr", answer.allowed ? "ok" : "refused");
    row.appendChild(el("td", "", answer.time));
    row.appendChild(el("td", "mono", answer.scanned));
    row.appendChild(el("td", "", answer.allowed ? labels.allowed : labels.refused));
    row.appendChild(el("td", "", answer.reasons.map(function (r) { return r.text; }).join("；")));
    tbody.insertBefore(row, tbody.firstChild);
    while (tbody.rows.length > keep) tbody.deleteRow(tbody.rows.length - 1);
    counts.textContent = answer.counts;
  }

  function failed(message) {
    panel.className = "result refused";
    panel.replaceChildren(el("div", "headline", labels.refused), el("div", "scanned", message));
  }

  function check(value) {
    return fetch(form.dataset.checkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ scan: value }),
    }).then(function (response) {
      // Signed out (session ended) or a stale page: reload, which leads to the sign-in form.
      if (response.status === 401) { window.location.reload(); return null; }
      return response.json().then(function (body) {
        if (body.code === "csrf_refused") { window.location.reload(); return null; }
        if (!response.ok) throw new Error(body.message || response.statusText);
        return body;
      });
    }).then(function (answer) { if (answer) show(answer); })
      .catch(function (error) { failed(String(error.message || error)); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = input.value.trim();
    input.value = "";
    input.focus();
    if (value) queue = queue.then(function () { return check(value); });
  });

  // The scanner types into whatever has the focus: give it back to the field.
  input.addEventListener("blur", function () {
    window.setTimeout(function () {
      var active = document.activeElement;
      if (!active || active === document.body) input.focus();
    }, 200);
  });
  input.focus();
})();
