// The remarketing form shows only the content fields of the chosen kind. Without
// JavaScript every field shows; Channel.clean() asks only for the chosen kind's ones.
(function () {
  "use strict";
  const FIELDS = {
    ai_voice: ["voice_script", "caller_id", "max_concurrent"],
    sms: ["sms_template", "sms_sender"],
    email: ["email_subject", "email_body", "email_from"],
  };
  const ALL = Object.values(FIELDS).flat();

  function show() {
    const kind = document.getElementById("id_kind");
    if (!kind) return;
    const wanted = FIELDS[kind.value] || ALL;
    ALL.forEach((name) => {
      const field = document.querySelector(".field-" + name);
      if (field) field.hidden = !wanted.includes(name);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const kind = document.getElementById("id_kind");
    if (kind) kind.addEventListener("change", show);
    show();
  });
})();
