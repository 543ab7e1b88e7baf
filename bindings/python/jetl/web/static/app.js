// jetl page: start an extraction, follow its job live, cancel it, list the
// jobs, map custom fields to slots. Plain script, no build step. The event
// stream is read with fetch() so the token travels in the Authorization
// header, never in a URL. The API is the page's parent path (the router's
// prefix), so the page works under whatever prefix the app mounts it.
"use strict";

const API = new URL("..", location.href).pathname;   // ".../api/v1/etl/"
const PHASES = ["discover", "census", "issues", "changelogs", "dev_status",
                "store", "queue", "transform"];
const TERMINAL = ["finished", "failed", "cancelled"];
const TOTALS = [["issues", "issues"], ["histories", "change histories"],
                ["changelog_items", "changelog items"], ["dev_status", "dev-status rows"],
                ["work_items", "work items"], ["raw_rows", "raw rows"],
                ["requests", "requests"], ["retries", "retries"],
                ["rate_limited", "429 answers"], ["deleted", "deleted"],
                ["issue_errors", "not stored (jetl errors)"]];
const ACTIVE_MS = 2500;       // a phase that moved this recently is drawn as running
const $ = (id) => document.getElementById(id);

let watching = null;          // {id, ctl: AbortController, status, keys, integration}
let phases = {};              // phase -> {done, total, project, at, t0, d0, rate}
let fields = [];
let lastTotals = null;        // the watched job's totals, as last received

function token() { return $("token").value.trim(); }

function toast(text, bad) {
  const t = document.createElement("div");
  t.className = "toast" + (bad ? " bad" : "");
  t.textContent = text;
  $("toasts").appendChild(t);
  setTimeout(() => t.remove(), bad ? 9000 : 6000);
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && typeof body.detail === "string") ? body.detail : "HTTP " + status);
    this.status = status;
    this.body = body || {};
  }
}

async function api(method, path, body) {
  const init = { method, headers: { "Authorization": "Bearer " + token() } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const r = await fetch(API + path, init);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) {
    if (r.status === 409 && data && !data.job_id && r.headers.get("X-Jetl-Job-Id"))
      data.job_id = Number(r.headers.get("X-Jetl-Job-Id"));
    throw new ApiError(r.status, data);
  }
  return data;
}

function keysOf(text) {
  return text.split(/[\s,]+/).map((k) => k.trim().toUpperCase()).filter(Boolean);
}

function sameRequest() {
  if (!watching || TERMINAL.includes(watching.status)) return false;
  const a = keysOf($("keys").value).sort().join(","), b = (watching.keys || []).slice().sort().join(",");
  return a === b && Number($("integration").value) === watching.integration;
}

function updateStart() { $("go").disabled = sameRequest(); }

// ------------------------------------------------------------------ start
async function start(ev) {
  ev.preventDefault();
  if (!token()) { toast("Enter the access token first", true); $("token").focus(); return; }
  const keys = keysOf($("keys").value);
  const q = new URLSearchParams();
  keys.forEach((k) => q.append("project_keys", k));
  q.set("incremental", $("incremental").checked ? "true" : "false");
  $("go").disabled = true;
  try {
    const r = await api("POST", "jira/extract/issues-changelogs-dev-status/" +
                        encodeURIComponent($("integration").value) + "?" + q);
    toast(r.message);
    watch(r.job_id);
    Object.assign(watching, { keys: r.project_keys, integration: r.integration_id, status: "running" });
  } catch (e) {
    if (e.status === 409 && e.body.job_id) {
      toast(e.message + ": showing it", true);
      watch(e.body.job_id);
    } else {
      toast("Not started: " + e.message, true);
    }
  } finally {
    updateStart();
    loadJobs();
  }
}

