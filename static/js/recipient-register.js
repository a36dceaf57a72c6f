// Registering an applicant: only the chosen payment type's own items are shown (the server
// takes only those). Without this script every section stays visible, each named by its type.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("recipient-register");
  var select = document.getElementById("id_payment_type");
  if (!form || !select) { return; }
  var sections = form.querySelectorAll("[data-payment-type]");
  function showChosen() {
    sections.forEach(function (section) { section.hidden = section.dataset.paymentType !== select.value; });
  }
  select.addEventListener("change", showChosen);
  showChosen();

  // Dependants: one more row from the formset's empty form.
  var add = document.getElementById("add-dependant");
  var template = document.getElementById("dependant-empty-form");
  var total = document.getElementById("id_dependants-TOTAL_FORMS");
  var rows = document.getElementById("dependant-rows");
  if (!add || !template || !total || !rows) { return; }
  add.hidden = false;
  add.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    if (index >= parseInt(add.dataset.max, 10)) { add.disabled = true; return; }
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
  });
});
