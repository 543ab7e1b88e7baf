// The jetl page in Debian's Chromium (playwright-core): start an extraction
// (a spinner while the request runs), see the toast, follow it through the
// five steps to "finished" with the right totals, reload and keep the job,
// retry a failed raw row, filter the jobs by status, map a field to a slot and see the next run fill it, cancel a
// slow job, look at a phone-width screen, reach the form by keyboard; no
// console error anywhere; the API page (/docs) renders from the service
// alone. Run by run.sh (which starts the service).
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";

const URL0 = process.env.JETL_PAGE_URL;
const TOKEN = process.env.JETL_PAGE_TOKEN;
const OUT = process.env.JETL_BROWSER_OUT;
const ISSUES = Number(process.env.JETL_EXPECT_ISSUES || "230");
const errors = [];
const shots = [];
let step = 0;

async function shot(page, name, what) {
  const file = path.join(OUT, String(++step).padStart(2, "0") + "-" + name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file + "  " + what);
}

function log(msg) { console.log("browser test: " + msg); }

async function toast(page, re, timeout = 20000) {
  const t = page.locator(".toast", { hasText: re }).last();
  await t.waitFor({ state: "visible", timeout });
  return t.textContent();
}

async function status(page, want, timeout) {
  await page.waitForFunction((w) => document.getElementById("job-status").textContent === w, want,
                             { timeout, polling: 100 });
}

async function clearToasts(page) {
  await page.evaluate(() => { document.getElementById("toasts").textContent = ""; });
}

