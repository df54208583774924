// The node side of tests/scripts/test_upload_page.sh: vodup's upload page
// (web/upload/, docs/upload-links.md) in headless Chromium (Debian's, driven
// by npm playwright-core), against a running vodup with processing on.
//
//   1. the link opens: limits shown, the file picker labelled; Tab reaches it;
//   2. a drop (a DataTransfer with a small video and a text file): the video
//      uploads, the text file is refused by its extension;
//   3. the big video through the file picker, its upload slowed down (CDP
//      network throttling): progress, speed and time left; the pause button
//      is reached with Tab and pauses and resumes with the keyboard;
//   4. a reload in the middle, the same file chosen again: the page says
//      "Resuming at N%", the browser sends HEAD then PATCH with
//      Upload-Offset > 0, and the server's access log shows them;
//   5. processing progress, then ready: the HLS output plays in <video>
//      (currentTime passes 1 s);
//   6. an unknown link (404) and an expired one (410) say so.
// A screenshot of each state goes to SHOTS (the script prints the paths).
//
// Environment: VODUP_URL, LINK_URL, GONE_URL (an expired link), BIG_VIDEO,
// SMALL_VIDEO, VODUP_LOG (the server's stderr: its access log),
// PAGE_NODE_MODULES (where npm ci put playwright-core), CHROMIUM (default
// /usr/bin/chromium), SHOTS (a directory), PAGE_DEADLINE_S.
// Prints "ok - ..." / "not ok - ..." lines and ends with
// "upload-page: N passed, M failed"; exits non-zero on any failure.
import {readFileSync} from "node:fs";
import {createRequire} from "node:module";
import path from "node:path";

const DEADLINE_MS = (Number(process.env.PAGE_DEADLINE_S) || 240) * 1000;
const UPLOAD_BYTES_PER_S = 3 * 1024 * 1024; // the throttle: a 30 MB file takes ~10 s

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - ${name}`); }
  else { failed++; console.log(`not ok - ${name}${detail ? `: ${detail}` : ""}`); }
  return ok;
}
function step(text) { console.log(`# step: ${text}`); }
let browser = null;
async function finish() {
  if (browser) await browser.close().catch(() => {});
  console.log(`upload-page: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
const env = (name) => {
  const v = process.env[name];
  if (!v) { check(`environment variable ${name} is set`, false); finish(); }
  return v;
};
const VODUP_URL = env("VODUP_URL").replace(/\/$/, "");
const LINK_URL = env("LINK_URL"), GONE_URL = env("GONE_URL");
const BIG = env("BIG_VIDEO"), SMALL = env("SMALL_VIDEO");
const VODUP_LOG = env("VODUP_LOG"), SHOTS = env("SHOTS");
const MODULES = env("PAGE_NODE_MODULES");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const BIG_NAME = path.basename(BIG), SMALL_NAME = path.basename(SMALL);

const deadline = setTimeout(() => {
  check(`the whole run took less than ${DEADLINE_MS / 1000} s`, false);
  finish();
}, DEADLINE_MS);
deadline.unref();

const require = createRequire(path.join(MODULES, "noop.js"));
const {chromium} = require("playwright-core");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function shot(page, name) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  console.log(`# screenshot: ${file}`);
}
// Polls fn (async, returning a truthy value when done) until timeoutMs.
async function until(fn, timeoutMs, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v || Date.now() > end) return v;
    await sleep(everyMs);
  }
}
const row = (page, name) => page.locator("li.file", {has: page.locator("h2", {hasText: name})});
const statusOf = async (page, name) => (await row(page, name).locator(".status").textContent()) || "";

// Tab until `target` (a locator) has the focus; true when it did within 30 presses.
async function tabTo(page, target) {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    if (await target.evaluate((e) => e === document.activeElement)) return true;
  }
  return false;
}

// The access log's JSON lines (requests only) from line `from` on.
function accessLog(from = 0) {
  return readFileSync(VODUP_LOG, "utf8").split("\n").slice(from)
    .filter((l) => l.includes('"method"')).map((l) => { try { return JSON.parse(l); } catch { return null; } })
    .filter(Boolean);
}
// A DataTransfer in the page holding the small video (always the same
// lastModified, so the same fileId) and a text file.
function dropFiles(page, b64) {
  return page.evaluateHandle(({b64, name}) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bin], name, {type: "video/mp4", lastModified: 1700000000000}));
    dt.items.add(new File(["not a video"], "notes.txt", {type: "text/plain"}));
    return dt;
  }, {b64, name: SMALL_NAME});
}
const logLines = () => readFileSync(VODUP_LOG, "utf8").split("\n").length - 1;

