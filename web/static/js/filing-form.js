// The filing form, progressively enhanced (SPEC §9): everything works without this file.
// - 所在乡镇 lists only the townships of the chosen 所在县区;
// - the 合作方 fieldset shows only for a 合作 outlet;
// - a chosen image is previewed before it is uploaded.
(function () {
  "use strict";

  function followCounty(townships) {
    var county = document.getElementById(townships.getAttribute("data-county"));
    if (!county) return;
    var groups = Array.prototype.slice.call(townships.querySelectorAll("optgroup"));
    var placeholder = townships.querySelector("option[value='']");
    function update() {
      var chosen = county.value;
      groups.forEach(function (group) {
        var mine = !chosen || group.getAttribute("data-county") === chosen;
        group.hidden = !mine;
        group.disabled = !mine;
      });
      var selected = townships.selectedOptions[0];
      if (selected && selected.parentNode.disabled && placeholder) {
        placeholder.selected = true;
      }
    }
    county.addEventListener("change", update);
    update();
  }

  function partnerOnlyForCooperative(form) {
    var partner = form.querySelector("fieldset.partner");
    var radios = form.querySelectorAll("input[name='outlet.type']");
    if (!partner || !radios.length) return;
    var hint = partner.querySelector(".partner-hint");
    function update() {
      var checked = form.querySelector("input[name='outlet.type']:checked");
      partner.hidden = !(checked && checked.value === "cooperative");
    }
    Array.prototype.forEach.call(radios, function (radio) {
      radio.addEventListener("change", update);
    });
    if (hint) hint.hidden = true;
    update();
  }

  function previewImage(input) {
    var preview = document.getElementById("doc-preview");
    if (!preview || !window.FileReader) return;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var limit = Number(input.getAttribute("data-max-bytes")) || Infinity;
      if (!file || !/^image\/(png|jpeg)$/.test(file.type) || file.size > limit) {
        preview.hidden = true;
        preview.removeAttribute("src");
        return;
      }
      var reader = new FileReader();
      reader.onload = function () {
        preview.src = reader.result; // a data: URL (the page's CSP allows img-src data:)
        preview.hidden = false;
      };
      reader.readAsDataURL(file);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(
      document.querySelectorAll("select[data-county]"),
      followCounty
    );
    Array.prototype.forEach.call(
      document.querySelectorAll("form.filing-form"),
      partnerOnlyForCooperative
    );
    var file = document.getElementById("doc-file");
    if (file) previewImage(file);
  });
})();
