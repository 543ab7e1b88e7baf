// The jetl page in Debian's Chromium (playwright-core): start an extraction,
// see the toast, follow it to "finished" with the right totals, reload and
// keep the job, map a field to a slot and see the next run fill it, cancel a
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
  const text = await toast(page, /started \(job \d+\)/);
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
  await page.waitForFunction(() => /customfield_10030/.test(document.querySelector("#slot-3").textContent));
  // the projects picked from those the integration is known to have
  await page.fill("#keys", "");
  await page.waitForSelector('#picks button[data-key="WEB"]', { timeout: 20000 });
  await page.click('#picks button[data-key="APP"]');
  await page.click('#picks button[data-key="WEB"]');
  assert.equal(await page.inputValue("#keys"), "APP, WEB");
  assert.equal(await page.getAttribute('#picks button[data-key="APP"]', "aria-pressed"), "true");
  const job2 = await start(page, null, false);
  await status(page, "finished", 120000);
  await page.waitForFunction(() => Number(document.querySelector("#slot-3 .filled").textContent) > 0,
                             null, { timeout: 20000 });
  const filled = Number(await page.textContent("#slot-3 .filled"));
  log("job " + job2 + " filled custom_field_03 for " + filled + " issues");
  await page.locator("#slots").scrollIntoViewIfNeeded();
  await shot(page, "mapped", "job " + job2 + " (full) filled custom_field_03 (Severity) of " + filled + " issues");

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
  const tc = Date.now();
  await clearToasts(page);
  await page.click("#cancel");
  await toast(page, /cancel asked/);
  await status(page, "cancelled", 30000);
  log("job " + job3 + " cancelled, shown " + (Date.now() - tc) + " ms after the click");
  assert.ok(await total("issues") < 4000, "the cancelled job stopped early");
  await toast(page, new RegExp("Job " + job3 + " cancelled"));
  await shot(page, "cancelled", "job " + job3 + " cancelled at its next batch");

  // 5. the stream's delay, from pg_notify (the database's clock) to the page's handler
  const sql = (q) => execFileSync("psql", ["-Atq", process.env.JETL_DB, "-c", q]).toString().trim();
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

  // 7. the job list shows the jobs
  const rows = await page.locator("#jobs-body tr").count();
  assert.ok(rows >= 5, "job list has " + rows + " rows");

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
