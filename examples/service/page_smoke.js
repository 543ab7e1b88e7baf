// Runs static/app.js in Node against a live service with a minimal stand-in
// for the DOM (no browser here): fills the form, submits it, follows the
// stream, and prints what the page would show as one JSON line.
//   node page_smoke.js BASE_URL TOKEN INTEGRATION KEYS [WAIT_MS]
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const [base, token, integration, keys, waitMs] = process.argv.slice(2);
const els = {};

function element(id) {
  const e = {
    id, value: "", textContent: "", hidden: false, className: "", checked: true,
    disabled: false, style: {}, innerHTML: "", listeners: {}, parts: {},
    addEventListener(type, fn) { this.listeners[type] = fn; },
    appendChild(child) { if (child.id) els[child.id] = child; },
    querySelector(sel) { return this.parts[sel] || (this.parts[sel] = element()); },
  };
  if (id) els[id] = e;
  return e;
}

const document = {
  getElementById: (id) => els[id] || element(id),
  createElement: () => element(),
};
const sandbox = {
  document, URLSearchParams, TextDecoder, AbortController, setTimeout, console,
  fetch: (url, opts) => fetch(base + url, opts),
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(path.join(__dirname, "static", "app.js"), "utf8"), sandbox);

document.getElementById("token").value = token;
document.getElementById("integration").value = integration;
document.getElementById("keys").value = keys;
document.getElementById("incremental").checked = false;
els.start.listeners.submit({ preventDefault() {} });

const deadline = Date.now() + Number(waitMs || 30000);
(function poll() {
  const status = (els["job-status"] || {}).textContent;
  if (!["finished", "failed", "cancelled"].includes(status) && Date.now() < deadline &&
      !(els.notice && els.notice.textContent)) {
    setTimeout(poll, 100);
    return;
  }
  const phases = {};
  for (const id of Object.keys(els)) {
    if (!id.startsWith("phase-")) continue;
    const row = els[id];
    phases[id.slice(6)] = {
      state: row.className.replace(/^phase /, ""),
      width: row.querySelector(".fill").style.width,
      count: row.querySelector(".count").textContent,
    };
  }
  console.log(JSON.stringify({
    job: els["job-id"] && els["job-id"].textContent, status,
    message: els["job-message"] && els["job-message"].textContent,
    notice: els.notice && els.notice.textContent,
    overall: els["overall-fill"] && els["overall-fill"].style.width,
    phases,
  }));
  process.exit(0);
})();
