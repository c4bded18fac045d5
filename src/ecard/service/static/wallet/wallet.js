// The wallet page: enrol this browser's device keys, then show a live EC2: code.
//
// Contract: the device keys are made here (device.js, non-extractable) and never sent; the
// server sees only public keys inside signed enrolment requests. The presentation is built
// and signed here (cose.js) every REFRESH seconds, or at once when the holder types a counter
// challenge or taps "new code". Its time is the server's: GET /wallet/api/time once per page
// load, then performance.now() offsets (monotonic; the wall clock the user can set is used
// only when the page is opened with no network, shifted by the skew seen at the last sync).

import { qrcode } from "/static/vendor/qrcode-generator/qrcode.mjs";
import { enrolmentRequest, fromBase64, presentationText, toBase64 } from "/static/wallet/cose.js";
import { clearAll, load, newDeviceKey, save, signerOf } from "/static/wallet/device.js";

const root = document.getElementById("wallet");
const config = {
  purpose: root.dataset.purpose || null,
  profile: root.dataset.profile || null,
  profiles: (root.dataset.profiles || "full,counter").split(","),
  refresh: Number(root.dataset.refresh || "30"),
  lang: document.documentElement.lang.startsWith("zh") ? "zh" : "en",
};
const messages = JSON.parse(document.getElementById("wallet-messages").textContent);
const $ = (id) => document.getElementById(id);

function say(key, fallback) {
  const text = messages[key] || fallback || key;
  $("status").textContent = text;
  $("status").dataset.key = key;
}

function sayError(body) {
  const text = config.lang === "zh" ? body.message_zh || body.message : body.message;
  $("status").textContent = text || body.error;
  $("status").dataset.key = body.error || "error";
}

async function postJson(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (err) {
    return { ok: false, error: "OFFLINE", message: messages.offline, message_zh: messages.offline };
  }
  try {
    return await response.json();
  } catch (err) {
    return { ok: false, error: "BAD_ANSWER", message: messages.bad_answer, message_zh: messages.bad_answer };
  }
}

// -- the clock: server time plus performance.now() -------------------------------------------

let clockBase = null; // server seconds minus performance.now() seconds
let clockSource = "none";

async function syncClock() {
  try {
    const before = performance.now();
    const response = await fetch("/wallet/api/time", { cache: "no-store" });
    const after = performance.now();
    const body = await response.json();
    clockBase = body.now - (before + after) / 2000;
    clockSource = "server";
    await save("skew", body.now - Date.now() / 1000);
  } catch (err) {
    if (clockBase !== null) return; // keep the monotonic clock this page already has
    const skew = await load("skew");
    if (typeof skew === "number") {
      clockBase = Date.now() / 1000 + skew - performance.now() / 1000;
      clockSource = "last-sync";
    }
  }
  root.dataset.clock = clockSource;
}

function now() {
  return Math.floor(clockBase + performance.now() / 1000);
}

// -- enrolment ----------------------------------------------------------------------------------

async function sendCode(event) {
  event.preventDefault();
  const card = $("card-number").value.trim().toUpperCase();
  const body = await postJson("/wallet/api/send-code", { card_number: card });
  if (!body.ok) return sayError(body);
  $("code-form").hidden = false;
  $("code").focus();
  say("code_sent");
}

async function enrol(event) {
  event.preventDefault();
  const card = $("card-number").value.trim().toUpperCase();
  const challenge = await postJson("/wallet/api/challenge", {
    card_number: card,
    code: $("code").value.trim(),
    pin: $("pin").value,
    profiles: config.profiles,
  });
  $("pin").value = "";
  if (!challenge.ok) return sayError(challenge);
  say("enrolling");
  const keys = {};
  const requests = {};
  for (const [profile, nonce] of Object.entries(challenge.nonces)) {
    const key = await newDeviceKey();
    keys[profile] = key;
    requests[profile] = toBase64(await enrolmentRequest(key.point, fromBase64(nonce), signerOf(key.privateKey)));
  }
  const bound = await postJson("/wallet/api/enrol", { card_number: card, requests });
  if (!bound.ok) return sayError(bound);
  const credentials = {};
  for (const [profile, cred] of Object.entries(bound.cards)) {
    credentials[profile] = { privateKey: keys[profile].privateKey, publicKey: keys[profile].publicKey, card: fromBase64(cred.cose), text: cred.text };
  }
  await save("credentials", credentials);
  await save("card_number", card);
  say("enrolled");
  await showWallet();
}