async function start(page, keys, incremental) {
  await clearToasts(page);
  if (keys !== null) await page.fill("#keys", keys);
  await page.setChecked("#incremental", incremental);
  await page.click("#go");
  const text = await toast(page, /Issues extraction started successfully \(job \d+\)/);
  return Number(/job (\d+)/.exec(text)[1]);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
  page.on("pageerror", (e) => errors.push("page error: " + e.message));
  page.on("requestfailed", (r) => {
    // the event stream a watch() replaces is aborted on purpose
    if (!/\/events$/.test(r.url())) errors.push("request failed: " + r.url() + " " + r.failure().errorText);
  });

  await page.goto(URL0);
  assert.match(page.url(), /\/api\/v1\/etl\/ui\/$/);
  // keyboard: the first Tab reaches the token field
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "token");
  await page.keyboard.type(TOKEN);
  await page.keyboard.press("Tab");          // change event: integrations, jobs, fields load
  await page.waitForFunction(() => document.querySelectorAll("#integration option").length >= 1);
  await shot(page, "empty", "the page before any job, 1280x800");

  // 0. a trigger Jira cannot serve (an integration that does not exist): the seed's failure toast,
  // and the spinner while the request runs (the answer held back 600 ms)
  await page.route("**/jira/extract/**", async (route) => {
    await new Promise((res) => setTimeout(res, 600));
    await route.continue();
  });
  await page.evaluate(() => {
    const o = document.createElement("option");
    o.value = "999";
    o.textContent = "999 · missing";
    document.getElementById("integration").appendChild(o);
    document.getElementById("integration").value = "999";
  });
  await page.fill("#keys", "APP");
  await page.click("#go");
  await page.waitForSelector("#go.busy[aria-busy=true]", { timeout: 500 });
  await shot(page, "spinner", "the Start button's spinner while the trigger's request runs");
  const failedStart = await toast(page, /Failed to start issues extraction: /);
  assert.match(failedStart, /integration 999 not found/);
  // the browser reports that 404 on its console: the one error this step expects
  assert.deepEqual(errors.splice(0), ["console: Failed to load resource: the server responded with a status of 404 (Not Found)"]);
  assert.equal(await page.locator("#go.busy").count(), 0, "the spinner stays after the answer");
  await page.unroute("**/jira/extract/**");
  await page.evaluate(() => {
    document.querySelector('#integration option[value="999"]').remove();
  });

  // 1. an extraction of APP and WEB: toast, live progress, finished with the totals
  const t0 = Date.now();
  const job1 = await start(page, "APP, WEB", true);
  log("job " + job1 + " started");
  assert.equal(await page.locator("#go").isDisabled(), true, "Start stays enabled while the same job runs");
  await page.waitForFunction(() => document.querySelectorAll(".phase.active, .phase.done").length > 0,
                             null, { timeout: 30000 });
  await shot(page, "running", "job " + job1 + " mid-run: phases that run together drawn together");
  await status(page, "finished", 120000);
  log("job " + job1 + " finished in " + ((Date.now() - t0) / 1000).toFixed(1) + " s");
  await page.waitForSelector("#total-issues");
  const total = async (k) => Number((await page.textContent("#total-" + k)).replace(/,/g, ""));
  assert.equal(await total("issues"), ISSUES, "issues total");
  assert.equal(await total("work_items"), ISSUES, "work items total");
  assert.ok(await total("changelog_items") > 0, "changelog items total");
  assert.ok(await total("dev_status") > 0, "dev-status total");
  assert.ok(await total("raw_rows") >= 2, "raw rows total");
  assert.ok(await total("requests") > 0, "requests total");
  assert.equal(await page.locator(".phase.done").count(), 8, "every phase, transform included, ends done");
  assert.equal(await page.textContent("#phase-issues .count"), ISSUES + " issues", "the job's count, not a project's");
  await toast(page, /finished: 230 issues/);
  // the seed's five steps: forward only, each with its message, the last one full
  const STEPS = ["Starting issues extraction...", "Fetching issues with custom fields...",
                 "Processing changelogs and dev status...", "Storing raw data and queuing for processing...",
                 "Issues extraction completed successfully"];
  const seen = [];
  for (const line of (await page.textContent("#log")).split("\n")) {
    const m = / (\d)\/5 \S+ (.*?)( · |$)/.exec(line);
    if (m && / (running|finished) /.test(line)) {
      seen.push(Number(m[1]));
      assert.equal(m[2], STEPS[Number(m[1]) - 1], "step " + m[1] + "'s message: " + line);
    }
  }
  assert.deepEqual(seen, seen.slice().sort(), "the step went back: " + seen.join(","));
  for (const k of [2, 4, 5]) assert.ok(seen.includes(k), "step " + k + " never shown: " + seen.join(","));
  assert.equal(await page.textContent("#overall-text"), "step 5/5");
  assert.equal(await page.textContent("#job-message"), "Issues extraction completed successfully");
  assert.equal(await page.textContent("#job-projects-done"), "2 of 2 projects extracted");
  log("job " + job1 + " steps seen: " + [...new Set(seen)].join(", "));
  await page.waitForTimeout(400);   // the bars' width transition (0.25 s)
  await shot(page, "finished", "job " + job1 + " finished: every phase done, totals of what it stored");

  // 2. a reload keeps the job (it is in the URL)
  assert.match(page.url(), new RegExp("job=" + job1));
  await page.reload();
  await status(page, "finished", 20000);
  assert.equal(await page.textContent("#job-id"), String(job1));

  // 3. map a field to a slot; the next run (full) fills that column
  await page.waitForFunction(() => document.querySelectorAll("#field-pick option").length > 3,
                             null, { timeout: 20000 });
  await page.selectOption("#field-pick", "customfield_10030");
  await page.selectOption("#slot-pick", "3");
  await clearToasts(page);
  await page.click("#map");
  await toast(page, /customfield_10030 now fills custom_field_03/);
  await page.waitForFunction(() => /customfield_10030/.test((document.querySelector("#slot-3") || {}).textContent));
  // the projects picked from those the integration is known to have
  await page.fill("#keys", "");
  await page.waitForSelector('#picks button[data-key="WEB"]', { timeout: 20000 });
  await page.click('#picks button[data-key="APP"]');
  await page.click('#picks button[data-key="WEB"]');
  assert.equal(await page.inputValue("#keys"), "APP, WEB");
  assert.equal(await page.getAttribute('#picks button[data-key="APP"]', "aria-pressed"), "true");
  const job2 = await start(page, null, false);
  await status(page, "finished", 120000);
  await page.waitForFunction(() => Number((document.querySelector("#slot-3 .filled") || {}).textContent) > 0,
                             null, { timeout: 20000 });
  const filled = Number(await page.textContent("#slot-3 .filled"));
  log("job " + job2 + " filled custom_field_03 for " + filled + " issues");
  await page.locator("#slots").scrollIntoViewIfNeeded();
  await shot(page, "mapped", "job " + job2 + " (full) filled custom_field_03 (Severity) of " + filled + " issues");
  assert.equal(await page.locator("#slots-body tr").count(), 1, "only the mapped slot is listed");

  // 3b. a raw row of job 2 failed (marked so in the table): listed with its cause, retried from the page
  const sql = (q) => execFileSync("psql", ["-Atq", process.env.JETL_DB, "-c", q]).toString().trim();
  const rawId = Number(sql("UPDATE raw_extraction_data SET status = 'failed', error = 'transform: a value that" +
    " could not be stored' WHERE id = (SELECT min(id) FROM raw_extraction_data WHERE job_id = " + job2 + ")" +
    " RETURNING id"));
  await page.evaluate((id) => window.watch(id), job2);
  await status(page, "finished", 20000);
  await page.selectOption("#raw-filter", "failed");
  await page.waitForSelector("#raw-" + rawId + " button", { timeout: 10000 });
  assert.match(await page.textContent("#raw-" + rawId), /could not be stored/);
  await page.locator("#raw").scrollIntoViewIfNeeded();
  await shot(page, "raw-failed", "job " + job2 + ": raw row " + rawId + " failed, its cause and Retry");
  await clearToasts(page);
  await page.click("#raw-" + rawId + " button");
  await toast(page, new RegExp("Raw row " + rawId + " transformed: \\d+ work items"));
  await page.waitForFunction(() => /No failed raw row/.test(document.getElementById("raw-body").textContent),
                             null, { timeout: 10000 });
  assert.equal(sql("SELECT status FROM raw_extraction_data WHERE id = " + rawId), "completed");
  await page.selectOption("#raw-filter", "");
  await page.waitForSelector("#raw-" + rawId, { timeout: 10000 });
  assert.match(await page.textContent("#raw-" + rawId), /completed/);

  // 4. a slow job, cancelled from the page
  const job3 = await start(page, "SLOW", true);
  await status(page, "running", 30000);
  await page.waitForFunction(() => !document.getElementById("totals").hidden &&
                             Number(document.querySelector("#total-issues").textContent.replace(/,/g, "")) >= 200 &&
                             document.querySelectorAll(".phase.active").length >= 2 &&
                             document.querySelector(".phase.active .count") &&
                             /ETA/.test(document.querySelector(".phase.active .count").textContent),
                             null, { timeout: 60000, polling: 100 });
  await shot(page, "slow-running", "job " + job3 + " (4000 issues, slow Jira) running, rate and ETA per phase");
  // a reload mid-run: the same job, the phases it is past drawn full, its step
  await page.reload();
  await status(page, "running", 20000);
  assert.equal(await page.textContent("#job-id"), String(job3));
  await page.waitForFunction(() => document.querySelector("#phase-discover").classList.contains("done") &&
                             document.querySelector("#phase-discover .fill").style.width === "100%",
                             null, { timeout: 10000 });
  assert.match(await page.textContent("#overall-text"), /^step [2-4]\/5$/);
  await page.waitForTimeout(400);
  await shot(page, "reloaded", "job " + job3 + " after a reload mid-run: discovery drawn done, " +
             (await page.textContent("#overall-text")));
  // Cancel asks first: dismissed, the job runs on; accepted, it stops
  page.once("dialog", (d) => d.dismiss());
  await page.click("#cancel");
  await page.waitForTimeout(300);
  assert.equal(await page.textContent("#job-status"), "running", "a dismissed confirm cancelled the job");
  const tc = Date.now();
  await clearToasts(page);
  page.once("dialog", (d) => { assert.match(d.message(), /Cancel job \d+\?/); d.accept(); });
  await page.click("#cancel");
  await toast(page, /cancel asked/);
  await status(page, "cancelled", 30000);
  log("job " + job3 + " cancelled, shown " + (Date.now() - tc) + " ms after the click");
  assert.ok(await total("issues") < 4000, "the cancelled job stopped early");
  await toast(page, new RegExp("Job " + job3 + " cancelled"));
  await shot(page, "cancelled", "job " + job3 + " cancelled at its next batch");

  // 5. the stream's delay, from pg_notify (the database's clock) to the page's handler
  const probe = Number(sql("INSERT INTO etl_job_queue (tenant_id, integration_id, job_type, status, params)" +
                           " VALUES (1, 1, 'probe', 'running', '{\"projects\": [\"PROBE\"]}') RETURNING id"));
  await page.evaluate((id) => window.watch(id), probe);
  await status(page, "running", 10000);
  const delays = [];
  for (let k = 0; k < 30; k++) {
    sql("SELECT pg_notify('jetl_progress', json_build_object('job_id', " + probe + ", 'tenant_id', 1," +
        " 'status', 'running', 'step_name', 'census', 'message', 'PROBE: census " + k + "'," +
        " 'sent', extract(epoch FROM clock_timestamp()))::text)");
    await page.waitForFunction((m) => window.jetlLastEvent && window.jetlLastEvent.data.message === m,
                               "PROBE: census " + k, { timeout: 5000, polling: "raf" });
    const d = await page.evaluate(() => window.jetlLastEvent.at - window.jetlLastEvent.data.sent * 1000);
    delays.push(d);
  }
  sql("UPDATE etl_job_queue SET status = 'cancelled', finished_at = now() WHERE id = " + probe);
  sql("SELECT pg_notify('jetl_progress', json_build_object('job_id', " + probe + ", 'tenant_id', 1," +
      " 'status', 'cancelled')::text)");
  await status(page, "cancelled", 10000);
  delays.sort((a, b) => a - b);
  const q = (p) => delays[Math.min(delays.length - 1, Math.round(p * (delays.length - 1)))].toFixed(1);
  log("SSE delay pg_notify -> page (30 events, polled per frame): p50 " + q(0.5) + " ms, p95 " + q(0.95) +
      " ms, max " + q(1) + " ms");

  // a failed job shows its error, not the stale progress message beside it
  const failed = Number(sql("INSERT INTO etl_job_queue (tenant_id, integration_id, job_type, status, step_name," +
    " message, error, params) VALUES (1, 1, 'probe', 'failed', 'discover', 'discovering fields and time zone'," +
    " 'jira: HTTP 401 on /rest/api/3/myself: check the token', '{\"projects\": [\"APP\"]}') RETURNING id"));
  await page.evaluate((id) => window.watch(id), failed);
  await status(page, "failed", 10000);
  assert.equal(await page.textContent("#job-message"), "", "a failed job keeps its last progress message");
  assert.match(await page.textContent("#job-error"), /HTTP 401/);
  assert.equal(await page.isVisible("#job-error"), true);
  await shot(page, "failed", "a failed job: its error only, no stale 'discovering fields and time zone'");

  // 6. phone width: nothing wider than the screen, the heading inside its card
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(over <= 0, "the page is " + over + " px wider than a 390 px screen");
  const inside = await page.evaluate(() => {
    const h = document.querySelector("#job .head").getBoundingClientRect();
    const c = document.querySelector("#job").getBoundingClientRect();
    return h.left >= c.left && h.right <= c.right;
  });
  assert.ok(inside, "the job card heading overflows its card at 390 px");
  await page.evaluate(() => { document.querySelector("#job details").open = true; });
  await shot(page, "phone", "the page at 390 px: card heading, bars and event lines wrap");

  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(height < 4500, "the page is " + height + " px tall at 390 px");
  log("page height at 390 px: " + height + " px");

  // 7. the job list shows the jobs: start time with its zone, duration; filtered by status; empty state
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.selectOption("#jobs-filter", "");
  await page.waitForFunction(() => document.querySelectorAll("#jobs-body tr:not(.empty)").length >= 5,
                             null, { timeout: 10000 });
  const first = page.locator("#jobs-body tr[data-id='" + job1 + "']");
  assert.match(await first.locator("td.time").textContent(), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+/);
  assert.match(await first.locator("td.duration").textContent(), /^\d+ (s|min)/);
  await page.selectOption("#jobs-filter", "cancelled");
  await page.waitForFunction(() => [...document.querySelectorAll("#jobs-body tr:not(.empty) td:nth-child(2)")]
    .every((td) => td.textContent === "cancelled") && document.querySelectorAll("#jobs-body tr").length >= 1,
    null, { timeout: 10000 });
  await page.selectOption("#jobs-filter", "queued");
  await page.waitForFunction(() => /No queued job/.test(document.getElementById("jobs-body").textContent),
                             null, { timeout: 10000 });
  await page.locator("#jobs").scrollIntoViewIfNeeded();
  await shot(page, "jobs-empty", "the job list filtered to a status no job has: it says so");
  await page.selectOption("#jobs-filter", "");

  // 8. the API page (/docs): Swagger UI from the service itself renders every operation
  const docs = await context.newPage();
  docs.on("console", (m) => { if (m.type() === "error") errors.push("docs console: " + m.text()); });
  docs.on("pageerror", (e) => errors.push("docs page error: " + e.message));
  docs.on("requestfailed", (r) => errors.push("docs request failed: " + r.url()));
  docs.on("request", (r) => {
    if (new URL(r.url()).origin !== new URL(URL0).origin) errors.push("docs asked another site: " + r.url());
  });
  await docs.goto(new URL("/docs", URL0).href);
  await docs.waitForFunction(() => document.querySelectorAll(".swagger-ui .opblock").length >= 10,
                             null, { timeout: 20000 });
  const ops = await docs.locator(".swagger-ui .opblock").count();
  await shot(docs, "api-docs", "/docs: Swagger UI served by the service, " + ops + " operations");
  await docs.close();

  assert.deepEqual(errors, [], "console errors");
  log("screenshots:\n  " + shots.join("\n  "));
  log("ok");
} finally {
  await browser.close();
}
