// The counter page: a USB scanner types the QR text followed by Enter into #scan; the text
// goes to POST /api/verify on this (local) service and the verdict is shown big, green or
// red, with the masked fields and what staff should do. No inline script (the CSP forbids
// it); the page builds its DOM with textContent only. Focus stays on the input.
"use strict";
(function () {
  const root = document.getElementById("counter");
  const input = document.getElementById("scan");
  const form = document.getElementById("scan-form");
  const verdict = document.getElementById("verdict");
  const word = document.getElementById("verdict-word");
  const message = document.getElementById("verdict-message");
  const action = document.getElementById("verdict-action");
  const fields = document.getElementById("verdict-fields");
  const challengeButton = document.getElementById("new-challenge");
  const challengeOut = document.getElementById("challenge");
  const lang = root.dataset.lang === "en" ? "en" : "zh";
  const purpose = root.dataset.purpose;
  let challenge = null;
  let busy = false;
  const queue = [];

  function keepFocus() {
    if (document.activeElement !== input) input.focus();
  }
  input.addEventListener("blur", function () { setTimeout(keepFocus, 0); });
  document.addEventListener("click", function (e) {
    if (e.target !== challengeButton) setTimeout(keepFocus, 0);
  });
  window.addEventListener("focus", keepFocus);


  function show(result) {
    const ok = result.valid === true;
    verdict.className = "verdict " + (ok ? "ok" : "bad");
    verdict.dataset.code = result.code;
    word.textContent = ok ? root.dataset.valid : root.dataset.invalid;
    message.textContent = lang === "zh" ? result.message_zh : result.message;
    action.textContent = lang === "zh" ? result.action_zh : result.action;
    fields.replaceChildren();
    const rows = [["code", result.code]];
    if (result.card) {
      const c = result.card;
      rows.unshift(
        ["name", c.name],
        ...(c.ssn ? [["ssn", c.ssn]] : []),
        ["card_number", c.card_number],
        ["region", c.region_name ? c.region + " " + c.region_name : c.region],
        ["expires", c.expires],
        ["status", c.status]
      );
    }
    for (const [key, value] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = root.getAttribute("data-l-" + key) || key;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.field = key;
      fields.append(dt, dd);
    }
  }

  function showError(body) {
    verdict.className = "verdict bad";
    verdict.dataset.code = (body && body.error) || "UNREACHABLE";
    word.textContent = root.dataset.invalid;
    message.textContent = body ? (lang === "zh" ? body.message_zh : body.message) : root.dataset.error;
    action.textContent = "";
    fields.replaceChildren();
  }

  async function post(path, payload) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(payload),
      credentials: "same-origin",
      cache: "no-store",
    });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    return { ok: response.ok, body: body };
  }

  async function verify(code) {
    const payload = { code: code, purpose: purpose };
    if (challenge) payload.challenge = challenge;
    try {
      const answer = await post("/api/verify", payload);
      if (answer.ok && answer.body) show(answer.body); else showError(answer.body);
    } catch (e) {
      showError(null);
    }
    if (challenge) { challenge = null; challengeOut.textContent = ""; }
  }

  async function drain() {
    if (busy) return;
    busy = true;
    while (queue.length) await verify(queue.shift());
    busy = false;
    root.dataset.done = String(Number(root.dataset.done || "0") + 1);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const code = input.value.trim();
    input.value = "";
    keepFocus();
    if (!code) return;
    queue.push(code);
    drain();
  });

  challengeButton.addEventListener("click", async function () {
    try {
      const answer = await post("/api/challenge", { purpose: purpose });
      if (answer.ok && answer.body) {
        challenge = answer.body.challenge;
        challengeOut.textContent = root.dataset.challengeLabel + ": " + challenge;
      } else showError(answer.body);
    } catch (e) { showError(null); }
    keepFocus();
  });

  keepFocus();
})();