// ------------------------------------------------------------------ job card
function buildPhases() {
  const box = $("phases");
  box.textContent = "";
  phases = {};
  for (const p of PHASES) {
    phases[p] = { done: 0, total: 0, project: "", at: 0, t0: 0, d0: 0, rate: 0, seen: false };
    const row = document.createElement("div");
    row.className = "phase pending";
    row.id = "phase-" + p;
    row.innerHTML = '<span class="label"></span><div class="bar" role="progressbar" aria-valuemin="0" ' +
                    'aria-valuemax="100"><div class="fill"></div></div><span class="count"></span>';
    row.querySelector(".label").textContent = p.replace("_", " ");
    row.querySelector(".bar").setAttribute("aria-label", p + " progress");
    box.appendChild(row);
  }
}

function fmtEta(s) {
  if (!isFinite(s) || s < 0) return "";
  if (s < 60) return Math.ceil(s) + "s";
  return Math.floor(s / 60) + "m" + String(Math.ceil(s % 60)).padStart(2, "0") + "s";
}

function drawPhases(final) {
  const now = Date.now();
  for (const p of PHASES) {
    const s = phases[p], row = $("phase-" + p);
    const active = !final && s.seen && now - s.at < ACTIVE_MS && !(s.total > 0 && s.done >= s.total);
    // a job that stopped (cancelled, failed) leaves its unfinished phases grey
    const done = final === "finished" ? true :
      s.seen && !active && (s.total > 0 ? s.done >= s.total : !final);
    let pct = final === "finished" ? 100 : s.total > 0 ? Math.min(100, 100 * s.done / s.total) : done ? 100 : 0;
    row.className = "phase " + (active ? "active" : done ? "done" : "pending") +
                    (active && s.total <= 0 ? " unknown" : "");
    row.querySelector(".fill").style.width = pct + "%";
    row.querySelector(".bar").setAttribute("aria-valuenow", String(Math.round(pct)));
    let text = "";
    if (final === "finished" && lastTotals) {
      // the job's own counts, not the last project's
      const t = lastTotals, n = (k) => (t[k] || 0).toLocaleString("en-US");
      text = { census: n("issues") + " issues", issues: n("issues") + " issues",
               changelogs: n("histories") + " histories", dev_status: n("dev_status") + " rows",
               store: n("raw_rows") + " raw rows", queue: n("raw_rows") + " messages",
               transform: n("raw_rows") + "/" + n("raw_rows") + " raw rows" }[p] || "";
    } else if (s.seen) {
      text = (s.project ? s.project + " " : "") + (s.total > 0 ? s.done + "/" + s.total : String(s.done));
      if (active && s.rate > 0) {
        text += " · " + s.rate.toFixed(s.rate < 10 ? 1 : 0) + "/s";
        if (s.total > s.done) text += " · ETA " + fmtEta((s.total - s.done) / s.rate);
      }
    }
    row.querySelector(".count").textContent = text;
  }
}

function onPhase(ev) {
  const p = ev.step_name;
  if (!phases[p]) return;
  const s = phases[p], now = Date.now();
  const project = (/^([A-Za-z][A-Za-z0-9_]*): /.exec(ev.message || "") || [])[1] || "";
  const done = Number(ev.items_done) || 0, total = Number(ev.items_total) || 0;
  if (project !== s.project || done < s.done || !s.seen) { s.t0 = now; s.d0 = done; }
  else if (now - s.t0 > 300) s.rate = (done - s.d0) / ((now - s.t0) / 1000);
  Object.assign(s, { done, total, project, at: now, seen: true });
}

function showTotals(t) {
  const body = $("totals-body");
  lastTotals = t;
  if (!t || !Object.keys(t).length) { $("totals").hidden = true; return; }
  body.textContent = "";
  for (const [k, label] of TOTALS) {
    const tr = document.createElement("tr");
    const th = document.createElement("th"), td = document.createElement("td");
    th.textContent = label;
    td.textContent = (t[k] || 0).toLocaleString("en-US");
    td.id = "total-" + k;
    tr.append(th, td);
    body.appendChild(tr);
  }
  $("totals").hidden = false;
}

