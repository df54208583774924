// The node side of tests/scripts/test_wcs_js_sdk.sh: uploads to a running
// vodup with the public WCS browser SDK (npm wcs-js-sdk, its prebuilt
// dist/wcs.min.js) in headless Chromium, from a page on another origin.
//
//   1. getUploadToken (signed here with WS3-HMAC-SHA256, with fileSize and
//      fileMd5) for a 100 KiB file and a 9.5 MiB file;
//   2. in the page, wcs.wcsUpload of each: the SDK picks form upload
//      (POST /file/upload) for the small one and block upload (mkblk x3,
//      mkfile) for the big one;
//   3. getVideoInfo of each video: status uploaded, size, md5 and etag equal
//      to what we computed over the same bytes.
//
// Environment: VODUP_URL, VODUP_AK, VODUP_SK, VODUP_LOG (the server's stderr,
// for its access log), WCS_SDK_NODE_MODULES (where npm ci put playwright-core
// and wcs-js-sdk), CHROMIUM (default /usr/bin/chromium), WCS_SDK_DEADLINE_S
// (seconds this run may take, at most 95).
// Prints "ok - ..." / "not ok - ..." lines and ends with
// "wcs-sdk: N passed, M failed"; exits non-zero on any failure.
import {createHash, createHmac} from "node:crypto";
import {readFileSync, existsSync} from "node:fs";
import http from "node:http";
import {createRequire} from "node:module";
import path from "node:path";
import {fileURLToPath} from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
// The shell script passes what is left of its own limit (WCS_SDK_DEADLINE_S).
const DEADLINE_MS = Math.min(95, Number(process.env.WCS_SDK_DEADLINE_S) || 95) * 1000;
const API_TIMEOUT_MS = 10_000;
const UPLOAD_TIMEOUT_MS = 30_000; // one whole SDK upload, seen from node
const XHR_TIMEOUT_MS = 20_000; // the SDK's own per-request timeout
const BLOCK = 4 * 1024 * 1024; // the SDK's default BLOCK_SIZE and the WCS etag piece

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - ${name}`); }
  else { failed++; console.log(`not ok - ${name}${detail ? `: ${detail}` : ""}`); }
  return ok;
}
function step(text) { console.log(`# step: ${text}`); }
function finish() {
  console.log(`wcs-sdk: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

const env = name => {
  const v = process.env[name];
  if (!v) { console.log(`not ok - environment variable ${name} is not set`); failed++; finish(); }
  return v;
};
const VODUP_URL = env("VODUP_URL").replace(/\/$/, "");
const AK = env("VODUP_AK"), SK = env("VODUP_SK");
const VODUP_LOG = env("VODUP_LOG");
const MODULES = env("WCS_SDK_NODE_MODULES");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Extra Chromium flags, space-separated: test_proxy_tls.sh trusts its
// test-made certificate's key with --ignore-certificate-errors-spki-list.
const CHROMIUM_ARGS = (process.env.WCS_SDK_CHROMIUM_ARGS || "").split(" ").filter(Boolean);

// Whatever hangs, the run ends with a failure, not a test-harness timeout.
const deadline = setTimeout(() => {
  console.log(`not ok - the whole run took longer than ${DEADLINE_MS / 1000} s`);
  failed++;
  finish();
}, DEADLINE_MS);
deadline.unref();

// ---- hashing ----
const hex = (alg, data) => createHash(alg).update(data).digest("hex");
const urlsafe = b64 => b64.replace(/\+/g, "-").replace(/\//g, "_");

// The WCS etag (upload-protocol.md section 6).
function wcsEtag(buf) {
  const pieces = [];
  for (let off = 0; off < buf.length || pieces.length === 0; off += BLOCK)
    pieces.push(createHash("sha1").update(buf.subarray(off, off + BLOCK)).digest());
  const out = pieces.length === 1
    ? Buffer.concat([Buffer.from([0x16]), pieces[0]])
    : Buffer.concat([Buffer.from([0x96]), createHash("sha1").update(Buffer.concat(pieces)).digest()]);
  return urlsafe(out.toString("base64"));
}

// Deterministic pseudo-random bytes (xorshift32), so a failure reproduces.
function testBytes(size, seed) {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, size);
}

// ---- WS3-HMAC-SHA256 (../shared/spec/api.md section 1) ----
function ws3Signature(method, pathName, query, host, contentType, body, ts, secret) {
  const canonical = [method, pathName, query,
    `content-type:${contentType}\nhost:${host}\n`, "content-type;host", hex("sha256", body)].join("\n");
  const toSign = `WS3-HMAC-SHA256\n${ts}\n${hex("sha256", canonical)}`;
  return createHmac("sha256", secret).update(toSign).digest("hex");
}

// POST a signed form-urlencoded API call; resolves with {status, json}.
async function api(op, params) {
  const url = new URL(`/vod/videoManage/${op}`, VODUP_URL);
  const body = new URLSearchParams(params).toString();
  const ct = "application/x-www-form-urlencoded";
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = ws3Signature("POST", url.pathname, "", url.host, ct, body, ts, SK);
  let res, text;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": ct, "X-WS-AccessKey": AK, "X-WS-Timestamp": ts,
        Authorization: `WS3-HMAC-SHA256 Credential=${AK}, SignedHeaders=content-type;host, Signature=${sig}`,
      },
      body,
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
    text = await res.text();
  } catch (e) {
    return {status: 0, json: null, text: `no answer within ${API_TIMEOUT_MS / 1000} s: ${e.message}`};
  }
  let json = null;
  try { json = JSON.parse(text); } catch { /* reported by the caller */ }
  return {status: res.status, json, text};
}

// ---- the static origin that serves the page, the SDK and the bytes ----
function startStaticServer(files) {
  const server = http.createServer((req, res) => {
    const pathName = new URL(req.url, "http://x").pathname;
    if (pathName === "/favicon.ico") { res.writeHead(204).end(); return; } // no 404 noise in the console
    const f = files[pathName];
    if (req.method !== "GET" || !f) { res.writeHead(404).end(); return; }
    res.writeHead(200, {"Content-Type": f.type, "Content-Length": f.body.length, "Cache-Control": "no-store"});
    res.end(f.body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms / 1000} s`)), ms); }),
  ]);
}

