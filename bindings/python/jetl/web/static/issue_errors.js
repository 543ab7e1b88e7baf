// jetl page: the issues that could not be stored (GET issue-errors), in a
// section of their own, refreshed with the jobs. Uses app.js's $, api, cell
// and token (loaded before this file).
"use strict";

async function loadIssueErrors() {
  if (!token()) return;
  try {
    const r = await api("GET", "issue-errors?limit=50");
    const body = $("errors-body");
    body.textContent = "";
    for (const e of r.issue_errors) {
      const tr = document.createElement("tr");
      cell(tr, e.key || e.external_id || "?");
      cell(tr, e.project_key || "");
      cell(tr, e.job_id ? "#" + e.job_id : "");
      cell(tr, e.error || "");
      cell(tr, (e.created_at || "").replace("T", " ").slice(0, 19));
      body.appendChild(tr);
    }
    $("errors-count").textContent = r.total ?
      r.total.toLocaleString("en-US") + " not stored: fixed in Jira, the next incremental run " +
      "(or `jetl errors --retry`) reads them again" : "none";
  } catch (e) {
    /* the jobs list reports a refused token */
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("refresh").addEventListener("click", loadIssueErrors);
  $("token").addEventListener("change", loadIssueErrors);
  setInterval(loadIssueErrors, 10000);
  if (token()) loadIssueErrors();
});