function show(ev) {
  const st = ev.status || "";
  watching.status = st;
  $("job-status").textContent = st;
  $("job-status").className = "status " + st;
  $("cancel").hidden = TERMINAL.includes(st);
  if (ev.params && ev.params.projects) {
    watching.keys = ev.params.projects;
    $("job-projects").textContent = "integration " + ev.integration_id + " · projects " +
      (ev.params.projects.join(", ") || "all") + (ev.params.full ? " · full" : " · incremental");
  }
  if (ev.integration_id) watching.integration = ev.integration_id;
  // a failed job shows its error, not the last progress message beside it
  $("job-message").textContent = st === "failed" ? "" : (ev.message || "");
  $("job-error").textContent = ev.error || "";
  $("job-error").hidden = !ev.error || st !== "failed";
  const total = Number(ev.total_steps) || 0, step = Number(ev.step) || 0;
  $("overall-fill").style.width = (total > 0 ? Math.min(100, 100 * step / total) : 0) + "%";
  $("overall-text").textContent = total > 0 ? step + " / " + total : "";
  if (ev.totals) showTotals(ev.totals);
  if (st !== "finished" && ev.step_name !== "done") onPhase(ev);
  drawPhases(TERMINAL.includes(st) ? st : null);
  updateStart();
}

function logLine(kind, data) {
  const pre = $("log");
  const t = new Date().toISOString().slice(11, 23);
  pre.textContent += t + " " + kind + " " + (data.status || "") + " " + (data.step_name || "") + " " +
                     (data.message || "") + "\n";
  const lines = pre.textContent.split("\n");
  if (lines.length > 300) pre.textContent = lines.slice(-300).join("\n");
  pre.scrollTop = pre.scrollHeight;
}

async function follow(w) {
  let attempt = 0;
  while (!w.ctl.signal.aborted) {
    try {
      const r = await fetch(API + "jobs/" + w.id + "/events", {
        headers: { "Authorization": "Bearer " + token(), "Accept": "text/event-stream" },
        signal: w.ctl.signal });
      if (!r.ok) {
        let d = null;
        try { d = await r.json(); } catch (e) { d = null; }
        toast("Job " + w.id + ": " + ((d && d.detail) || "HTTP " + r.status), true);
        return;
      }
      const reader = r.body.getReader(), dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trim();
          }
          if (!data) continue;
          const ev = JSON.parse(data);
          if (watching !== w) return;
          window.jetlLastEvent = { at: performance.timeOrigin + performance.now(), event, data: ev };
          logLine(event, ev);
          show(ev);
          if (event === "end") { ended(w, ev); return; }
        }
      }
    } catch (e) {
      if (w.ctl.signal.aborted) return;
    }
    attempt++;
    await new Promise((res) => setTimeout(res, Math.min(5000, 1000 * attempt)));
  }
}

function ended(w, row) {
  if (row.status === "finished") toast("Job " + w.id + " finished: " +
    ((row.totals && row.totals.issues) || 0).toLocaleString("en-US") + " issues");
  else if (row.status === "cancelled") toast("Job " + w.id + " cancelled");
  else if (row.status === "failed") toast("Job " + w.id + " failed: " + (row.error || ""), true);
  loadJobs();
  loadFields();
  loadProjects();
}

function watch(id) {
  id = Number(id);
  if (!id) return;
  if (watching) watching.ctl.abort();
  watching = { id, ctl: new AbortController(), status: "", keys: [], integration: 0 };
  const u = new URL(location.href);
  u.searchParams.set("job", String(id));
  history.replaceState(null, "", u);
  $("job").hidden = false;
  $("job-id").textContent = String(id);
  $("job-status").textContent = "";
  $("job-message").textContent = "";
  $("job-error").hidden = true;
  $("job-projects").textContent = "";
  $("totals").hidden = true;
  $("totals-body").textContent = "";
  lastTotals = null;
  $("overall-fill").style.width = "0%";
  $("overall-text").textContent = "";
  $("cancel").hidden = true;
  $("job-status").className = "status";
  $("log").textContent = "";
  buildPhases();
  markCurrent();
  follow(watching);
}