async function forget() {
  await clearAll();
  current = null;
  await showWallet();
}

// -- the live code ------------------------------------------------------------------------------

let credentials = null;
let current = null; // { iat, purpose, challenge, text }
let signing = false;

function credentialFor(purpose) {
  const wanted = purpose === "identity" ? "full" : "counter";
  return credentials[wanted] || credentials.full || credentials.counter || null;
}

function drawQr(text) {
  const qr = qrcode(0, "M");
  qr.addData(text, "Alphanumeric");
  qr.make();
  const modules = qr.getModuleCount();
  const quiet = 4;
  const canvas = $("qr");
  const scale = Math.max(3, Math.floor(320 / (modules + 2 * quiet)));
  const size = (modules + 2 * quiet) * scale;
  canvas.width = size;
  canvas.height = size;
  const g = canvas.getContext("2d");
  g.fillStyle = "#fff";
  g.fillRect(0, 0, size, size);
  g.fillStyle = "#000";
  for (let r = 0; r < modules; r += 1) {
    for (let c = 0; c < modules; c += 1) {
      if (qr.isDark(r, c)) g.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
    }
  }
  canvas.dataset.code = text;
  canvas.dataset.version = String((modules - 17) / 4);
}

async function refresh(force) {
  if (signing || clockBase === null || !credentials || !config.purpose) return;
  const t = now();
  const challenge = $("challenge").value.trim() || null;
  const stale = !current || t - current.iat >= config.refresh;
  const changed = current && (current.purpose !== config.purpose || current.challenge !== challenge);
  if (stale || changed || force) {
    const cred = credentialFor(config.purpose);
    if (!cred) return say("no_credential");
    signing = true;
    try {
      const text = await presentationText(cred.card, config.purpose, t, challenge, signerOf(cred.privateKey));
      current = { iat: t, purpose: config.purpose, challenge, text };
      drawQr(text);
      root.dataset.iat = String(t);
      root.dataset.generation = String(Number(root.dataset.generation || "0") + 1);
    } catch (err) {
      return say("bad_challenge");
    } finally {
      signing = false;
    }
  }
  const left = Math.max(0, config.refresh - (now() - current.iat));
  $("countdown").textContent = String(left);
  $("countdown-bar").value = left;
}

async function showWallet() {
  credentials = (await load("credentials")) || null;
  const enrolled = credentials !== null;
  $("enrol").hidden = enrolled;
  $("present").hidden = !enrolled || !config.purpose;
  $("menu").hidden = !enrolled;
  $("forget").hidden = !enrolled;
  root.dataset.enrolled = enrolled ? "yes" : "no";
  if (enrolled) {
    const number = await load("card_number");
    $("enrolled-card").textContent = number || "";
  }
  if (enrolled && config.purpose) {
    if (clockBase === null) say("no_clock");
    await refresh(true);
  }
}

async function start() {
  $("card-form").addEventListener("submit", sendCode);
  $("code-form").addEventListener("submit", enrol);
  $("challenge-form").addEventListener("submit", (e) => {
    e.preventDefault();
    refresh(true);
  });
  $("new-code").addEventListener("click", () => refresh(true));
  $("forget").addEventListener("click", forget);
  $("countdown-bar").max = config.refresh;
  await syncClock();
  await showWallet();
  setInterval(() => refresh(false), 1000);
  // a phone that slept may have paused performance.now(): sync again when the page is shown
  document.addEventListener("visibilitychange", async () => {
    if (document.visibilityState !== "visible") return;
    await syncClock();
    await refresh(true);
  });
  if ("serviceWorker" in navigator) {
    try {
      await navigator.serviceWorker.register("/wallet/sw.js", { scope: "/wallet" });
    } catch (err) {
      // offline use needs the worker; the page itself works without it
    }
  }
  root.dataset.ready = "yes";
}

start();
