// The reviewer's return form: `增加补正项` adds a row here without a reload. Without JavaScript
// the button submits the form, which comes back with one more row (web/review.py).
(function () {
  "use strict";
  var button = document.getElementById("add-row");
  var rows = document.getElementById("correction-rows");
  var template = document.getElementById("correction-row-template");
  if (!button || !rows || !template) return;
  button.addEventListener("click", function (event) {
    event.preventDefault();
    var n = rows.querySelectorAll("fieldset.correction-row").length;
    if (n >= 50) return;
    var html = template.innerHTML.split("__NUM__").join(String(n + 1)).split("__N__").join(String(n));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.querySelector("fieldset");
    if (!row) return;
    rows.appendChild(row);
    var select = row.querySelector("select");
    if (select) select.focus();
  });
})();