async function cancelJob() {
  if (!watching) return;
  $("cancel").disabled = true;
  try {
    const r = await api("POST", "jobs/" + watching.id + "/cancel");
    toast("Job " + r.id + ": cancel asked, it stops at its next batch");
  } catch (e) {
    toast("Cancel: " + e.message, true);
  } finally {
    $("cancel").disabled = false;
  }
}

// ------------------------------------------------------------------ lists
function cell(tr, text) {
  const td = document.createElement("td");
  td.textContent = text;
  tr.appendChild(td);
  return td;
}

function markCurrent() {
  for (const tr of $("jobs-body").querySelectorAll("tr"))
    tr.classList.toggle("current", watching && tr.dataset.id === String(watching.id));
}

async function loadJobs() {
  if (!token()) return;
  try {
    const r = await api("GET", "jobs?limit=15");
    const body = $("jobs-body");
    body.textContent = "";
    for (const j of r.jobs) {
      const tr = document.createElement("tr");
      tr.dataset.id = String(j.id);
      const a = document.createElement("a");
      a.href = "?job=" + j.id;
      a.textContent = "#" + j.id;
      a.addEventListener("click", (e) => { e.preventDefault(); watch(j.id); });
      const td = document.createElement("td");
      td.appendChild(a);
      tr.appendChild(td);
      cell(tr, j.status);
      cell(tr, ((j.params && j.params.projects) || []).join(", "));
      cell(tr, ((j.totals && j.totals.issues) || 0).toLocaleString("en-US"));
      cell(tr, (j.created_at || "").replace("T", " ").slice(0, 19));
      body.appendChild(tr);
    }
    markCurrent();
  } catch (e) {
    if (e.status === 401) toast("The token was refused", true);
  }
}

async function loadIntegrations() {
  try {
    const r = await api("GET", "integrations");
    const sel = $("integration"), keep = sel.value;
    sel.textContent = "";
    for (const i of r.integrations) {
      const o = document.createElement("option");
      o.value = String(i.id);
      o.textContent = i.id + " · " + i.name + (i.active ? "" : " (inactive)");
      sel.appendChild(o);
    }
    if (!r.integrations.length) toast("This tenant has no integration yet", true);
    if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  } catch (e) { /* keeps the default */ }
}

function drawPicks() {
  const keys = keysOf($("keys").value);
  for (const b of $("picks").querySelectorAll("button"))
    b.setAttribute("aria-pressed", String(keys.includes(b.dataset.key)));
}

async function loadProjects() {
  if (!token() || !$("integration").value) return;
  try {
    const r = await api("GET", "integrations/" + encodeURIComponent($("integration").value) + "/projects");
    const list = $("known-keys"), picks = $("picks");
    list.textContent = "";
    picks.textContent = "";
    for (const p of r.projects.filter((x) => x.active)) {
      const o = document.createElement("option");
      o.value = p.key;
      o.label = p.name || p.key;
      list.appendChild(o);
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.key = p.key.toUpperCase();
      b.textContent = p.key + (p.name ? " · " + p.name : "");
      b.addEventListener("click", () => {
        const keys = keysOf($("keys").value), k = b.dataset.key, i = keys.indexOf(k);
        if (i >= 0) keys.splice(i, 1); else keys.push(k);
        $("keys").value = keys.join(", ");
        drawPicks();
        updateStart();
      });
      picks.appendChild(b);
    }
    drawPicks();
  } catch (e) { /* the keys can still be typed */ }
}

