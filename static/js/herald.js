// Herald's few behaviours that need a script. Every page works without it: confirmations
// fall back to their own pages, notices simply stay.
(function () {
  "use strict";

  // Questions open Herald's <dialog> rather than the browser's confirm().
  const dialog = document.getElementById("confirm-dialog");
  function ask(source, question, onConfirm) {
    dialog.querySelector("#confirm-dialog-title").textContent =
      source.dataset.confirmTitle || "Please confirm";
    dialog.querySelector("#confirm-dialog-text").textContent = question;
    dialog.querySelector("#confirm-dialog-ok").textContent =
      source.dataset.confirmAction || "Confirm";
    dialog.returnValue = "";
    dialog.addEventListener("close", function onClose() {
      if (dialog.returnValue === "confirm") onConfirm();
    }, { once: true });
    dialog.showModal();
  }

  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.question || !dialog) return;
    event.preventDefault();
    ask(event.detail.elt, event.detail.question, () => event.detail.issueRequest(true));
  });

  // A plain form with data-confirm (no inline onsubmit: the CSP forbids it) asks first.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.dataset.confirm || !dialog) return;
    event.preventDefault();
    ask(form, form.dataset.confirm, () => form.submit());
  });

  document.addEventListener("click", function (event) {
    const dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) dismiss.closest(".notice").remove();
    // A click outside an open menu closes it, as menus do.
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });

  // Polls slow down while the tab is hidden. htmx's trigger filters ([document.hidden])
  // are evaluated JavaScript, which the CSP forbids; instead a polling element says how
  // many seconds apart it polls while hidden (data-poll-hidden="15", or "never").
  const lastHiddenPoll = new Map();
  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    const hiddenEvery = elt.dataset && elt.dataset.pollHidden;
    if (!hiddenEvery || !document.hidden) return lastHiddenPoll.delete(elt.id);
    const last = lastHiddenPoll.get(elt.id) || 0;
    if (hiddenEvery === "never" || Date.now() - last < Number(hiddenEvery) * 1000) {
      event.preventDefault();
    } else {
      lastHiddenPoll.set(elt.id, Date.now());
    }
  });

  // A result region marked data-show-refusals shows a 400's explanation (a test send to a
  // bad address) the way a success is shown; other 4xx answers stay unswapped.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    if (event.detail.xhr.status === 400 && target && target.hasAttribute("data-show-refusals")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A poll replaces the live region every two seconds; keep an open menu open across it.
  let openMenus = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    const polled = event.detail.requestConfig && event.detail.requestConfig.verb === "get";
    openMenus = polled
      ? Array.from(document.querySelectorAll("details[open][id]"), (d) => d.id)
      : [];
  });
  document.addEventListener("htmx:afterSwap", function () {
    openMenus.forEach(function (id) {
      const menu = document.getElementById(id);
      if (menu) menu.setAttribute("open", "");
    });
  });

  // htmx keeps each page's HTML for the back button, as serialised markup. Once results
  // are swapped in, write the filter form's values into its markup, so the snapshot taken
  // when the filters next change shows the filters that went with those results.
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("form[data-remember] :is(input, select)").forEach(function (el) {
      if (el.tagName === "SELECT") {
        Array.from(el.options).forEach((o) => o.toggleAttribute("selected", o.selected));
      } else {
        el.setAttribute("value", el.value);
      }
    });
  });
})();
