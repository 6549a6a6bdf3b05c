/* Aeroledger: the little JavaScript the pages use, in one static file (no inline scripts).
 *
 * Safety nets: a form or submit button with `data-confirm="text"` asks first, in the page's
 * <dialog id="confirm-dialog"> (base.html), and submits only when the person confirms.
 * `data-confirm-title` is the dialog's heading, `data-confirm-ok` the confirm button's label
 * (default: the button's own text), `data-confirm-danger` colours it red.
 *
 * Copy buttons: `<button data-copy="element-id" data-copied="Copied">` copies the value (or text)
 * of that element.
 */
(function () {
  "use strict";

  function confirmSource(form, submitter) {
    if (submitter && submitter.dataset && submitter.dataset.confirm) return submitter;
    if (form.dataset.confirm) return form;
    return null;
  }

  function ask(source, fallbackLabel, onConfirm) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(source.dataset.confirm)) onConfirm();
      return;
    }
    var ok = dialog.querySelector("[data-role=ok]");
    dialog.querySelector("[data-role=title]").textContent =
      source.dataset.confirmTitle || fallbackLabel || "";
    dialog.querySelector("[data-role=text]").textContent = source.dataset.confirm;
    ok.textContent = source.dataset.confirmOk || fallbackLabel || ok.dataset.defaultLabel;
    ok.classList.toggle("danger", "confirmDanger" in source.dataset);
    ok.classList.toggle("primary", !("confirmDanger" in source.dataset));
    dialog.returnValue = "";
    dialog.addEventListener(
      "close",
      function () {
        if (dialog.returnValue === "ok") onConfirm();
      },
      { once: true }
    );
    dialog.showModal();
    dialog.querySelector("[data-role=back]").focus();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || null;
    var source = confirmSource(form, submitter);
    if (!source) return;
    if (form.dataset.confirmed === "yes") {
      delete form.dataset.confirmed;
      return;
    }
    event.preventDefault();
    var label = submitter ? submitter.textContent.trim() : "";
    ask(source, label, function () {
      form.dataset.confirmed = "yes";
      if (submitter) form.requestSubmit(submitter);
      else form.requestSubmit();
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var target = document.getElementById(button.dataset.copy);
    if (!target) return;
    var text = "value" in target ? target.value : target.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = button.dataset.copied || label;
      window.setTimeout(function () {
        button.textContent = label;
      }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else if (typeof target.select === "function") {
      target.select(); // plain http on another host: select it and use the old copy command
      if (document.execCommand("copy")) done();
    }
  });
})();
