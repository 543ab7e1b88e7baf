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
const STEPS = ["Starting issues extraction...", "Fetching issues with custom fields...",
               "Processing changelogs and dev status...", "Storing raw data and queuing for processing...",
               "Issues extraction completed successfully"];   // the seed system's five, word for word
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
  busy(true);
  try {
    const r = await api("POST", "jira/extract/issues-changelogs-dev-status/" +
                        encodeURIComponent($("integration").value) + "?" + q);
    toast("Issues extraction started successfully (job " + r.job_id + ")");
    watch(r.job_id);
    Object.assign(watching, { keys: r.project_keys, integration: r.integration_id, status: "running" });
  } catch (e) {
    if (e.status === 409 && e.body.job_id) {
      toast(e.message + ": showing it", true);
      watch(e.body.job_id);
    } else {
      toast("Failed to start issues extraction: " + e.message, true);
    }
  } finally {
    busy(false);
    updateStart();
    loadJobs();
  }
}

// the Start button's spinner while the request runs
function busy(on) {
  const b = $("go");
  b.classList.toggle("busy", on);
  b.setAttribute("aria-busy", String(on));
  b.textContent = on ? "Starting…" : "Start extraction";
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
    // a job that stopped (cancelled, failed) leaves its unfinished phases grey;
    // a phase the job is past (seen from its step after a reload) is drawn full
    const done = final === "finished" ? true : (!s.seen && implied(p)) ||
      (s.seen && !active && (s.total > 0 ? s.done >= s.total : !final));
    let pct = final === "finished" || (done && !s.seen) ? 100 :
      s.total > 0 ? Math.min(100, 100 * s.done / s.total) : done ? 100 : 0;
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

// Phases the job is past, from its five steps and its phase (the row after a
// reload says where the job is, not what each phase did)
let where = { step: 0, phase: "" };
function implied(p) {
  const i = PHASES.indexOf(p), cur = PHASES.indexOf(where.phase);
  if (where.step >= 4 && i <= PHASES.indexOf("store")) return true;
  if (where.step >= 2 && p === "discover") return true;
  return (p === "discover" || p === "census") && cur > i;
}

function onPhase(ev) {
  const p = ev.step_name;
  if (!phases[p]) return;
  const s = phases[p], now = Date.now();
  const project = (/^([A-Za-z][A-Za-z0-9_]*): /.exec(ev.detail || ev.message || "") || [])[1] || "";
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
  $("job-message").textContent = st === "failed" ? "" :
    (ev.message || "") + (ev.detail && st !== "finished" ? " · " + ev.detail : "");
  $("job-error").textContent = ev.error || "";
  $("job-error").hidden = !ev.error || st !== "failed";
  // the job's five steps: a step is full once the job is past it
  const total = Number(ev.total_steps) || 0, step = Number(ev.step) || 0;
  const past = st === "finished" ? total : Math.max(0, step - 1);
  $("overall-fill").style.width = (total > 0 ? Math.min(100, 100 * past / total) : 0) + "%";
  $("overall-text").textContent = total > 0 ? "step " + step + "/" + total : "";
  $("overall").setAttribute("aria-valuenow", String(step));
  if (ev.projects_total) {
    $("job-projects-done").textContent = ev.projects_done + " of " + ev.projects_total + " projects extracted";
  }
  if (step) where = { step, phase: ev.step_name || where.phase };
  if (ev.totals) showTotals(ev.totals);
  if (st !== "finished" && ev.step_name !== "done") onPhase(ev);
  drawPhases(TERMINAL.includes(st) ? st : null);
  updateStart();
}

function logLine(kind, data) {
  const pre = $("log");
  const t = new Date().toISOString().slice(11, 23);
  pre.textContent += t + " " + kind + " " + (data.status || "") + " " + (data.step ? data.step + "/" +
                     data.total_steps + " " : "") + (data.step_name || "") + " " + (data.message || "") +
                     (data.detail ? " · " + data.detail : "") + "\n";
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
          if (ev.source === "row" && event !== "end") loadRaw();
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
  loadRaw();
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
  $("job-projects-done").textContent = "";
  where = { step: 0, phase: "" };
  $("raw").hidden = true;
  $("cancel").hidden = true;
  $("job-status").className = "status";
  $("log").textContent = "";
  buildPhases();
  markCurrent();
  follow(watching);
}

async function cancelJob() {
  if (!watching) return;
  if (!confirm("Cancel job " + watching.id + "? It stops at its next batch; what it stored stays.")) return;
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

// ------------------------------------------------------------------ raw rows
// The watched job's raw rows (what the extraction stored), a failed one retried
async function loadRaw() {
  if (!watching || !token()) return;
  const id = watching.id, f = $("raw-filter").value;
  try {
    const r = await api("GET", "raw?limit=50&job_id=" + id + (f ? "&status=" + encodeURIComponent(f) : ""));
    if (!watching || watching.id !== id) return;
    const body = $("raw-body"), c = r.counts || {};
    body.textContent = "";
    $("raw").hidden = false;
    $("raw-counts").textContent = ["completed", "pending", "processing", "failed"]
      .filter((k) => c[k]).map((k) => c[k] + " " + k).join(" · ") || "no raw row yet";
    if (!r.raw.length) emptyRow(body, 5, f ? "No " + f + " raw row in this job." : "The job stored no raw row yet.");
    for (const row of r.raw) {
      const tr = document.createElement("tr");
      tr.id = "raw-" + row.id;
      cell(tr, "#" + row.id);
      cell(tr, row.project_key || "");
      cell(tr, String(row.item_count));
      const st = cell(tr, row.status);
      st.className = "status " + row.status;
      if (row.error) st.title = row.error;
      const td = document.createElement("td");
      if (row.status === "failed") {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = "Retry";
        b.setAttribute("aria-label", "Retry raw row " + row.id);
        b.addEventListener("click", () => retryRaw(row.id, b));
        td.appendChild(b);
        const e = document.createElement("div");
        e.className = "raw-error";
        e.textContent = row.error || "";
        td.appendChild(e);
      }
      tr.appendChild(td);
      body.appendChild(tr);
    }
  } catch (e) {
    if (e.status !== 401) toast("Raw rows: " + e.message, true);
  }
}

async function retryRaw(id, b) {
  b.disabled = true;
  b.classList.add("busy");
  try {
    const r = await api("POST", "raw/" + id + "/retry");
    toast("Raw row " + id + " transformed: " + r.result.work_items + " work items");
  } catch (e) {
    toast("Raw row " + id + ": " + e.message, true);
  } finally {
    loadRaw();
    if (watching) api("GET", "jobs/" + watching.id).then(show).catch(() => {});
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

// a time with its zone ("2026-12-08 01:30:04 UTC" in the browser's zone)
const TIME = new Intl.DateTimeFormat("sv-SE", { year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
function fmtTime(iso) { return iso ? TIME.format(new Date(iso)) : ""; }

function fmtDuration(j) {
  const a = Date.parse(j.started_at || j.created_at || ""), b = Date.parse(j.finished_at || j.updated_at || "");
  if (!isFinite(a) || !isFinite(b) || b < a) return "";
  const s = Math.round((b - a) / 1000);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s";
  return Math.floor(s / 3600) + " h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + " min";
}

function emptyRow(body, cols, text) {
  const tr = document.createElement("tr");
  tr.className = "empty";
  const td = cell(tr, text);
  td.colSpan = cols;
  body.appendChild(tr);
}

async function loadJobs() {
  if (!token()) return;
  try {
    const f = $("jobs-filter").value;
    const r = await api("GET", "jobs?limit=15" + (f ? "&status=" + encodeURIComponent(f) : ""));
    const body = $("jobs-body");
    body.textContent = "";
    if (!r.jobs.length)
      emptyRow(body, 6, f ? "No " + f + " job. Show every status to see the others."
                          : "No job yet: enter the project keys above and start an extraction.");
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
      cell(tr, fmtTime(j.started_at || j.created_at)).className = "time";
      cell(tr, fmtDuration(j)).className = "duration";
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
    // the empty slots only on request: 20 rows of dashes fill a phone's screen many times
    const all = $("slots-all").checked, shown = r.slots.filter((s) => all || s.field);
    if (!shown.length) emptyRow(body, 4, "No custom field in a slot yet: pick a field and a slot above.");
    for (const s of shown) {
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
  $("jobs-filter").addEventListener("change", loadJobs);
  $("raw-filter").addEventListener("change", loadRaw);
  $("raw-refresh").addEventListener("click", loadRaw);
  $("slots-all").addEventListener("change", loadFields);
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
