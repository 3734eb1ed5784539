// The SMS character and segment counter on the channel form, live while one types. It
// counts the way channels/sms_length.py does on the server (the form's messages and the
// preview): GSM-7 160 / 153 per segment, extension characters two; else UCS-2 70 / 67,
// characters outside the BMP two; a character never split across segments.
(function () {
  "use strict";

  const GSM7_BASIC = new Set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
  );
  const GSM7_EXTENSION = new Set("\f^{}\\[~]|€");
  const LIMITS = { "GSM-7": [160, 153], "UCS-2": [70, 67] };
  const SHOWN_NON_GSM = 5;

  function smsLength(text) {
    const chars = Array.from(text.replace(/\r\n/g, "\n")); // by code point, as Python
    const nonGsm = [...new Set(chars.filter((c) => !GSM7_BASIC.has(c) && !GSM7_EXTENSION.has(c)))];
    const encoding = nonGsm.length ? "UCS-2" : "GSM-7";
    const units = chars.map(function (c) {
      if (encoding === "UCS-2") return c.codePointAt(0) > 0xffff ? 2 : 1;
      return GSM7_EXTENSION.has(c) ? 2 : 1;
    });
    const [single, perSegment] = LIMITS[encoding];
    const total = units.reduce((sum, unit) => sum + unit, 0);
    let segments = total ? 1 : 0;
    if (total > single) {
      let used = 0;
      units.forEach(function (unit) {
        if (used + unit > perSegment) { segments += 1; used = 0; }
        used += unit;
      });
    }
    return { characters: total, segments, encoding, nonGsm: nonGsm.slice(0, SHOWN_NON_GSM) };
  }

  function describe(length) {
    const characters = length.characters === 1 ? "character" : "characters";
    const segments = length.segments === 1 ? "segment" : "segments";
    return `${length.characters.toLocaleString("en-US")} ${characters} · ` +
      `${length.segments} ${segments} (${length.encoding})`;
  }

  function warning(length) {
    if (!length.nonGsm.length) return "";
    const verb = length.nonGsm.length === 1 ? "is" : "are";
    return `${length.nonGsm.join(" ")} ${verb} not in the GSM-7 set: the whole message is ` +
      `sent as UCS-2, ${LIMITS["UCS-2"][0]} characters per segment instead of ` +
      `${LIMITS["GSM-7"][0]}.`;
  }

  function update(textarea) {
    const counter = document.getElementById(textarea.dataset.smsCounter);
    if (!counter) return;
    const length = smsLength(textarea.value);
    counter.querySelector("[data-sms-count]").textContent = describe(length);
    const warn = counter.querySelector("[data-sms-warning]");
    warn.textContent = warning(length);
    warn.hidden = !warn.textContent;
  }

  document.addEventListener("input", function (event) {
    if (event.target.dataset && event.target.dataset.smsCounter) update(event.target);
  });
  document.querySelectorAll("[data-sms-counter]").forEach(update);
})();