async function loadFields() {
  if (!token() || !$("integration").value) return;   // the integrations are not in yet
  try {
    const r = await api("GET", "integrations/" + encodeURIComponent($("integration").value) + "/fields");
    fields = r.fields.filter((f) => f.custom);
    const pick = $("field-pick"), keep = pick.value;
    pick.textContent = "";
    for (const f of fields) {
      const o = document.createElement("option");
      o.value = f.id;
      o.textContent = (f.name || f.id) + " (" + f.id + (f.type ? ", " + f.type : "") + ")" +
                      (f.slot ? " → slot " + f.slot : "");
      pick.appendChild(o);
    }
    if (!fields.length) {
      const o = document.createElement("option");
      o.value = "";
      o.textContent = "no custom fields yet: read them from Jira (or run an extraction)";
      pick.appendChild(o);
    }
    if (keep) pick.value = keep;
    const body = $("slots-body");
    body.textContent = "";
    for (const s of r.slots) {
      const tr = document.createElement("tr");
      tr.id = "slot-" + s.slot;
      cell(tr, "custom_field_" + String(s.slot).padStart(2, "0"));
      cell(tr, s.field ? (s.field.name || s.field.id) + " (" + s.field.id + ")" : "—");
      cell(tr, s.field ? String(s.filled) : "").className = "filled";
      const td = document.createElement("td");
      if (s.field) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = "Unmap";
        b.setAttribute("aria-label", "Unmap slot " + s.slot);
        b.addEventListener("click", () => mapField(s.field.id, 0));
        td.appendChild(b);
      }
      tr.appendChild(td);
      body.appendChild(tr);
    }
  } catch (e) {
    if (e.status !== 401) toast("Fields: " + e.message, true);
  }
}

async function mapField(id, slot) {
  try {
    await api("PUT", "integrations/" + encodeURIComponent($("integration").value) + "/fields/" +
              encodeURIComponent(id), { slot });
    toast(slot ? id + " now fills custom_field_" + String(slot).padStart(2, "0") + " from the next run"
               : id + " unmapped");
    loadFields();
  } catch (e) {
    toast("Mapping: " + e.message, true);
  }
}

async function syncFields() {
  $("fields-sync").disabled = true;
  try {
    const r = await api("POST", "integrations/" + encodeURIComponent($("integration").value) + "/fields/sync");
    toast(r.fields + " fields read from Jira");
    loadFields();
  } catch (e) {
    toast("Reading fields: " + e.message, true);
  } finally {
    $("fields-sync").disabled = false;
  }
}

function tokenChanged() {
  try { sessionStorage.setItem("jetl-token", token()); } catch (e) { /* storage off */ }
  loadIntegrations().then(() => { loadJobs(); loadFields(); loadProjects(); });
  const id = new URL(location.href).searchParams.get("job");
  if (id && !watching) watch(id);
}

function init() {
  const slots = $("slot-pick");
  for (let i = 1; i <= 20; i++) {
    const o = document.createElement("option");
    o.value = String(i);
    o.textContent = String(i).padStart(2, "0");
    slots.appendChild(o);
  }
  $("start").addEventListener("submit", start);
  $("cancel").addEventListener("click", cancelJob);
  $("refresh").addEventListener("click", loadJobs);
  $("fields-sync").addEventListener("click", syncFields);
  $("map").addEventListener("click", () => {
    if ($("field-pick").value) mapField($("field-pick").value, Number($("slot-pick").value));
  });
  $("token").addEventListener("change", tokenChanged);
  $("keys").addEventListener("input", () => { updateStart(); drawPicks(); });
  $("integration").addEventListener("change", () => { updateStart(); loadFields(); loadProjects(); });
  setInterval(() => { if (watching && !TERMINAL.includes(watching.status)) drawPhases(null); }, 1000);
  setInterval(loadJobs, 10000);
  // The token survives a reload of this tab (not other tabs, not a restart).
  let saved = "";
  try { saved = sessionStorage.getItem("jetl-token") || ""; } catch (e) { saved = ""; }
  if (saved) { $("token").value = saved; tokenChanged(); }
}

document.addEventListener("DOMContentLoaded", init);