// Lines of the server's JSON access log, for the requests the SDK made.
function accessLog() {
  const out = [];
  for (const line of readFileSync(VODUP_LOG, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    try { out.push(JSON.parse(line)); } catch { /* not an access-log line */ }
  }
  return out;
}

async function main() {
  const require = createRequire(path.join(MODULES, "resolve-from-here.js"));
  let chromium, sdkPath;
  try {
    ({chromium} = require("playwright-core"));
    sdkPath = require.resolve("wcs-js-sdk/dist/wcs.min.js");
  } catch (e) {
    check("playwright-core and wcs-js-sdk are installed", false, e.message);
    finish();
  }
  if (!check(`Chromium is at ${CHROMIUM}`, existsSync(CHROMIUM),
    "install the Debian package chromium (scripts/install-deps.sh)")) finish();

  check("WS3 signing matches the contract's test vector 1",
    ws3Signature("POST", "/vod/videoManage/getUploadToken", "", "127.0.0.1:8080",
      "application/x-www-form-urlencoded; charset=utf-8", "originFileName=uploadtest.mp4", "1700000000",
      "SKDEMO00000000000000000000000000") === "5cde05e4cdcadda72ada003ddb2b41fa0847e91fe854acbe0a9fed3d382db9a9");
  check("etag code matches the contract's examples",
    wcsEtag(Buffer.alloc(0)) === "Fto5o-5ea0sNMlW_75VgGJCv2AcJ" && wcsEtag(Buffer.from("hello")) === "Fqr0xh3cxeii2r7eDztILNmuqUNN" &&
    wcsEtag(Buffer.alloc(BLOCK + 1)) === "lhCFgki5yzon0rjN9uJusf6qtsF6");

  // The SDK uses form upload for size <= 4 MiB and block upload above; 9.5 MiB is 3 blocks.
  // The form upload uses no optional setting (mimeType then comes from the
  // extension); the block upload sets the README's `key` (sent as a Key header,
  // which vodup ignores: the token's scope key wins) and `mimeType` (a MimeType
  // header on mkfile, which vodup keeps).
  const uploads = [
    {label: "form upload", name: "sdk-form.mp4", bytes: testBytes(100 * 1024, 0x5eed0001), expectType: "uploadDirect",
      extraConfig: {}, expectMime: "video/mp4"},
    {label: "block upload", name: "sdk-blocks.mp4", bytes: testBytes(9.5 * 1024 * 1024, 0x5eed0002), expectType: "uploadChunk",
      extraConfig: {key: "a-key-vodup-ignores.mp4", mimeType: "video/webm"}, expectMime: "video/webm"},
  ];
  for (const u of uploads) {
    u.size = u.bytes.length;
    u.md5 = hex("md5", u.bytes);
    u.etag = wcsEtag(u.bytes);
    u.dataPath = `/data/${u.name}`;
  }

  step("1. getUploadToken (signed in node) for each file");
  for (const u of uploads) {
    const r = await api("getUploadToken", {originFileName: u.name, fileSize: String(u.size), fileMd5: u.md5});
    const d = r.json && r.json.data;
    if (!check(`getUploadToken ${u.name} (${u.size} bytes) answers 200 with a token`,
      r.status === 200 && r.json && r.json.code === 200 && d && d.uploadToken && d.uploadUrl && d.videoId,
      `HTTP ${r.status} ${r.text.slice(0, 300)}`)) finish();
    Object.assign(u, {videoId: d.videoId, fileKey: d.fileKey, token: d.uploadToken, uploadUrl: d.uploadUrl});
  }

  const files = {
    "/": {type: "text/html; charset=utf-8", body: readFileSync(path.join(HERE, "index.html"))},
    "/wcs.min.js": {type: "text/javascript; charset=utf-8", body: readFileSync(sdkPath)},
  };
  for (const u of uploads) files[u.dataPath] = {type: "application/octet-stream", body: u.bytes};
  const site = await startStaticServer(files);
  const pageOrigin = `http://127.0.0.1:${site.address().port}`;
  console.log(`# page origin ${pageOrigin}, uploadUrl ${uploads[0].uploadUrl}`);
  check("the page's origin differs from uploadUrl's (CORS applies)",
    new URL(uploads[0].uploadUrl).origin !== pageOrigin);

  step(`2. launch ${CHROMIUM} (headless) and open the page`);
  let browser;
  try {
    browser = await chromium.launch({executablePath: CHROMIUM, headless: true, timeout: 20_000, args: CHROMIUM_ARGS});
  } catch (e) {
    check("Chromium starts", false, e.message.split("\n")[0]);
    site.close();
    finish();
  }
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(UPLOAD_TIMEOUT_MS);
    page.on("console", m => console.log(`# page console.${m.type()}: ${m.text()}`));
    page.on("pageerror", e => console.log(`# page error: ${e.message}`));
    // What the SDK sent and got, as the browser saw it (preflights are in vodup's log).
    const up = new URL(uploads[0].uploadUrl).origin;
    const hidden = new Set(["user-agent", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform"]);
    page.on("request", req => {
      if (!req.url().startsWith(up)) return;
      const h = Object.entries(req.headers()).filter(([k]) => !hidden.has(k))
        .map(([k, v]) => `${k}: ${k === "authorization" ? v.replace(/^(\S+ ).*/, "$1<token>") : v}`);
      console.log(`# browser -> ${req.method()} ${req.url().slice(up.length)} {${h.join("; ")}}`);
    });
    page.on("response", res => {
      if (!res.url().startsWith(up)) return;
      const acao = res.headers()["access-control-allow-origin"];
      console.log(`# browser <- ${res.status()} ${res.url().slice(up.length)} (Access-Control-Allow-Origin: ${acao ?? "none"})`);
    });
    page.on("requestfailed", req => {
      if (req.url().startsWith(up))
        console.log(`# browser xx ${req.method()} ${req.url().slice(up.length)}: ${req.failure()?.errorText}`);
    });
    await page.goto(`${pageOrigin}/`, {timeout: 15_000});
    check("the page loaded wcs.min.js (global wcs.wcsUpload)",
      await page.evaluate(() => typeof window.wcs === "object" && typeof window.wcs.wcsUpload === "function"));

    for (const u of uploads) {
      step(`2. ${u.label} of ${u.name} (${u.size} bytes) with wcs.wcsUpload in the page`);
      let r;
      try {
        r = await withTimeout(page.evaluate(opts => window.uploadWithWcsSdk(opts), {
          dataPath: u.dataPath, fileName: u.name, mimeType: "video/mp4",
          token: u.token, uploadUrl: u.uploadUrl, xhrTimeoutMs: XHR_TIMEOUT_MS, extraConfig: u.extraConfig,
        }), UPLOAD_TIMEOUT_MS, `${u.label} in the page`);
      } catch (e) {
        check(`${u.label}: the SDK reported a result`, false, e.message.split("\n")[0]);
        continue;
      }
      check(`${u.label}: the SDK chose ${u.expectType}`, r.uploadType === u.expectType, `got ${r.uploadType}`);
      check(`${u.label}: the SDK's getEtagHash equals our etag`, r.sdkEtag === u.etag, `${r.sdkEtag} vs ${u.etag}`);
      if (!check(`${u.label}: the SDK called onComplete`, r.complete !== undefined && !r.error,
        `onError ${JSON.stringify(r.error)}` +
        (r.error && r.error.code === 0 ? " (code 0: the browser got no readable answer: network error, " +
          "no such endpoint answered with CORS headers, or a timeout)" : ""))) continue;
      u.uploaded = true;
      if (u.expectType === "uploadDirect") {
        // Form upload: the body is url-safe base64 of "hash=<etag>", not JSON.
        const text = typeof r.complete === "string" ? r.complete : "";
        const decoded = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8");
        check(`${u.label}: the answer is url-safe base64 of hash=<etag>`, decoded === `hash=${u.etag}`,
          `got ${JSON.stringify(r.complete)} (decoded ${JSON.stringify(decoded)})`);
      } else {
        const c = r.complete || {};
        check(`${u.label}: mkfile answered JSON with hash = etag`, c.hash === u.etag, `got ${JSON.stringify(r.complete)}`);
        check(`${u.label}: mkfile answered JSON with key = fileKey`, c.key === u.fileKey, `got ${c.key}, want ${u.fileKey}`);
      }
    }
  } finally {
    await browser.close().catch(() => {});
    site.close();
  }

  step("3. getVideoInfo (signed in node) for each video");
  for (const u of uploads) {
    const r = await api("getVideoInfo", {videoId: u.videoId});
    const v = r.json && r.json.data;
    if (!check(`getVideoInfo ${u.videoId} answers 200`, r.status === 200 && v, `HTTP ${r.status} ${r.text.slice(0, 300)}`))
      continue;
    if (!u.uploaded) {
      console.log(`# ${u.label} failed; the video's status is ${v.status}, size ${v.size}`);
      continue;
    }
    check(`${u.label}: status uploaded`, v.status === "uploaded", `got ${v.status} (${v.failReason ?? ""})`);
    check(`${u.label}: size ${u.size}`, v.size === u.size, `got ${v.size}`);
    check(`${u.label}: md5 ${u.md5}`, v.md5 === u.md5, `got ${v.md5}`);
    check(`${u.label}: etag ${u.etag}`, v.etag === u.etag, `got ${v.etag}`);
    check(`${u.label}: fileKey unchanged (${u.fileKey})`, v.fileKey === u.fileKey, `got ${v.fileKey}`);
    check(`${u.label}: mimeType ${u.expectMime}`, v.mimeType === u.expectMime, `got ${v.mimeType}`);
  }

  step("4. the server's access log shows the SDK's requests");
  const log = accessLog();
  const seen = (method, prefix) => log.filter(e => e.method === method && e.path.startsWith(prefix));
  for (const e of log.filter(e => /^\/(file\/upload|mkblk|bput|mkfile)/.test(e.path)))
    console.log(`# vodup log: ${e.method} ${e.path} ${e.status}`);
  const list = entries => entries.map(e => `${e.method} ${e.path} ${e.status}`).join(", ") || "none";
  // The SDK registers upload-progress listeners, so even its multipart POST is preflighted.
  for (const prefix of ["/file/upload", "/mkblk/", "/mkfile/"]) {
    const pre = seen("OPTIONS", prefix);
    check(`the browser's CORS preflights OPTIONS ${prefix}... reached vodup and got 200`,
      pre.length > 0 && pre.every(e => e.status === 200), list(pre));
  }
  const form = seen("POST", "/file/upload");
  check("one POST /file/upload, answered 200", form.length === 1 && form[0].status === 200, list(form));
  // Each block goes whole in one mkblk (the SDK never uses bput), up to 3 at once.
  const blocks = seen("POST", "/mkblk/");
  const big = uploads[1];
  const wantBlocks = [0, 1, 2].map(i => `/mkblk/${Math.min(BLOCK, big.size - i * BLOCK)}/${i}`).join(" ");
  check(`3 blocks ${wantBlocks}, each answered 200`,
    blocks.map(e => e.path).sort((a, b) => a.split("/")[3] - b.split("/")[3]).join(" ") === wantBlocks && blocks.every(e => e.status === 200), list(blocks));
  const mkfile = seen("POST", "/mkfile/");
  check(`one POST /mkfile/${big.size}, answered 200`,
    mkfile.length === 1 && mkfile[0].path === `/mkfile/${big.size}` && mkfile[0].status === 200, list(mkfile));
  const logText = readFileSync(VODUP_LOG, "utf8");
  check("no upload token appears in the server's log",
    uploads.every(u => !logText.includes(u.token.split(":")[1])));
  finish();
}

main().catch(e => {
  check("the run finished without an exception", false, e.stack || String(e));
  finish();
});
