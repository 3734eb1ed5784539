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
    const ok = dialog.querySelector("#confirm-dialog-ok");
    ok.textContent = source.dataset.confirmAction || "Confirm";
    // Red only for what cannot be undone; data-confirm-tone="primary" for what can (Archive).
    ok.className = source.dataset.confirmTone === "primary" ? "primary" : "danger";
    // "Cancel" would be ambiguous when the action itself cancels something.
    dialog.querySelector("#confirm-dialog-dismiss").textContent =
      source.dataset.confirmDismiss || "Cancel";
    // What to review before confirming (a channel's results before Stop): a <template> of
    // the page, named by data-confirm-review, copied in as it stands when the dialog opens.
    const review = dialog.querySelector("#confirm-dialog-review");
    const reviewed = source.dataset.confirmReview &&
      document.getElementById(source.dataset.confirmReview);
    review.replaceChildren(...(reviewed ? [reviewed.content.cloneNode(true)] : []));
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
  // The hidden interval counts from the moment the tab was left: no refresh on leaving.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) return;
    document.querySelectorAll("[data-poll-hidden]").forEach(function (elt) {
      lastHiddenPoll.set(elt.id, Date.now());
    });
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    const hiddenEvery = elt.dataset && elt.dataset.pollHidden;
    if (!hiddenEvery || !document.hidden) return lastHiddenPoll.delete(elt.id);
    // Leaving the tab is no reason to refresh; coming back is.
    const trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (trigger && trigger.type === "visibilitychange") return event.preventDefault();
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

  // A refresh never takes a control from under a person (SPEC section 5). A refreshed
  // region (data-refresh) is polled with GETs; its answer is held back while the
  // confirmation dialog is open (the form the dialog will submit stays in the page) or
  // while a button is pressed. With the pointer resting on a control, the new content is
  // tried in place and kept only if the pointer is still on the same control: all in one
  // task, so nothing is painted in between. A held answer is simply dropped; the next
  // refresh, a few seconds on, brings the figures.
  let pointer = null;
  let pressed = false;
  // A pointer left resting on a control this long is not about to click it: refreshes go
  // through again, else a page left with the pointer on a button that a refresh removes
  // (Pause, once the channel completes) would never update.
  const RESTING_MS = 8000;
  let movedAt = 0;
  document.addEventListener("pointermove", function (event) {
    pointer = { x: event.clientX, y: event.clientY };
    movedAt = Date.now();
  }, { passive: true });
  document.addEventListener("pointerdown", function () { pressed = true; });
  document.addEventListener("pointerup", function () { pressed = false; });
  document.addEventListener("pointercancel", function () { pressed = false; });
  document.documentElement.addEventListener("pointerleave", function () { pointer = null; });

  function controlUnderPointer() {
    const element = pointer && document.elementFromPoint(pointer.x, pointer.y);
    const control = element && element.closest("button, a, summary, input, select, textarea");
    if (!control) return null;
    const form = control.closest("form");
    return [control.tagName, control.id, control.textContent.trim(), control.getAttribute("href"),
      form && form.getAttribute("action")].join("|");
  }

  function reopenMenus(ids) {
    ids.forEach(function (id) {
      const menu = document.getElementById(id);
      if (menu) menu.setAttribute("open", "");
    });
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    const config = event.detail.requestConfig;
    const target = event.detail.target;
    const refreshed = config && config.verb === "get" && config.elt;
    if (!refreshed || !refreshed.hasAttribute("data-refresh") || !event.detail.shouldSwap) return;
    const aimedAt = controlUnderPointer();
    if (!aimedAt && !(dialog && dialog.open)) return;
    const resting = Date.now() - movedAt > RESTING_MS;
    if (aimedAt && resting && !pressed && !(dialog && dialog.open)) return;
    event.detail.shouldSwap = false;
    if (pressed || (dialog && dialog.open)) return;
    const template = document.createElement("template");
    template.innerHTML = event.detail.serverResponse;
    const fresh = template.content.querySelector("#" + CSS.escape(target.id));
    if (!fresh) return;
    const openIds = Array.from(target.querySelectorAll("details[open][id]"), (d) => d.id);
    const focusedId = document.activeElement && document.activeElement.id;
    target.replaceWith(fresh);
    reopenMenus(openIds);
    if (controlUnderPointer() !== aimedAt) {
      fresh.replaceWith(target);
      return;
    }
    htmx.process(fresh);
    const focused = focusedId && document.getElementById(focusedId);
    if (focused && focused !== document.activeElement) focused.focus({ preventScroll: true });
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
    reopenMenus(openMenus);
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