try {
  step(`launch ${CHROMIUM} (headless)`);
  browser = await chromium.launch({executablePath: CHROMIUM, headless: true, timeout: 20_000,
    args: ["--autoplay-policy=no-user-gesture-required"]});
  const context = await browser.newContext({viewport: {width: 900, height: 900}});
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });

  // ---- 1. the link opens ----
  step(`open ${LINK_URL}`);
  const res = await page.goto(LINK_URL);
  check("the link's page answers 200", res && res.status() === 200, res && String(res.status()));
  const picker = page.getByLabel("Choose video files");
  check("the file picker shows, labelled \"Choose video files\"",
    await picker.waitFor({state: "visible", timeout: 10_000}).then(() => true, () => false));
  const limits = await page.locator("#limits").textContent();
  check("the limits are shown (size, videos left, expiry)", /a file; 5 more videos; until/.test(limits), limits);
  check("Tab reaches the file picker", await tabTo(page, picker));
  const snapshot = await page.locator("main").ariaSnapshot();
  console.log(snapshot.split("\n").map((l) => `#   ${l}`).join("\n"));
  check("the accessibility tree names the picker", /button "Choose video files"/.test(snapshot));
  await shot(page, "01-link-opened");

  // ---- 2. a drop ----
  step(`drop ${SMALL_NAME} and notes.txt on the drop zone (a DataTransfer)`);
  const smallB64 = readFileSync(SMALL).toString("base64");
  const dataTransfer = await dropFiles(page, smallB64);
  await page.locator("#drop").dispatchEvent("dragenter", {dataTransfer});
  check("dragging over highlights the drop zone", await page.locator("#drop.over").count() === 1);
  await page.locator("#drop").dispatchEvent("drop", {dataTransfer});
  check("the text file is refused by its extension",
    await until(async () => /Not accepted/.test(await statusOf(page, "notes.txt")), 5000));
  check(`${SMALL_NAME} (dropped) uploads`, await until(async () =>
    /Uploaded|Processing|Ready/.test(await statusOf(page, SMALL_NAME)), 20_000),
  await statusOf(page, SMALL_NAME));

  // ---- 3. the big file, slowed down ----
  step(`choose ${BIG_NAME} with the file picker, upload throttled to ${UPLOAD_BYTES_PER_S} bytes/s`);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const throttle = (bps) => cdp.send("Network.emulateNetworkConditions",
    {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bps});
  await throttle(UPLOAD_BYTES_PER_S);
  await picker.setInputFiles(BIG);
  const big = row(page, BIG_NAME);
  const bar = big.getByRole("progressbar", {name: `Upload of ${BIG_NAME}`});
  check("the row's progress bar is labelled \"Upload of <name>\"", await bar.count() === 1);
  const value = () => bar.evaluate((e) => e.value);
  check("the upload progresses past 15%", await until(async () => (await value()) > 15, 30_000), String(await value()));
  const stats = await big.locator(".stats").textContent();
  check("the row shows the speed and the time left", /\d+% of .*MB\/s, .* left/.test(stats), stats);
  await shot(page, "02-uploading");

  step("pause and resume with the keyboard");
  const pause = big.getByRole("button", {name: `Pause upload of ${BIG_NAME}`});
  check("Tab reaches the pause button", await tabTo(page, pause));
  await page.keyboard.press("Enter");
  const resume = big.getByRole("button", {name: `Resume upload of ${BIG_NAME}`});
  check("Enter pauses: the button becomes \"Resume upload of <name>\"",
    await resume.waitFor({timeout: 3000}).then(() => true, () => false));
  check("the row says Paused", (await statusOf(page, BIG_NAME)) === "Paused");
  await sleep(300);
  const pausedAt = await value();
  await sleep(1500);
  check("no progress while paused", (await value()) === pausedAt, `${pausedAt} -> ${await value()}`);
  check("the focus stays on the button", await resume.evaluate((e) => e === document.activeElement));
  await page.keyboard.press("Space");
  check("Space resumes: progress goes on", await until(async () => (await value()) > pausedAt + 3, 20_000));

  // ---- 4. reload in the middle, the same file again ----
  step("reload mid-upload and choose the same file again");
  check("the upload reaches 35% (and not 100%)", await until(async () => (await value()) > 35, 30_000) &&
    (await value()) < 100, String(await value()));
  const before = await value();
  await page.reload();
  const logFrom = logLines();
  const tus = [];
  page.on("request", (r) => {
    if (r.url().includes("/files/")) tus.push({method: r.method(), offset: r.headers()["upload-offset"]});
  });
  await picker.waitFor({state: "visible", timeout: 10_000});
  await picker.setInputFiles(BIG);
  const resumedText = await until(async () => {
    const s = await statusOf(page, BIG_NAME);
    return /Resuming at \d+%/.test(s) && s;
  }, 20_000);
  check("the page says \"Resuming at N%\"", !!resumedText, await statusOf(page, BIG_NAME));
  const at = resumedText ? Number(/(\d+)%/.exec(resumedText)[1]) : -1;
  check(`it resumes near where it stopped (${at}% after ${before.toFixed(1)}%)`, at > 10 && at <= before + 5);
  await shot(page, "03-resuming-after-reload");
  await throttle(-1);
  const firstPatch = tus.findIndex((r) => r.method === "PATCH");
  check("the browser sent HEAD, then PATCH with Upload-Offset > 0, and no POST (no new upload)",
    firstPatch > 0 && tus[0].method === "HEAD" && Number(tus[firstPatch].offset) > 0 &&
    !tus.some((r) => r.method === "POST"), JSON.stringify(tus.slice(0, 3)));
  check(`${BIG_NAME} finishes uploading`, await until(async () =>
    /Uploaded|Processing|Ready/.test(await statusOf(page, BIG_NAME)), 60_000), await statusOf(page, BIG_NAME));
  const log = accessLog(logFrom).filter((e) => e.path.includes("/files/"));
  const head = log.findIndex((e) => e.method === "HEAD" && e.status === 200);
  check("the access log shows HEAD 200, then PATCH 204 on the same upload",
    head >= 0 && log.slice(head).some((e) => e.method === "PATCH" && e.status === 204 && e.path === log[head].path),
    JSON.stringify(log.slice(0, 3).map((e) => `${e.method} ${e.status}`)));

  // ---- 5. processing, then playing ----
  step("processing, then playing");
  const processing = await until(async () => {
    const s = await statusOf(page, BIG_NAME);
    return /Processing: \d+%|Ready/.test(s) && s;
  }, 60_000, 200);
  check("the row shows processing progress (or is ready already)", !!processing, await statusOf(page, BIG_NAME));
  if (processing && processing.startsWith("Processing")) {
    check("the bar is relabelled \"Processing of <name>\"",
      await big.getByRole("progressbar", {name: `Processing of ${BIG_NAME}`}).count() === 1);
    await shot(page, "04-processing");
  }
  check(`${BIG_NAME} becomes ready`, await until(async () =>
    (await statusOf(page, BIG_NAME)) === "Ready to play.", 150_000, 500), await statusOf(page, BIG_NAME));
  const player = big.locator("video");
  check("a <video controls> labelled \"Video: <name>\" is shown",
    await player.count() === 1 && (await player.getAttribute("aria-label")) === `Video: ${BIG_NAME}` &&
    await player.evaluate((v) => v.controls));
  const how = await big.getAttribute("data-player");
  check("the HLS output is played (hls.js or native HLS)", how === "hls.js" || how === "native-hls", how);
  await player.evaluate((v) => { v.muted = true; return v.play().catch(() => {}); });
  const played = await until(() => player.evaluate((v) => v.currentTime > 1.2 && v.currentTime), 20_000, 200);
  check("the video plays (currentTime passes 1.2 s)", !!played,
    String(await player.evaluate((v) => `currentTime ${v.currentTime}, readyState ${v.readyState}, error ${v.error && v.error.message}`)));
  await player.evaluate((v) => v.pause());
  await shot(page, "05-playing");
  step(`drop ${SMALL_NAME} again (the page forgot it at the reload): the same video, processed`);
  await page.locator("#drop").dispatchEvent("drop", {dataTransfer: await dropFiles(page, smallB64)});
  check(`${SMALL_NAME} is known as uploaded and becomes ready`, await until(async () =>
    (await statusOf(page, SMALL_NAME)) === "Ready to play.", 60_000, 500), await statusOf(page, SMALL_NAME));
  check("the page logged no errors", pageErrors.length === 0, pageErrors.slice(0, 3).join(" | "));

  // ---- 6. unknown and expired links ----
  step("an unknown link and an expired one");
  const unknown = `${VODUP_URL}/upload/ul_00000000000000000000000000000000`;
  const r404 = await page.goto(unknown);
  check("an unknown link's page answers 404", r404 && r404.status() === 404);
  check("and says the link does not exist", await until(async () =>
    /does not exist/.test(await page.locator("#notice").textContent()), 5000));
  check("and shows no file picker", !(await page.locator("#files").isVisible()));
  await shot(page, "06-unknown-link-404");
  const r410 = await page.goto(GONE_URL);
  check("an expired link's page answers 410", r410 && r410.status() === 410);
  check("and says the link expired", await until(async () =>
    /has expired/.test(await page.locator("#notice").textContent()), 5000));
  await shot(page, "07-expired-link-410");
} catch (err) {
  check("the run ended without an exception", false, err && err.stack);
}
await finish();
