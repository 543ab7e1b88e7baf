// jetl example page: start an extraction, then follow the job's server-sent
// events. The stream is read with fetch() so the token travels in the
// Authorization header, never in a URL (EventSource cannot send headers; the
// service also accepts ?access_token= on the events endpoint for such clients).
"use strict";

const PHASES = ["discover", "census", "issues", "changelogs", "dev_status",
                "store", "queue", "transform", "done"];
const TERMINAL = ["finished", "failed", "cancelled"];
const $ = (id) => document.getElementById(id);

let stream = null;            // AbortController of the open stream
let state = {};               // phase -> {done, total, seen}
let current = null;           // phase being worked on

function token() { return $("token").value.trim(); }

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

async function api(method, path) {
  const r = await fetch(path, { method, headers: { "Authorization": "Bearer " + token() } });
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new Error((body && body.message) || (r.status + " " + r.statusText));
  return body;
}

function buildPhases() {
  const box = $("phases");
  box.textContent = "";
  state = {};
  current = null;
  for (const p of PHASES) {
    state[p] = { done: 0, total: 0, seen: false };
    const row = document.createElement("div");
    row.className = "phase pending";
    row.id = "phase-" + p;
    row.innerHTML = '<span class="label"></span><div class="bar"><div class="fill"></div></div>' +
                    '<span class="count"></span>';
    row.querySelector(".label").textContent = p;
    box.appendChild(row);
  }
}

function drawPhase(p) {
  const s = state[p], row = $("phase-" + p);
  if (!row) return;
  const active = p === current;
  const fill = row.querySelector(".fill");
  let pct = 0;
  if (s.total > 0) pct = Math.min(100, 100 * s.done / s.total);
  else if (s.seen && !active) pct = 100;
  row.className = "phase " + (active ? "active" : s.seen ? "seen" : "pending") +
                  (active && s.total <= 0 ? " unknown" : "");
  fill.style.width = pct + "%";
  row.querySelector(".count").textContent =
    !s.seen ? "" : s.total > 0 ? s.done + " / " + s.total : String(s.done);
}

function apply(ev) {
  const status = ev.status || "";
  $("job-status").textContent = status;
  $("job-status").className = "status " + status;
  $("job-message").textContent = ev.message || "";
  if (ev.error) { $("job-error").textContent = ev.error; $("job-error").hidden = false; }
  const steps = ev.total_steps || 0, step = ev.step || 0;
  $("overall-fill").style.width = (steps > 0 ? Math.min(100, 100 * step / steps) : 0) + "%";
  $("overall-text").textContent = steps > 0 ? step + " / " + steps : "";

  const phase = ev.step_name;
  if (phase && state[phase]) {
    // each project runs census..queue again: a bar shows its latest counts
    current = phase;
    const s = state[phase];
    s.seen = true;
    s.done = Number(ev.items_done || 0);
    s.total = Number(ev.items_total || 0);
  }
  if (TERMINAL.includes(status)) {
    current = null;
    if (status === "finished") {
      for (const p of PHASES) {
        if (state[p].seen) state[p].done = Math.max(state[p].done, state[p].total);
      }
      state.done.seen = true;
      $("overall-fill").style.width = "100%";
    }
  }
  for (const p of PHASES) drawPhase(p);
}

function logLine(text) {
  const log = $("log");
  log.textContent += text + "\n";
  const lines = log.textContent.split("\n");
  if (lines.length > 400) log.textContent = lines.slice(-400).join("\n");
  log.scrollTop = log.scrollHeight;
}

// Server-sent events over fetch(): split on blank lines, keep event + data.
async function follow(jobId) {
  if (stream) stream.abort();
  const ctl = new AbortController();
  stream = ctl;
  $("job").hidden = false;
  $("job-id").textContent = "#" + jobId;
  $("job-error").hidden = true;
  $("log").textContent = "";
  buildPhases();
  for (let attempt = 0; attempt < 20 && !ctl.signal.aborted; attempt++) {
    let ended = false;
    try {
      const r = await fetch("/api/v1/etl/jobs/" + jobId + "/events", {
        headers: { "Authorization": "Bearer " + token(), "Accept": "text/event-stream" },
        signal: ctl.signal,
      });
      if (!r.ok) {
        let msg = r.status + " " + r.statusText;
        try { msg = (await r.json()).message || msg; } catch (e) { /* keep */ }
        notice("events: " + msg);
        return;
      }
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let event = "message", data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const i = line.indexOf(":");
            const field = i < 0 ? line : line.slice(0, i);
            const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            if (field === "event") event = val;
            else if (field === "data") data.push(val);
          }
          if (!data.length) continue;
          let ev;
          try { ev = JSON.parse(data.join("\n")); } catch (e) { continue; }
          logLine(event + " " + (ev.status || "") + " " + (ev.step_name || "") + " " +
                  (ev.items_done ?? "") + "/" + (ev.items_total ?? "") + " " + (ev.message || ""));
          apply(ev);
          if (event === "end") ended = true;
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
      logLine("stream interrupted: " + e.message);
    }
    if (ended) return;
    await new Promise((res) => setTimeout(res, 2000));   // reconnect; the row comes first again
  }
}

$("start").addEventListener("submit", async (e) => {
  e.preventDefault();
  notice("");
  const keys = $("keys").value.split(/[\s,;]+/).filter(Boolean);
  const q = new URLSearchParams();
  if ($("tenant").value) q.append("tenant_id", $("tenant").value);
  for (const k of keys) q.append("project_keys", k);
  q.append("incremental", $("incremental").checked ? "true" : "false");
  const integration = encodeURIComponent($("integration").value || "1");
  $("go").disabled = true;
  try {
    const r = await api("POST", "/api/v1/etl/jira/extract/issues-changelogs-dev-status/" +
                                integration + "?" + q.toString());
    $("watch-id").value = r.job_id;
    follow(r.job_id);
  } catch (err) {
    notice(err.message);
  } finally {
    $("go").disabled = false;
  }
});

$("watch").addEventListener("click", () => {
  notice("");
  const id = parseInt($("watch-id").value, 10);
  if (id > 0) follow(id); else notice("enter a job id");
});
