// openapi-check: docs/openapi.yaml against the validator and against a live vodup.
//
//   node openapi-check.mjs spec ROOT
//       validates ROOT/docs/openapi.yaml (swagger-parser), compiles every
//       schema with ajv, validates every example, checks that every error of
//       ROOT/src/api/errors.c is documented, and checks this file's signer
//       against the test vectors of the API contract.
//   node openapi-check.mjs live ROOT
//       with VODUP_URL, VODUP_AK, VODUP_SK (the server's first key), VODUP_BIN
//       and VODUP_DATA (for `vodup admin`) in the environment: makes real
//       signed requests and validates each response (status, headers, body)
//       against the operation's documented response; then uploads real
//       bytes with the WCS protocol (form upload, mkblk/bput/mkfile, their
//       refusals, CORS preflights) and plays them back (GET/HEAD, ranges,
//       416, 404, signed URLs and their 403s), uploads with tus (OPTIONS,
//       creation, creation-with-upload, deferred length, HEAD, PATCH with
//       each checksum, concatenation, termination, a failing callback's
//       579, and their refusals: 400/401/403/404/406/409/410/412/413/415/
//       460), and makes upload links and drives the page's routes (page,
//       info, registering and reading a video, expired and used-up links,
//       assets and 304), validating those answers too.  Expiry is not
//       waited for: the upload or link is aged in the database with the
//       sqlite3 shell (skipped without it), as test_upload_page.sh does.
//
// Prints one "ok"/"not ok" line per check and ends with
// "openapi-check: N passed, M failed"; exits 1 when anything failed.
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import zlib from "node:zlib";
import { execFileSync } from "node:child_process";

const [mode, root] = process.argv.slice(2);
if (!["spec", "live"].includes(mode) || !root) {
  console.error("usage: node openapi-check.mjs spec|live ROOT");
  process.exit(2);
}
const SPEC_FILE = path.join(root, "docs", "openapi.yaml");

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${name}${detail ? `: ${detail}` : ""}`);
  }
  return ok;
}

// ---- OpenAPI 3.0 schema -> JSON Schema (ajv) ------------------------------

// OpenAPI 3.0's `nullable` becomes a type union; `example` is dropped.
function toJsonSchema(s) {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!s || typeof s !== "object") return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "nullable" || k === "example" || k.startsWith("x-")) continue;
    if (k === "enum" || k === "default" || k === "required") out[k] = v;
    else if (k === "properties")
      out[k] = Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, toJsonSchema(ps)]));
    else out[k] = toJsonSchema(v);
  }
  if (s.nullable === true) {
    if (out.type) {
      out.type = [out.type, "null"];
      if (out.enum) out.enum = [...out.enum, null];
    } else {
      return { anyOf: [{ type: "null" }, out] };
    }
  }
  return out;
}

function newAjv(opts = {}) {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, ...opts });
  ajv.addFormat("date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  // Request and response bodies of bytes (uploads, playback): any string.
  ajv.addFormat("binary", true);
  return ajv;
}
const ajv = newAjv();
const ajvQuery = newAjv({ coerceTypes: true });
const compiled = new WeakMap();
function validatorFor(schema, a = ajv) {
  let v = compiled.get(schema);
  if (!v || v.ajv !== a) {
    v = a.compile(toJsonSchema(schema));
    v.ajv = a;
    compiled.set(schema, v);
  }
  return v;
}
function errorsText(v) {
  return ajv.errorsText(v.errors, { separator: "; " });
}

// ---- WS3-HMAC-SHA256 (docs/api.md, "Signing requests") --------------------

const sha256hex = (data) => crypto.createHash("sha256").update(data).digest("hex");

function rfc3986(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}
function formDecode(s) {
  return decodeURIComponent(s.replace(/\+/g, " "));
}
function canonicalQuery(rawQuery) {
  if (!rawQuery) return "";
  const pairs = rawQuery
    .split("&")
    .filter((seg) => seg.length > 0)
    .map((seg) => {
      const eq = seg.indexOf("=");
      const name = eq < 0 ? seg : seg.slice(0, eq);
      const value = eq < 0 ? "" : seg.slice(eq + 1);
      return [rfc3986(formDecode(name)), rfc3986(formDecode(value))];
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join("&");
}
function foldHeader(v) {
  return String(v).trim().replace(/[ \t]+/g, " ");
}
// headers: lowercase name -> value. Returns the hex signature.
function ws3Signature({ method, path: p, query, headers, signedHeaders, body, timestamp, secretKey }) {
  const canonHeaders = signedHeaders
    .split(";")
    .map((h) => `${h.toLowerCase()}:${foldHeader(headers[h.toLowerCase()] ?? "")}\n`)
    .join("");
  // The server lower-cases the SignedHeaders list itself (docs/api.md).
  const canonical = [method, p, canonicalQuery(query), canonHeaders, signedHeaders.toLowerCase(), sha256hex(body ?? "")].join("\n");
  const sts = `WS3-HMAC-SHA256\n${timestamp}\n${sha256hex(canonical)}`;
  return crypto.createHmac("sha256", secretKey).update(sts).digest("hex");
}

// ---- spec mode -----------------------------------------------------------

const TEST_VECTORS = [
  {
    method: "POST", path: "/vod/videoManage/getUploadToken", query: "",
    headers: { host: "127.0.0.1:8080", "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    signedHeaders: "content-type;host", body: "originFileName=uploadtest.mp4",
    want: "5cde05e4cdcadda72ada003ddb2b41fa0847e91fe854acbe0a9fed3d382db9a9",
  },
  {
    method: "POST", path: "/vod/videoManage/getUploadToken", query: "",
    headers: { host: "api.example.com", "content-type": "application/json; charset=utf-8" },
    signedHeaders: "content-type;host", body: '{"originFileName":"uploadtest.mp4","overwrite":"1"}',
    want: "18a8266e94c7648d68bbd5616a0e7586bfad07cb4fc122352cfc380e7b7fc63b",
  },
  {
    method: "GET", path: "/vod/videoManage/getUploadToken",
    query: "overwrite=1&originFileName=%E8%A7%86%E9%A2%91%20a.mp4",
    headers: { host: "127.0.0.1:8080" }, signedHeaders: "host", body: "",
    want: "db88a2e463623208cfb1de28638dc7e500f36e9902a5b1861db21352053163f4",
  },
];

// Every (schema, example) pair in the document.
function collectExamples(api) {
  const found = [];
  const seen = new Set();
  const visit = (node, where) => {
    if (!node || typeof node !== "object" || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${where}[${i}]`));
    if (node.schema && node.example !== undefined) found.push({ where, schema: node.schema, example: node.example });
    if (node.type && node.example !== undefined && !node.schema)
      found.push({ where, schema: node, example: node.example });
    for (const [k, v] of Object.entries(node)) if (k !== "example") visit(v, `${where}/${k}`);
  };
  visit(api, "#");
  return found;
}

async function specMode() {
  let api;
  try {
    await SwaggerParser.validate(SPEC_FILE);
    check("docs/openapi.yaml is a valid OpenAPI 3.0 document (swagger-parser)", true);
  } catch (e) {
    check("docs/openapi.yaml is a valid OpenAPI 3.0 document (swagger-parser)", false, e.message);
    return;
  }
  api = await SwaggerParser.dereference(SPEC_FILE);
  check("openapi is 3.0.3", api.openapi === "3.0.3", api.openapi);

  for (const p of ["getUploadToken", "getVideoInfo", "getVideoList", "getTaskInfo", "reprocessVideo", "cancelTask"]) {
    const item = api.paths[`/vod/videoManage/${p}`] ?? {};
    check(`${p}: GET and POST documented`, item.get && item.post);
    check(`${p}: POST takes form and JSON bodies`,
      item.post?.requestBody?.content?.["application/x-www-form-urlencoded"] &&
      item.post?.requestBody?.content?.["application/json"]);
    for (const m of ["get", "post"]) {
      const op = item[m];
      if (!op) continue;
      const allHaveId = Object.values(op.responses).every((r) => r.headers?.["X-Request-Id"]?.required);
      check(`${p} ${m.toUpperCase()}: every response declares X-Request-Id`, allHaveId);
    }
  }
  check("GET /healthz documented, unsigned", api.paths["/healthz"]?.get && api.paths["/healthz"].get.security?.length === 0);
  // tus (docs/upload.md): every answer but OPTIONS's says Tus-Resumable,
  // every one X-Reqid and X-Request-Id; the link and page routes are
  // unsigned and say X-Request-Id.
  {
    const bad = [];
    for (const p of ["/files/", "/files/{uploadId}"])
      for (const [m, op] of Object.entries(api.paths[p] ?? {})) {
        if (!op.responses) continue;
        for (const [s, r] of Object.entries(op.responses)) {
          const h = r.headers ?? {};
          if (m !== "options" && !h["Tus-Resumable"]?.required) bad.push(`${m} ${p} ${s}: Tus-Resumable`);
          if (!h["X-Reqid"]?.required || !h["X-Request-Id"]?.required) bad.push(`${m} ${p} ${s}: X-Reqid/X-Request-Id`);
        }
      }
    check("tus: the five operations documented", ["options", "post"].every((m) => api.paths["/files/"]?.[m]) &&
      ["head", "patch", "delete"].every((m) => api.paths["/files/{uploadId}"]?.[m]));
    check("tus: every response declares Tus-Resumable (but OPTIONS), X-Reqid and X-Request-Id", bad.length === 0, bad.join(", "));
    const links = ["/upload/{linkId}", "/upload/{linkId}/info", "/upload/{linkId}/videos", "/upload/{linkId}/videos/{videoId}", "/upload/assets/{file}"];
    const noId = [];
    for (const p of links)
      for (const [m, op] of Object.entries(api.paths[p] ?? { missing: { responses: { "": {} } } }))
        for (const [s, r] of Object.entries(op.responses ?? {})) {
          if (op.security?.length !== 0) noId.push(`${m} ${p}: not unsigned`);
          if (!r.headers?.["X-Request-Id"]?.required && s !== "429") noId.push(`${m} ${p} ${s}`);
        }
    check("upload link routes: documented, unsigned, every response declares X-Request-Id", noId.length === 0, noId.join(", "));
    const cl = api.paths["/vod/videoManage/createUploadLink"] ?? {};
    check("createUploadLink: GET and POST documented, signed", cl.get && cl.post && cl.get.security === undefined && cl.post.security === undefined);
  }
  const schemes = api.components.securitySchemes;
  check("WS3 security schemes are the three headers",
    schemes.WS3AccessKey?.name === "X-WS-AccessKey" && schemes.WS3Timestamp?.name === "X-WS-Timestamp" &&
    schemes.WS3Authorization?.name === "Authorization");

  // Every response schema compiles.
  let compileErrors = [];
  const allResponses = [];
  for (const [p, item] of Object.entries(api.paths))
    for (const [m, op] of Object.entries(item))
      for (const [status, r] of Object.entries(op.responses ?? {})) allResponses.push({ where: `${m} ${p} ${status}`, r });
  for (const [name, r] of Object.entries(api.components.responses)) allResponses.push({ where: `components ${name}`, r });
  for (const { where, r } of allResponses) {
    try {
      for (const c of Object.values(r.content ?? {})) validatorFor(c.schema);
      for (const h of Object.values(r.headers ?? {})) validatorFor(h.schema);
    } catch (e) {
      compileErrors.push(`${where}: ${e.message}`);
    }
  }
  check("every response schema compiles with ajv", compileErrors.length === 0, compileErrors.join(" | "));

  // Every example validates against its schema.
  const bad = [];
  const examples = collectExamples(api);
  for (const { where, schema, example } of examples) {
    try {
      const v = validatorFor(schema);
      if (!v(example)) bad.push(`${where}: ${errorsText(v)}`);
    } catch (e) {
      bad.push(`${where}: ${e.message}`);
    }
  }
  check(`all ${examples.length} examples match their schemas`, examples.length > 10 && bad.length === 0, bad.join(" | "));

  // Every error of src/api/errors.c is documented with its HTTP status.
  const errorsC = fs.readFileSync(path.join(root, "src", "api", "errors.c"), "utf8");
  const table = [...errorsC.matchAll(/\[API_[A-Z0-9_]+\]\s*=\s*\{(\d+),\s*(\d+),/g)].map((m) => [+m[1], +m[2]]);
  const documented = new Set();
  for (const { r } of allResponses) {
    const schema = r.content?.["application/json"]?.schema;
    const codes = (schema?.allOf ?? []).flatMap((s) => s.properties?.code?.enum ?? []);
    const status = Object.entries(api.paths).flatMap(([, item]) =>
      Object.values(item).flatMap((op) => Object.entries(op.responses ?? {}).filter(([, x]) => x === r).map(([s]) => +s)));
    const fixed = { NoSuchApi: 404, MethodNotAllowed: 405 };
    for (const [name, s] of Object.entries(fixed)) if (api.components.responses[name] === r) status.push(s);
    for (const s of status) for (const c of codes) documented.add(`${c}/${s}`);
  }
  documented.add("200/200");
  const missing = table.filter(([c, s]) => !documented.has(`${c}/${s}`)).map(([c, s]) => `code ${c} HTTP ${s}`);
  check(`all ${table.length} entries of src/api/errors.c documented with their status`, table.length > 15 && missing.length === 0,
    missing.join(", ") || `only ${table.length} entries parsed`);

  // The user docs cover the same tables (they are written by hand).
  const apiMd = fs.readFileSync(path.join(root, "docs", "api.md"), "utf8");
  const rows = apiMd.split("\n").filter((l) => l.startsWith("| "));
  const missingRows = [...errorsC.matchAll(/\[API_[A-Z0-9_]+\]\s*=\s*\{(\d+),\s*(\d+),\s*"([^"]+)"/g)]
    .filter(([, code]) => code !== "200")
    .filter(([, code, status, message]) => !rows.some((l) => l.includes(`| ${status} | ${code} |`) &&
      // For these codes the handlers always send a more specific message than
      // the table's default, and the rows show those.
      (["400", "401", "415", "503"].includes(code) || l.includes(message))))
    .map(([, code, status, message]) => `${code}/${status} "${message}"`);
  check("docs/api.md's error table has every code, status and message of src/api/errors.c", missingRows.length === 0,
    missingRows.join(", "));
  const configC = fs.readFileSync(path.join(root, "src", "common", "config.c"), "utf8");
  const configMd = fs.readFileSync(path.join(root, "docs", "configuration.md"), "utf8");
  const options = [...configC.matchAll(/^\s*\{"([a-z-]+)", CONFIG_[A-Z]+,/gm)].map((m) => m[1]);
  const undocumented = options.filter((o) => !configMd.includes(`| \`--${o}\` / \`${o}\` |`));
  check(`docs/configuration.md documents all ${options.length} options of src/common/config.c`,
    options.length > 10 && undocumented.length === 0, undocumented.join(", "));

  for (const [i, tv] of TEST_VECTORS.entries()) {
    const got = ws3Signature({ ...tv, secretKey: "SKDEMO00000000000000000000000000", timestamp: "1700000000" });
    check(`test signer reproduces test vector ${i + 1}`, got === tv.want, got);
  }
  check("test signer's CanonicalQuery of vector 3",
    canonicalQuery(TEST_VECTORS[2].query) === "originFileName=%E8%A7%86%E9%A2%91%20a.mp4&overwrite=1");
}

// ---- live mode -----------------------------------------------------------

const env = (n) => {
  const v = process.env[n];
  if (!v) throw new Error(`${n} is not set`);
  return v;
};

async function liveMode() {
  const base = new URL(env("VODUP_URL"));
  const AK = env("VODUP_AK");
  const SK = env("VODUP_SK");
  const BIN = env("VODUP_BIN");
  const DATA = env("VODUP_DATA");
  const HOST = base.host;
  const api = await SwaggerParser.dereference(SPEC_FILE);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  // One request. `body` is a string or Buffer; JSON objects are stringified.
  function request({ method = "POST", path: p, query = "", body, contentType, ak = AK, sk = SK, timestamp,
    signedHeaders, auth = true, authorization, headers: extra = {}, chunked = false }) {
    if (body !== undefined && typeof body === "object" && !Buffer.isBuffer(body)) {
      body = JSON.stringify(body);
      contentType ??= "application/json; charset=utf-8";
    }
    if (body !== undefined) contentType ??= "application/x-www-form-urlencoded";
    const ts = String(timestamp ?? Math.floor(Date.now() / 1000));
    const headers = { host: HOST, ...extra };
    if (contentType !== undefined) headers["content-type"] = contentType;
    if (auth) {
      signedHeaders ??= contentType !== undefined ? "content-type;host" : "host";
      const sig = ws3Signature({ method, path: p, query, headers, signedHeaders, body: body ?? "", timestamp: ts, secretKey: sk });
      headers["x-ws-accesskey"] = ak;
      headers["x-ws-timestamp"] = ts;
      headers.authorization = authorization ?? `WS3-HMAC-SHA256 Credential=${ak}, SignedHeaders=${signedHeaders}, Signature=${sig}`;
    }
    if (body !== undefined && !chunked) headers["content-length"] = Buffer.byteLength(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: base.hostname, port: base.port, method, path: p + (query ? `?${query}` : ""), headers, agent },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json;
            try { json = JSON.parse(text); } catch { json = undefined; }
            resolve({ status: res.statusCode, headers: res.headers, text, json });
          });
        });
      req.on("error", reject);
      if (body !== undefined && chunked) {
        const buf = Buffer.from(body);
        for (let i = 0; i < buf.length; i += 8192) req.write(buf.subarray(i, i + 8192));
      } else if (body !== undefined) req.write(body);
      req.end();
    });
  }

  // A request whose headers declare a body that is never sent: the server
  // must answer from the headers alone.
  function rawHeadersOnly(lines) {
    return new Promise((resolve, reject) => {
      const sock = net.connect(+base.port, base.hostname);
      const chunks = [];
      sock.setTimeout(5000, () => { sock.destroy(); reject(new Error("timeout")); });
      sock.on("data", (c) => {
        chunks.push(c);
        const text = Buffer.concat(chunks).toString("utf8");
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = text.slice(0, end).split("\r\n");
        const headers = {};
        for (const l of head.slice(1)) {
          const i = l.indexOf(":");
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const len = +(headers["content-length"] ?? 0);
        const rest = Buffer.concat(chunks).subarray(Buffer.byteLength(text.slice(0, end + 4)));
        if (rest.length >= len) {
          sock.destroy();
          const bodyText = rest.subarray(0, len).toString("utf8");
          let json;
          try { json = JSON.parse(bodyText); } catch { json = undefined; }
          resolve({ status: +head[0].split(" ")[1], headers, text: bodyText, json });
        }
      });
      sock.on("error", reject);
      sock.write(lines.join("\r\n") + "\r\n\r\n");
    });
  }

  // Validates a response against the documented one; returns true when valid.
  function validate(name, res, { apiPath, method = res.method, response } = {}) {
    const problems = [];
    let doc = response;
    if (!doc) {
      const op = api.paths[apiPath]?.[method.toLowerCase()];
      if (!op) problems.push(`operation ${method} ${apiPath} not documented`);
      else {
        doc = op.responses[String(res.status)] ?? op.responses.default;
        if (!doc) problems.push(`status ${res.status} not documented for ${method} ${apiPath}`);
      }
    }
    if (doc) {
      for (const [hname, h] of Object.entries(doc.headers ?? {})) {
        const value = res.headers[hname.toLowerCase()];
        if (value === undefined) {
          if (h.required) problems.push(`header ${hname} missing`);
          continue;
        }
        const v = validatorFor(h.schema);
        if (!v(value)) problems.push(`header ${hname}=${value}: ${errorsText(v)}`);
      }
      const ctype = res.headers["content-type"] ?? "";
      const media = ctype.split(";")[0].trim().toLowerCase();
      const content = doc.content?.[media] ?? (media && media !== "application/json" ? doc.content?.["*/*"] : undefined);
      if (!doc.content) {
        if (res.text) problems.push(`a body where none is documented: ${res.text.slice(0, 100)}`);
      } else if (!content) problems.push(`content type '${ctype}' not documented`);
      else if (method === "HEAD" || media !== "application/json") {
        // Bytes (playback) or text (the form upload's answer): the type is
        // documented; a string schema with a pattern checks the text.
        const v = validatorFor(content.schema);
        if (method !== "HEAD" && content.schema.pattern && !v(res.text)) problems.push(`body: ${errorsText(v)}: ${res.text.slice(0, 100)}`);
      } else if (ctype.replace(/\s/g, "").toLowerCase() !== "application/json;charset=utf-8")
        problems.push(`content type '${ctype}', want 'application/json; charset=utf-8'`);
      else if (res.json === undefined) problems.push(`body is not JSON: ${res.text.slice(0, 200)}`);
      else {
        const v = validatorFor(content.schema);
        if (!v(res.json)) problems.push(`${errorsText(v)}; body ${res.text.slice(0, 300)}`);
      }
    }
    if (res.json && res.json.requestId !== undefined && res.json.requestId !== res.headers["x-request-id"])
      problems.push(`requestId ${res.json.requestId} != X-Request-Id ${res.headers["x-request-id"]}`);
    return check(`${name}: ${res.status} matches docs/openapi.yaml`, problems.length === 0, problems.join("; "));
  }

  // The documented request schema for (path, method, kind) accepts `params`?
  function requestSchemaAccepts(apiPath, method, kind, params) {
    const op = api.paths[apiPath][method.toLowerCase()];
    if (kind === "query") {
      const schema = { type: "object", properties: {}, required: [] };
      for (const prm of op.parameters ?? []) {
        schema.properties[prm.name] = prm.schema;
        if (prm.required) schema.required.push(prm.name);
      }
      const v = validatorFor(schema, ajvQuery);
      const copy = { ...params };
      return [v(copy), v.errors];
    }
    const media = kind === "json" ? "application/json" : "application/x-www-form-urlencoded";
    const v = validatorFor(op.requestBody.content[media].schema);
    return [v(params), v.errors];
  }

  const TOKEN = "/vod/videoManage/getUploadToken";
  const INFO = "/vod/videoManage/getVideoInfo";
  const LIST = "/vod/videoManage/getVideoList";
  const form = (o) => new URLSearchParams(o).toString().replace(/\+/g, "%20");

  // One API call, validated; `expect` = {status, code, reqValid}.
  async function apiCase(name, { path: p, method = "POST", params, kind = "form", expect, ...opts }) {
    let body, query = opts.query ?? "";
    if (params !== undefined) {
      if (kind === "query") query = form(params);
      else if (kind === "json") body = params;
      else body = form(params);
    }
    if (expect.reqValid !== undefined && params !== undefined) {
      const [ok, errs] = requestSchemaAccepts(p, method, kind, params);
      check(`${name}: request ${expect.reqValid ? "accepted" : "rejected"} by the documented request schema`,
        ok === expect.reqValid, ok ? "schema accepted it" : ajv.errorsText(errs));
    }
    const res = await request({ method, path: p, query, body, ...opts });
    validate(name, res, { apiPath: p, method });
    const want = expect.code ?? expect.status;
    check(`${name}: HTTP ${expect.status}, code ${want}`,
      res.status === expect.status && res.json?.code === want, `got HTTP ${res.status} ${res.text.slice(0, 300)}`);
    return res;
  }

  const admin = (...args) => execFileSync(BIN, ["admin", "--data", DATA, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  let haveAdmin = false;
  try {
    admin("--help");
    haveAdmin = true;
  } catch {
    haveAdmin = false;
  }

  // ---- healthz, 404, 405 ----
  {
    const res = await request({ method: "GET", path: "/healthz", auth: false });
    validate("GET /healthz", res, { apiPath: "/healthz", method: "GET" });
    check("GET /healthz says ok", res.status === 200 && res.json?.status === "ok", res.text);
    const ready = await request({ method: "GET", path: "/readyz", auth: false });
    validate("GET /readyz", ready, { apiPath: "/readyz", method: "GET" });
    check("GET /readyz says ready", ready.status === 200 && ready.json?.status === "ready", ready.text);
    for (const p of ["/vod/videoManage/noSuchApi", "/", "/vod/videoManage/getUploadToken/"]) {
      const r = await request({ method: "GET", path: p });
      validate(`GET ${p} (no such API)`, r, { response: api.components.responses.NoSuchApi });
      check(`GET ${p}: 404`, r.status === 404 && r.json?.code === 404, r.text);
    }
    for (const m of ["PUT", "DELETE", "PATCH"]) {
      const r = await request({ method: m, path: TOKEN, auth: false });
      validate(`${m} getUploadToken (method not allowed)`, r, { response: api.components.responses.MethodNotAllowed });
      check(`${m} getUploadToken: 405 with Allow: GET, POST`, r.status === 405 && r.json?.code === 405, r.text);
    }
  }

  // ---- getUploadToken: successes ----
  function decodePolicy(token) {
    const first = token.indexOf(":");
    const last = token.lastIndexOf(":");
    const encSign = token.slice(first + 1, last);
    const encPolicy = token.slice(last + 1);
    const b64 = (s) => Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    return { ak: token.slice(0, first), encSign, encPolicy, policy: JSON.parse(b64(encPolicy).toString("utf8")),
      sign: b64(encSign).toString("utf8") };
  }
  function checkToken(name, res, { overwrite = 0, fsizeLimit } = {}) {
    const d = res.json?.data;
    if (!d) return check(`${name}: has data`, false, res.text);
    const t = decodePolicy(d.uploadToken);
    const pv = validatorFor(api.components.schemas.UploadTokenPolicy);
    check(`${name}: token policy matches UploadTokenPolicy`, pv(t.policy), errorsText(pv));
    const wantSign = crypto.createHmac("sha1", SK).update(t.encPolicy).digest("hex");
    const deadline = +t.policy.deadline;
    const now = Date.now();
    const problems = [];
    if (t.ak !== AK) problems.push(`token AK ${t.ak}`);
    if (t.sign !== wantSign) problems.push("token signature is not HMAC-SHA1(SK, EncodedPolicy)");
    if (t.policy.scope !== `${d.bucketName}:${d.fileKey}`) problems.push(`scope ${t.policy.scope}`);
    if (t.policy.overwrite !== overwrite) problems.push(`overwrite ${t.policy.overwrite}, want ${overwrite}`);
    if (t.policy.fsizeLimit !== fsizeLimit) problems.push(`fsizeLimit ${t.policy.fsizeLimit}, want ${fsizeLimit}`);
    if (Math.abs(deadline - (now + 3600 * 1000)) > 120 * 1000) problems.push(`deadline ${deadline} is not now + 3600 s`);
    if (!d.fileKey.includes(`/${d.videoId}/`)) problems.push("fileKey does not contain the videoId");
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, "");
    const yesterday = new Date(now - 86400e3).toISOString().slice(0, 10).replace(/-/g, "");
    const day = d.fileKey.split("/")[1];
    if (day !== today && day !== yesterday) problems.push(`fileKey date ${day}`);
    if (Math.abs(parseInt(d.videoId.slice(0, 12), 16) - now) > 120 * 1000) problems.push("videoId's first 12 hex are not the time in ms");
    if (d.uploadUrl !== base.origin) problems.push(`uploadUrl ${d.uploadUrl}, want ${base.origin}`);
    if (d.httpDnsServer !== "" || d.speedDomainlUrl !== "") problems.push("httpDnsServer/speedDomainlUrl not empty by default");
    return check(`${name}: token, scope, deadline and ids as documented`, problems.length === 0, problems.join("; "));
  }

  const v1 = await apiCase("POST form getUploadToken", {
    path: TOKEN, params: { originFileName: "uploadtest.mp4" }, expect: { status: 200, reqValid: true } });
  checkToken("POST form getUploadToken", v1);
  check("fileKey stem kept", v1.json?.data?.fileKey?.endsWith("/uploadtest.mp4"), v1.json?.data?.fileKey);

  const v2params = { originFileName: "视频 a.MP4", overwrite: 1, fileSize: 1048576,
    fileMd5: "9E107D9D372BB6826BD81D3542A419D6", fileId: "resume-1", cmd: "vframe/jpg/offset/1",
    categoryNames: [{ parentName: "sports", childName: "football" }] };
  const v2 = await apiCase("POST JSON getUploadToken", {
    path: TOKEN, kind: "json", params: v2params, expect: { status: 200, reqValid: true } });
  checkToken("POST JSON getUploadToken", v2, { overwrite: 1, fsizeLimit: 1048576 });
  check("fileKey: each non-safe code point is one '_', extension lowercased",
    v2.json?.data?.fileKey?.endsWith("/___a.mp4"), v2.json?.data?.fileKey);

  const v3 = await apiCase("GET getUploadToken", {
    path: TOKEN, method: "GET", kind: "query", params: { originFileName: "视频 a.mp4", overwrite: "1" },
    expect: { status: 200, reqValid: true } });
  checkToken("GET getUploadToken", v3, { overwrite: 1 });

  await apiCase("POST form getUploadToken, params in the query", {
    path: TOKEN, query: "originFileName=q.mkv", expect: { status: 200 } });
  await apiCase("getUploadToken, 40 code points", {
    path: TOKEN, params: { originFileName: "视".repeat(36) + ".mp4" }, expect: { status: 200, reqValid: true } });
  await apiCase("getUploadToken, empty stem", {
    path: TOKEN, params: { originFileName: ".webm" }, expect: { status: 200, reqValid: true } });
  await apiCase("getUploadToken, JSON string categoryNames and null", {
    path: TOKEN, kind: "json", expect: { status: 200 },
    params: { originFileName: "cats.mov", categoryNames: '[{"parentName":"news","childName":"local"}]', domain: null } });

  // ---- getVideoInfo, and the fileId resume ----
  const id2 = v2.json?.data?.videoId ?? "0".repeat(32);
  const info2 = await apiCase("POST form getVideoInfo", { path: INFO, params: { videoId: id2 }, expect: { status: 200, reqValid: true } });
  {
    const d = info2.json?.data ?? {};
    const problems = [];
    const want = { videoId: id2, videoName: "视频 a.MP4", fileId: "resume-1", fileKey: v2.json?.data?.fileKey,
      bucketName: v2.json?.data?.bucketName, status: "created", expectedSize: 1048576,
      expectedMd5: "9e107d9d372bb6826bd81d3542a419d6", cmd: "vframe/jpg/offset/1", workflowId: null, size: null, uploadedAt: null,
      duration: null, width: null, height: null, codecs: null, failReason: null };
    for (const [k, v] of Object.entries(want)) if (d[k] !== v) problems.push(`${k}=${JSON.stringify(d[k])}, want ${JSON.stringify(v)}`);
    if (JSON.stringify(d.categories) !== JSON.stringify([{ parentName: "sports", childName: "football" }]))
      problems.push(`categories ${JSON.stringify(d.categories)}`);
    if (Math.abs(Date.parse(d.createdAt) - Date.now()) > 120e3) problems.push(`createdAt ${d.createdAt}`);
    if (!haveAdmin && d.playUrl !== `${base.origin}/${d.fileKey}`) problems.push(`playUrl ${d.playUrl} (no domain: public-url/fileKey)`);
    check("getVideoInfo returns what getUploadToken registered", problems.length === 0, problems.join("; "));
  }
  const resume = await apiCase("getUploadToken, same fileId again", {
    path: TOKEN, params: { originFileName: "other-name.mp4", fileId: "resume-1" }, expect: { status: 200, reqValid: true } });
  check("fileId resume: same videoId and fileKey",
    resume.json?.data?.videoId === id2 && resume.json?.data?.fileKey === v2.json?.data?.fileKey, resume.text);
  checkToken("fileId resume", resume);
  const info2b = await apiCase("GET getVideoInfo", { path: INFO, method: "GET", kind: "query", params: { videoId: id2 }, expect: { status: 200, reqValid: true } });
  {
    const d = info2b.json?.data ?? {};
    const problems = [];
    const want = { videoName: "视频 a.MP4", expectedSize: null, expectedMd5: null, cmd: null };
    for (const [k, v] of Object.entries(want)) if (d[k] !== v) problems.push(`${k}=${JSON.stringify(d[k])}, want ${JSON.stringify(v)}`);
    if (JSON.stringify(d.categories) !== "[]") problems.push(`categories ${JSON.stringify(d.categories)}`);
    check("fileId resume: the latest call's settings replace the earlier ones, the name stays", problems.length === 0, problems.join("; "));
  }
  await apiCase("POST JSON getVideoInfo", { path: INFO, kind: "json", params: { videoId: id2 }, expect: { status: 200, reqValid: true } });
  await apiCase("getVideoInfo without videoId", { path: INFO, params: {}, expect: { status: 400 } });
  await apiCase("getVideoInfo, unknown videoId", { path: INFO, params: { videoId: "0".repeat(32) }, expect: { status: 404 } });
  await apiCase("GET getVideoInfo, unknown videoId", { path: INFO, method: "GET", kind: "query", params: { videoId: "nope" }, expect: { status: 404 } });

  // ---- the processing calls' refusals (test_task_api covers their successes) ----
  {
    const V = "/vod/videoManage/";
    await apiCase("reprocessVideo of a video never uploaded", { path: V + "reprocessVideo", params: { videoId: id2 }, expect: { status: 409 } });
    await apiCase("reprocessVideo, unknown videoId", { path: V + "reprocessVideo", kind: "json", params: { videoId: "0".repeat(32) }, expect: { status: 404 } });
    await apiCase("getTaskInfo without taskId", { path: V + "getTaskInfo", params: {}, expect: { status: 400 } });
    await apiCase("GET getTaskInfo, unknown taskId", { path: V + "getTaskInfo", method: "GET", kind: "query", params: { taskId: "tk" + "0".repeat(30) }, expect: { status: 404 } });
    await apiCase("cancelTask, unknown taskId", { path: V + "cancelTask", params: { taskId: "tk" + "0".repeat(30) }, expect: { status: 404 } });
  }

  // ---- the processing calls' successes, on a task that stays queued (the
  // server runs with --processing off) ----
  {
    const V = "/vod/videoManage/";
    const tok = await apiCase("getUploadToken for a task", { path: TOKEN, params: { originFileName: "task.mp4" }, expect: { status: 200 } });
    const d = tok.json?.data ?? {};
    const fd = new FormData();
    fd.append("token", d.uploadToken ?? "");
    fd.append("file", new Blob([Buffer.from("bytes; no worker runs here")]), "task.mp4");
    const up = await fetch(`${d.uploadUrl}/file/upload`, { method: "POST", body: fd });
    check("form upload for a task: HTTP 200", up.status === 200, `HTTP ${up.status} ${await up.text()}`);
    const info = await apiCase("getVideoInfo of an uploaded video", { path: INFO, params: { videoId: d.videoId }, expect: { status: 200 } });
    const first = info.json?.data?.taskId;
    check("getVideoInfo: the upload's task, at progress 0, no cover or outputs yet",
      /^tk[0-9a-f]{30}$/.test(first ?? "") && info.json.data.progress === 0 && info.json.data.coverUrl === null &&
      JSON.stringify(info.json.data.outputs) === "[]", info.text.slice(0, 400));
    const t1 = await apiCase("getTaskInfo", { path: V + "getTaskInfo", params: { taskId: first }, expect: { status: 200, reqValid: true } });
    check("getTaskInfo: queued, with the plan's steps",
      t1.json?.data?.state === "queued" && JSON.stringify(t1.json.data.steps?.map((s) => s.kind)) === '["probe","snapshot"]',
      t1.text.slice(0, 400));
    await apiCase("GET getTaskInfo", { path: V + "getTaskInfo", method: "GET", kind: "query", params: { taskId: first }, expect: { status: 200, reqValid: true } });
    const re = await apiCase("POST JSON reprocessVideo", { path: V + "reprocessVideo", kind: "json", params: { videoId: d.videoId }, expect: { status: 200, reqValid: true } });
    const second = re.json?.data?.taskId;
    const old = await apiCase("getTaskInfo of the task reprocessVideo replaced", { path: V + "getTaskInfo", params: { taskId: first }, expect: { status: 200 } });
    check("reprocessVideo: a new task, the earlier one canceled",
      second && second !== first && old.json?.data?.state === "canceled", `${second} ${old.text.slice(0, 300)}`);
    await apiCase("reprocessVideo, a template that does not exist", { path: V + "reprocessVideo", params: { videoId: d.videoId, transCodeCombineName: "nope" }, expect: { status: 400, reqValid: true } });
    await apiCase("GET reprocessVideo, unknown videoId", { path: V + "reprocessVideo", method: "GET", kind: "query", params: { videoId: "0".repeat(32) }, expect: { status: 404 } });
    const c = await apiCase("cancelTask", { path: V + "cancelTask", params: { taskId: second }, expect: { status: 200, reqValid: true } });
    check("cancelTask: the task, canceled", c.json?.data?.state === "canceled" && c.json.data.finishedAt !== null, c.text.slice(0, 300));
    await apiCase("GET cancelTask of a finished task", { path: V + "cancelTask", method: "GET", kind: "query", params: { taskId: second }, expect: { status: 409 } });
  }

  // ---- getUploadToken: parameter errors, in the documented order ----
  const E = (code, status = 400) => ({ status, code });
  const tokenErrors = [
    ["no parameters", {}, E(1606)],
    ["empty originFileName", { originFileName: "" }, { ...E(1606), reqValid: false }],
    ["41 code points", { originFileName: "a".repeat(37) + ".mp4" }, { ...E(1500), reqValid: false }],
    ["control character in the name", { originFileName: "a\u0001b.mp4" }, { ...E(400), reqValid: false }],
    ["no extension", { originFileName: "noext" }, { ...E(1607), reqValid: false }],
    ["extension not accepted", { originFileName: "notes.txt" }, E(1607)],
    ["overwrite=2", { originFileName: "a.mp4", overwrite: "2" }, { ...E(1608), reqValid: false }],
    ["overwrite empty", { originFileName: "a.mp4", overwrite: "" }, { ...E(1608), reqValid: false }],
    ["fileSize=-1", { originFileName: "a.mp4", fileSize: "-1" }, { ...E(1609), reqValid: false }],
    ["fileSize=1.5", { originFileName: "a.mp4", fileSize: "1.5" }, { ...E(1609), reqValid: false }],
    ["fileSize over 64 GiB", { originFileName: "a.mp4", fileSize: "68719476737" }, E(1610)],
    ["fileMd5 empty", { originFileName: "a.mp4", fileMd5: "" }, { ...E(1604), reqValid: false }],
    ["fileMd5 of 33", { originFileName: "a.mp4", fileMd5: "a".repeat(33) }, { ...E(1605), reqValid: false }],
    ["fileMd5 not hex", { originFileName: "a.mp4", fileMd5: "z".repeat(32) }, { ...E(400), reqValid: false }],
    ["fileId with '!'", { originFileName: "a.mp4", fileId: "bad!" }, { ...E(400), reqValid: false }],
    ["fileId empty", { originFileName: "a.mp4", fileId: "" }, { ...E(400), reqValid: false }],
    ["fileId of 33", { originFileName: "a.mp4", fileId: "a".repeat(33) }, { ...E(400), reqValid: false }],
    ["categoryNames not JSON", { originFileName: "a.mp4", categoryNames: "sports" }, E(400)],
    ["unknown domain", { originFileName: "a.mp4", domain: "nope.example.com" }, E(400)],
    ["unknown workflowId", { originFileName: "a.mp4", workflowId: "wfnope" }, E(400)],
    ["unknown waterMarkName", { originFileName: "a.mp4", waterMarkName: "nope" }, E(400)],
    ["unknown transCodeCombineName", { originFileName: "a.mp4", transCodeCombineName: "nope" }, E(400)],
    ["unknown subtitleId", { originFileName: "a.mp4", subtitleId: "nope" }, E(400)],
    ["order: 1606 before 1608", { overwrite: "2" }, E(1606)],
    ["order: 1608 before 1609", { originFileName: "a.mp4", overwrite: "x", fileSize: "x" }, E(1608)],
    ["order: 1609 before 1604", { originFileName: "a.mp4", fileSize: "x", fileMd5: "" }, E(1609)],
    ["order: 1605 before fileId", { originFileName: "a.mp4", fileMd5: "a".repeat(40), fileId: "!" }, E(1605)],
  ];
  for (const [name, params, expect] of tokenErrors)
    await apiCase(`getUploadToken, ${name}`, { path: TOKEN, params, expect });
  await apiCase("GET getUploadToken, 1607", { path: TOKEN, method: "GET", kind: "query", params: { originFileName: "x.exe" }, expect: E(1607) });
  await apiCase("JSON getUploadToken, overwrite 2 as a number", { path: TOKEN, kind: "json", params: { originFileName: "a.mp4", overwrite: 2 }, expect: { ...E(1608), reqValid: false } });

  // Messages name what failed.
  {
    const r = await request({ path: TOKEN, body: form({ originFileName: "a.mp4", workflowId: "wfnope" }) });
    check("400 message names the parameter", /workflowId/.test(r.json?.message ?? ""), r.text);
    const r2 = await request({ path: TOKEN, body: form({ originFileName: "a.mp4", domain: "nope.example.com" }) });
    check("unknown domain message", /domain/.test(r2.json?.message ?? ""), r2.text);
  }

  // ---- body framing ----
  await apiCase("parameter in the query and the body", { path: TOKEN, query: "originFileName=a.mp4", params: { originFileName: "b.mp4" }, expect: E(400) });
  await apiCase("parameter twice in a form", { path: TOKEN, body: "originFileName=a.mp4&originFileName=b.mp4", expect: E(400) });
  await apiCase("malformed JSON body", { path: TOKEN, body: '{"originFileName":', contentType: "application/json", expect: E(400) });
  await apiCase("JSON body not an object", { path: TOKEN, body: '["a.mp4"]', contentType: "application/json", expect: E(400) });
  await apiCase("JSON value an object", { path: TOKEN, body: '{"originFileName":{"a":1}}', contentType: "application/json", expect: E(400) });
  await apiCase("body of text/plain", { path: TOKEN, body: "originFileName=a.mp4", contentType: "text/plain", expect: E(415, 415) });
  await apiCase("getVideoList body of application/xml", { path: LIST, body: "<a/>", contentType: "application/xml", expect: E(415, 415) });
  await apiCase("129 query parameters", {
    path: LIST, method: "GET", query: Array.from({ length: 129 }, (_, i) => `p${i}=1`).join("&"), expect: E(400) });
  await apiCase("form Content-Type with charset", { path: TOKEN, body: "originFileName=cs.mp4", contentType: "application/x-www-form-urlencoded; charset=utf-8", expect: { status: 200 } });
  {
    const big = "originFileName=a.mp4&cmd=" + "x".repeat(70000);
    await apiCase("chunked body over 64 KiB", { path: TOKEN, body: big, chunked: true, expect: E(413, 413) });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = "0".repeat(64);
    const r = await rawHeadersOnly([
      `POST ${TOKEN} HTTP/1.1`, `Host: ${HOST}`, "Content-Type: application/x-www-form-urlencoded",
      "Content-Length: 70000", `X-WS-AccessKey: ${AK}`, `X-WS-Timestamp: ${ts}`,
      `Authorization: WS3-HMAC-SHA256 Credential=${AK}, SignedHeaders=content-type;host, Signature=${sig}`]);
    validate("declared Content-Length over 64 KiB (answered before the body)", r, { apiPath: TOKEN, method: "POST" });
    check("declared Content-Length over 64 KiB: 413", r.status === 413 && r.json?.code === 413, r.text);
  }

  // ---- authentication ----
  const ts = Math.floor(Date.now() / 1000);
  const goodForm = { originFileName: "a.mp4" };
  const authErrors = [
    ["no signing headers", { auth: false }],
    ["wrong secret", { sk: "not-the-secret" }],
    ["timestamp 301 s old", { timestamp: ts - 301 }],
    ["timestamp 400 s ahead", { timestamp: ts + 400 }],
    ["timestamp not decimal", { timestamp: "17e8" }],
    ["unknown AccessKey", { ak: "AKUNKNOWN0000000" }],
    ["host not signed", { signedHeaders: "content-type" }],
    ["content-type not signed with a body", { signedHeaders: "host" }],
    ["a signed header absent", { signedHeaders: "content-type;host;x-absent" }],
    ["malformed Authorization", { authorization: "WS3-HMAC-SHA256 Credential=x" }],
    ["Credential not the AccessKey", { authorization: `WS3-HMAC-SHA256 Credential=OTHER, SignedHeaders=content-type;host, Signature=${"0".repeat(64)}` }],
  ];
  for (const [name, opts] of authErrors)
    await apiCase(`getUploadToken, ${name}`, { path: TOKEN, params: goodForm, expect: E(401, 401), ...opts });
  await apiCase("GET getVideoList, wrong secret", { path: LIST, method: "GET", kind: "query", params: {}, sk: "x", expect: E(401, 401) });
  await apiCase("GET getVideoInfo, tampered query", {
    path: INFO, method: "GET", query: "videoId=abc", expect: E(401, 401),
    authorization: (() => {
      const sig = ws3Signature({ method: "GET", path: INFO, query: "videoId=abd", headers: { host: HOST }, signedHeaders: "host", body: "", timestamp: String(Math.floor(Date.now() / 1000)), secretKey: SK });
      return `WS3-HMAC-SHA256 Credential=${AK}, SignedHeaders=host, Signature=${sig}`;
    })() });
  await apiCase("signature over a folded header value", {
    path: TOKEN, params: { originFileName: "fold.mp4" }, contentType: "application/x-www-form-urlencoded;   charset=utf-8",
    expect: { status: 200 } });

  // ---- getVideoList ----
  const list = await apiCase("GET getVideoList", { path: LIST, method: "GET", kind: "query", params: {}, expect: { status: 200, reqValid: true } });
  {
    const d = list.json?.data ?? {};
    const ids = (d.list ?? []).map((v) => v.videoId);
    const times = (d.list ?? []).map((v) => Date.parse(v.createdAt));
    check("getVideoList defaults pageIndex 1, pageSize 10", d.pageIndex === 1 && d.pageSize === 10, JSON.stringify({ pageIndex: d.pageIndex, pageSize: d.pageSize }));
    check("getVideoList newest first", times.every((t, i) => i === 0 || t <= times[i - 1]), (d.list ?? []).map((v) => v.createdAt).join(","));
    check("getVideoList total counts every video", d.total >= 8 && ids.length === Math.min(10, d.total), `total ${d.total}, ${ids.length} listed`);
  }
  const p1 = await apiCase("POST JSON getVideoList page 1", { path: LIST, kind: "json", params: { pageSize: 2, pageIndex: 1 }, expect: { status: 200, reqValid: true } });
  const p2 = await apiCase("POST form getVideoList page 2", { path: LIST, params: { pageSize: "2", pageIndex: "2" }, expect: { status: 200, reqValid: true } });
  check("pages do not overlap", p1.json?.data?.list?.length === 2 && p2.json?.data?.list?.length === 2 &&
    !p1.json.data.list.some((a) => p2.json.data.list.some((b) => a.videoId === b.videoId)), `${p1.text.slice(0, 100)} / ${p2.text.slice(0, 100)}`);
  const byName = await apiCase("getVideoList videoName, case-insensitive", { path: LIST, params: { videoName: "UPLOADTEST" }, expect: { status: 200, reqValid: true } });
  check("videoName filter matches", byName.json?.data?.total >= 1 && byName.json.data.list.every((v) => /uploadtest/i.test(v.videoName)), byName.text.slice(0, 300));
  const byCat = await apiCase("getVideoList categoryName (a parent)", { path: LIST, params: { categoryName: "news" }, expect: { status: 200, reqValid: true } });
  check("categoryName matches a parent name", byCat.json?.data?.total === 1 && byCat.json.data.list[0].videoName === "cats.mov", byCat.text.slice(0, 300));
  const byChild = await apiCase("getVideoList categoryName (a child)", { path: LIST, kind: "json", params: { categoryName: "local" }, expect: { status: 200, reqValid: true } });
  check("categoryName matches a child name", byChild.json?.data?.total === 1, byChild.text.slice(0, 300));
  const byStatus = await apiCase("getVideoList status=created", { path: LIST, method: "GET", kind: "query", params: { status: "created", pageSize: "100" }, expect: { status: 200, reqValid: true } });
  check("status filter", byStatus.json?.data?.list?.every((v) => v.status === "created"), byStatus.text.slice(0, 200));
  const none = await apiCase("getVideoList status=ready (none)", { path: LIST, params: { status: "ready" }, expect: { status: 200, reqValid: true } });
  check("no match: total 0, empty list", none.json?.data?.total === 0 && none.json.data.list.length === 0, none.text);
  for (const [name, params] of [["status=bogus", { status: "bogus" }], ["pageSize=0", { pageSize: "0" }],
    ["pageSize=101", { pageSize: "101" }], ["pageIndex=0", { pageIndex: "0" }], ["pageIndex=abc", { pageIndex: "abc" }]])
    await apiCase(`getVideoList ${name}`, { path: LIST, method: "GET", kind: "query", params, expect: { ...E(400), reqValid: false } });

  // ---- with the admin command: domains, resources, accounts, disabled keys ----
  if (haveAdmin) await adminCases();
  else check("vodup admin is available (domains, resources, other accounts, 403)", false, "vodup admin --help failed");

  async function adminCases() {
    const run = (...a) => {
      try {
        return { ok: true, out: admin(...a) };
      } catch (e) {
        return { ok: false, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
      }
    };
    const json = (text) => { try { return JSON.parse(text); } catch { return undefined; } };
    // A second account, with a key that is then disabled.
    const k2 = run("key", "create", "--name", "other", "--json");
    const key2 = json(k2.out);
    const ak2 = key2?.accessKey, sk2 = key2?.secretKey;
    check("admin key create --json gives accessKey and secretKey", k2.ok && ak2 && sk2, k2.out);
    if (ak2 && sk2) {
      const other = await apiCase("getUploadToken by another account", { path: TOKEN, params: { originFileName: "theirs.mp4" }, ak: ak2, sk: sk2, expect: { status: 200 } });
      await apiCase("getVideoInfo of another account's video", { path: INFO, params: { videoId: other.json?.data?.videoId ?? "x" }, expect: { status: 404 } });
      const theirs = await apiCase("getVideoList of the other account", { path: LIST, params: {}, ak: ak2, sk: sk2, expect: { status: 200 } });
      check("accounts see only their own videos", theirs.json?.data?.total === 1, theirs.text.slice(0, 200));
      const dis = run("key", "disable", ak2);
      check("admin key disable", dis.ok, dis.out);
      await apiCase("getUploadToken with a disabled key", { path: TOKEN, params: goodForm, ak: ak2, sk: sk2, expect: E(403, 403) });
      await apiCase("disabled key with a wrong secret is 401, not 403", { path: TOKEN, params: goodForm, ak: ak2, sk: "x", expect: E(401, 401) });
    }
    // Domains and processing resources of the first account.
    const acct = ["--account", AK];
    const dom = run(...acct, "domain", "add", "cdn.example.com");
    check("admin domain add", dom.ok, dom.out);
    const dom2 = run(...acct, "domain", "add", "https://media.example.org");
    check("admin domain add (with a scheme)", dom2.ok, dom2.out);
    const withDefault = await apiCase("getUploadToken, default domain", { path: TOKEN, params: { originFileName: "d.mp4" }, expect: { status: 200 } });
    const wd = (await request({ path: INFO, body: form({ videoId: withDefault.json?.data?.videoId ?? "" }) })).json?.data;
    check("playUrl uses the account's default domain", wd?.domain === "cdn.example.com" && wd?.playUrl === `https://cdn.example.com/${wd?.fileKey}`, JSON.stringify(wd));
    const named = await apiCase("getUploadToken, domain with a scheme", { path: TOKEN, params: { originFileName: "e.mp4", domain: "https://media.example.org" }, expect: { status: 200 } });
    const nd = (await request({ path: INFO, body: form({ videoId: named.json?.data?.videoId ?? "" }) })).json?.data;
    check("a domain with a scheme is used as is", nd?.playUrl === `https://media.example.org/${nd?.fileKey}`, JSON.stringify(nd));

    const tpl = run(...acct, "template", "add", "hd", "--container", "mp4", "--video-codec", "h264", "--width", "1280", "--height", "720");
    check("admin template add", tpl.ok, tpl.out);
    const wf = run(...acct, "workflow", "add", "standard", "--step", "probe", "--step", "transcode=hd", "--json");
    const wfId = json(wf.out)?.workflowId ?? (wf.out.match(/\bwf[0-9a-f]{30}\b/) ?? [])[0];
    check("admin workflow add gives a workflowId", wf.ok && wfId, wf.out);
    fs.writeFileSync(path.join(DATA, "..", "mark.png"), Buffer.from("89504e470d0a1a0a", "hex"));
    fs.writeFileSync(path.join(DATA, "..", "subs.srt"), "1\n00:00:01,000 --> 00:00:02,000\nhello\n");
    const wm = run(...acct, "watermark", "add", "logo", "--image", path.join(DATA, "..", "mark.png"));
    check("admin watermark add", wm.ok, wm.out);
    const sub = run(...acct, "--json", "subtitle", "add", "english", "--file", path.join(DATA, "..", "subs.srt"), "--language", "en");
    const subId = json(sub.out)?.subtitleId;
    check("admin subtitle add gives a subtitleId", sub.ok && subId, sub.out);
    const all = await apiCase("getUploadToken with an existing template, watermark and subtitle", {
      path: TOKEN, expect: { status: 200, reqValid: true },
      params: { originFileName: "t.mp4", transCodeCombineName: "hd", waterMarkName: "logo", subtitleId: subId ?? "x", cmd: "vframe/jpg/offset/1" } });
    const ad = (await request({ path: INFO, body: form({ videoId: all.json?.data?.videoId ?? "" }) })).json?.data;
    check("getVideoInfo shows the processing settings",
      ad?.transCodeCombineName === "hd" && ad?.waterMarkName === "logo" && ad?.subtitleId === subId && ad?.cmd === "vframe/jpg/offset/1" &&
      ad?.workflowId === null, JSON.stringify(ad));
    const order = await apiCase("existence order: domain before workflowId", {
      path: TOKEN, params: { originFileName: "o.mp4", domain: "nope.example.com", workflowId: "wfnope" }, expect: E(400) });
    check("existence order: the domain is reported first", /domain/.test(order.json?.message ?? ""), order.text);
    const order2 = await apiCase("existence order: waterMarkName before transCodeCombineName", {
      path: TOKEN, params: { originFileName: "o.mp4", waterMarkName: "nope", transCodeCombineName: "nope" }, expect: E(400) });
    check("existence order: waterMarkName is reported first", /waterMarkName/.test(order2.json?.message ?? ""), order2.text);
    if (wfId) {
      const w = await apiCase("getUploadToken, workflowId wins over the rest", {
        path: TOKEN, expect: { status: 200 },
        params: { originFileName: "w.mp4", workflowId: wfId, cmd: "ignored", waterMarkName: "no-such-mark", subtitleId: "!!" } });
      const wdata = (await request({ path: INFO, body: form({ videoId: w.json?.data?.videoId ?? "" }) })).json?.data;
      check("with workflowId, cmd/waterMarkName/transCodeCombineName/subtitleId are null",
        wdata?.workflowId === wfId && wdata.cmd === null && wdata.waterMarkName === null &&
        wdata.transCodeCombineName === null && wdata.subtitleId === null, JSON.stringify(wdata));
    }
  }

  // ---- the WCS upload endpoint and the playback origin (docs/upload.md,
  // docs/playback.md): real bytes, every answer validated ----

  // One unsigned request to the upload endpoint or the playback origin.
  async function raw(method, p, { headers = {}, body } = {}) {
    let r;
    try {
      r = await fetch(`${base.origin}${p}`, { method, headers, body, redirect: "manual" });
    } catch (e) {
      return { method, status: 0, headers: {}, bytes: Buffer.alloc(0), text: `${e.message}: ${e.cause?.message ?? ""}` };
    }
    const bytes = Buffer.from(await r.arrayBuffer());
    const text = bytes.toString("utf8");
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { method, status: r.status, headers: Object.fromEntries(r.headers), bytes, text, json };
  }
  // The WCS etag (docs/upload.md): 0x16 + SHA-1 for one 4 MiB piece, else
  // 0x96 + SHA-1 of the pieces' SHA-1s; url-safe base64.
  function wcsEtag(buf) {
    const piece = 4 * 1024 * 1024;
    const sha1 = (b) => crypto.createHash("sha1").update(b).digest();
    let out;
    if (buf.length <= piece) out = Buffer.concat([Buffer.from([0x16]), sha1(buf)]);
    else {
      const parts = [];
      for (let i = 0; i < buf.length; i += piece) parts.push(sha1(buf.subarray(i, i + piece)));
      out = Buffer.concat([Buffer.from([0x96]), sha1(Buffer.concat(parts))]);
    }
    return out.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
  }
  const b64url = (s) => Buffer.from(s).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
  async function tokenFor(name, extra = {}, who = {}) {
    const r = await request({ path: TOKEN, body: form({ originFileName: name, ...extra }), ...who });
    check(`getUploadToken for ${name}: 200`, r.status === 200, r.text);
    return r.json?.data ?? {};
  }
  function formUpload(token, bytes, name = "f.mp4") {
    const fd = new FormData();
    fd.append("token", token);
    fd.append("file", new Blob([bytes]), name);
    return raw("POST", "/file/upload", { body: fd });
  }
  const FORM = "/file/upload", MKBLK = "/mkblk/{blockSize}/{blockIndex}", MKBLK1 = "/mkblk/{blockSize}";
  const BPUT = "/bput/{ctx}/{offset}", MKFILE = "/mkfile/{fileSize}";
  const PLAY = "/video/{day}/{videoId}/{file}", PLAY_OUT = "/video/{day}/{videoId}/{dir}/{file}";
  const PLAY_SIGNED = "/{playToken}/video/{day}/{videoId}/{file}";
  const up = (name, res, apiPath, want) => {
    validate(`${name}`, res, { apiPath });
    return check(`${name}: HTTP ${want}`, res.status === want, `got ${res.status} ${res.text.slice(0, 200)}`);
  };

  async function wcsCases() {
    const small = Buffer.from("vodup openapi form upload bytes\n");
    // ---- form upload ----
    const f = await tokenFor("form.mp4");
    const r1 = await formUpload(f.uploadToken ?? "", small);
    if (up("POST /file/upload", r1, FORM, 200)) {
      const decoded = Buffer.from(r1.text.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8");
      check("form upload answer: url-safe base64 of hash=<WCS etag of the bytes>", decoded === `hash=${wcsEtag(small)}`, decoded);
      check("form upload answer: text/plain, X-Reqid equals X-Request-Id",
        /^text\/plain/.test(r1.headers["content-type"]) && r1.headers["x-reqid"] === r1.headers["x-request-id"], JSON.stringify(r1.headers));
    }
    up("POST /file/upload of an existing object, overwrite 0", await formUpload(f.uploadToken ?? "", small), FORM, 406);
    up("POST /file/upload with a forged token", await formUpload(`${AK}:AAAA:${b64url('{"scope":"x:y","deadline":"9999999999999"}')}`, small), FORM, 401);
    const f2 = await tokenFor("sized.mp4", { fileSize: "4" });
    up("POST /file/upload larger than the registered fileSize", await formUpload(f2.uploadToken ?? "", small), FORM, 413);
    const pre = await raw("OPTIONS", FORM, { headers: { Origin: "http://app.example", "Access-Control-Request-Method": "POST" } });
    up("OPTIONS /file/upload (CORS preflight)", pre, FORM, 200);

    // ---- block upload: two blocks, the first in two chunks ----
    const blockSize = 4 * 1024 * 1024;
    const fileBytes = crypto.randomBytes(blockSize + 1000);
    const b = await tokenFor("blocks.mp4", { fileSize: String(fileBytes.length) });
    const auth = { Authorization: `UpToken ${b.uploadToken ?? ""}` };
    const chunk = (p, bytes) => raw("POST", p, { headers: auth, body: bytes });
    const c1 = fileBytes.subarray(0, 3 * 1024 * 1024), c2 = fileBytes.subarray(3 * 1024 * 1024, blockSize);
    const m1 = await chunk(`/mkblk/${blockSize}/0`, c1);
    up("POST /mkblk/{blockSize}/{blockIndex}", m1, MKBLK, 200);
    check("mkblk answer: offset, crc32 and MD5 checksum of the chunk",
      m1.json?.offset === c1.length && m1.json?.crc32 === zlib.crc32(c1) &&
      m1.json?.checksum === crypto.createHash("md5").update(c1).digest("hex"), m1.text);
    const p1 = await chunk(`/bput/${m1.json?.ctx}/${m1.json?.offset}`, c2);
    up("POST /bput/{ctx}/{offset}", p1, BPUT, 200);
    check("bput answer: the block's new offset and the chunk's crc32", p1.json?.offset === blockSize && p1.json?.crc32 === zlib.crc32(c2), p1.text);
    // A small body: the server answers before reading it, and a large one
    // could meet a closed connection while it is still being sent.
    const wrong = await chunk(`/bput/${m1.json?.ctx}/12345`, Buffer.from("x"));
    up("POST /bput with an offset the block does not have (701, the default response)", wrong, BPUT, 701);
    const last = fileBytes.subarray(blockSize);
    const m2 = await chunk(`/mkblk/${last.length}`, last);
    up("POST /mkblk/{blockSize} without the index", m2, MKBLK1, 200);
    up("POST /mkblk without a token", await raw("POST", "/mkblk/4/0", { body: Buffer.from("abcd") }), MKBLK, 401);
    up("POST /mkblk with a body over blockSize", await chunk("/mkblk/4/0", Buffer.from("abcdefgh")), MKBLK, 400);
    const ctxs = `${p1.json?.ctx},${m2.json?.ctx}`;
    const mkfile = (size, body, extra = "") => raw("POST", `/mkfile/${size}${extra}`, { headers: { ...auth, "Content-Type": "text/plain" }, body });
    up("POST /mkfile, a fileSize other than the registered one", await mkfile(fileBytes.length - 1, ctxs), MKFILE, 400);
    up("POST /mkfile, a block missing from the list", await mkfile(fileBytes.length, p1.json?.ctx ?? ""), MKFILE, 412);
    const done = await mkfile(fileBytes.length, ctxs, `/mimeType/${b64url("video/mp4")}`);
    if (up("POST /mkfile/{fileSize}", done, MKFILE, 200))
      check("mkfile answer: the WCS etag of the whole file and the fileKey", done.json?.hash === wcsEtag(fileBytes) && done.json?.key === b.fileKey, done.text);
    up("POST /mkfile again (406: the object exists)", await mkfile(fileBytes.length, ctxs), MKFILE, 406);
    for (const p of [`/mkblk/${blockSize}/0`, "/bput/x/0", "/mkfile/1"]) {
      const api = p.startsWith("/mkblk") ? MKBLK : p.startsWith("/bput") ? BPUT : MKFILE;
      up(`OPTIONS ${p} (CORS preflight)`, await raw("OPTIONS", p, { headers: { Origin: "http://app.example", "Access-Control-Request-Method": "POST" } }), api, 200);
    }
    await playbackCases(b.fileKey ?? "video/0/0/none.mp4", fileBytes);
    await fopsCases(b.fileKey ?? "");
  }

  // The vendor's persistent-processing routes (docs/fops.md): their refusals
  // and a job's status (the server runs with --processing off: it stays
  // pending).
  async function fopsCases(fileKey) {
    up("GET /status/get/prefop, persistentId malformed", await raw("GET", "/status/get/prefop?persistentId=nope"), "/status/get/prefop", 400);
    up("GET /status/get/prefop, no such job", await raw("GET", `/status/get/prefop?persistentId=tk${"0".repeat(30)}`), "/status/get/prefop", 404);
    const bucket = (await request({ path: INFO, body: form({ videoId: fileKey.split("/")[2] ?? "" }) })).json?.data?.bucketName ?? "";
    const body = form({ bucket: b64url(bucket), key: b64url(fileKey), fops: b64url("vframe/jpg/offset/0") });
    const sign = (text) => b64url(crypto.createHmac("sha1", SK).update(text).digest("hex"));
    const post = (authz) => raw("POST", "/fops", { headers: { Authorization: authz, "Content-Type": "application/x-www-form-urlencoded" }, body });
    up("POST /fops with a management token of the wrong secret", await post(`${AK}:${b64url("0".repeat(40))}`), "/fops", 401);
    const ok = await post(`${AK}:${sign(`/fops\n${body}`)}`);
    if (up("POST /fops", ok, "/fops", 200)) {
      const st = await raw("GET", `/status/get/prefop?persistentId=${ok.json?.persistentId}`);
      up("GET /status/get/prefop of the job", st, "/status/get/prefop", 200);
    }
  }

  async function playbackCases(key, bytes) {
    const [, day, vid, file] = key.split("/");
    const g = await raw("GET", `/${key}`);
    if (up("GET the original at its fileKey", g, PLAY, 200))
      check("GET: the bytes uploaded, ETag the quoted WCS etag, a media Content-Type",
        g.bytes.equals(bytes) && g.headers.etag === `"${wcsEtag(bytes)}"` && g.headers["content-type"] === "video/mp4", JSON.stringify(g.headers));
    const h = await raw("HEAD", `/${key}`);
    up("HEAD the original", h, PLAY, 200);
    check("HEAD: no body, the length of the object", h.bytes.length === 0 && +h.headers["content-length"] === bytes.length, JSON.stringify(h.headers));
    const r = await raw("GET", `/${key}`, { headers: { Range: "bytes=10-19" } });
    if (up("GET with Range: bytes=10-19", r, PLAY, 206))
      check("206: those 10 bytes, Content-Range bytes 10-19/size", r.bytes.equals(bytes.subarray(10, 20)) &&
        r.headers["content-range"] === `bytes 10-19/${bytes.length}`, JSON.stringify(r.headers));
    const tail = await raw("GET", `/${key}`, { headers: { Range: "bytes=-5" } });
    up("GET with Range: bytes=-5 (the last 5)", tail, PLAY, 206);
    const past = await raw("GET", `/${key}`, { headers: { Range: `bytes=${bytes.length}-` } });
    if (up("GET with a range past the end", past, PLAY, 416))
      check("416: Content-Range bytes */size", past.headers["content-range"] === `bytes */${bytes.length}`, JSON.stringify(past.headers));
    up("GET a key nothing was published at", await raw("GET", `/video/${day}/${vid}/nothing.mp4`), PLAY, 404);
    up("GET an output the video does not have", await raw("GET", `/video/${day}/${vid}/hd/1280x720.mp4`), PLAY_OUT, 404);
    up("HEAD an output the video does not have", await raw("HEAD", `/video/${day}/${vid}/hd/1280x720.mp4`), PLAY_OUT, 404);
    if (haveAdmin) await signedPlaybackCases(file);
  }

  // Another account, whose playback is signed: a plain URL is refused, the
  // URL getPlayInfo signs plays, a tampered one is refused.
  async function signedPlaybackCases(name) {
    let key;
    try {
      key = JSON.parse(admin("key", "create", "--name", "signed-playback", "--json"));
      admin("--account", key.accessKey, "playback", "set", "signed");
    } catch (e) {
      return check("admin: an account with signed playback", false, `${e.stdout ?? ""}${e.stderr ?? e.message}`);
    }
    const who = { ak: key.accessKey, sk: key.secretKey };
    const bytes = Buffer.from("signed playback bytes");
    const t = await tokenFor(name, {}, who);
    up("POST /file/upload (an account with signed playback)", await formUpload(t.uploadToken ?? "", bytes), FORM, 200);
    up("GET a signed account's object without a token", await raw("GET", `/${t.fileKey}`), PLAY, 403);
    const info = await request({ path: "/vod/videoManage/getPlayInfo", body: form({ videoId: t.videoId ?? "", expires: "600" }), ...who });
    const url = info.json?.data?.playUrl ?? "";
    check("getPlayInfo signs the playUrl: /vsig.<expires>.3.<sig>/<fileKey>",
      new RegExp(`/vsig\\.[0-9]+\\.3\\.[0-9a-f]{32}/${t.fileKey}$`).test(url), info.text.slice(0, 300));
    const p = new URL(url || "http://x/").pathname;
    const g = await raw("GET", p, { headers: { Range: "bytes=0-5" } });
    if (up("GET a signed URL with a Range", g, PLAY_SIGNED, 206))
      check("signed 206: the first 6 bytes", g.bytes.equals(bytes.subarray(0, 6)), g.text);
    up("HEAD a signed URL", await raw("HEAD", p), PLAY_SIGNED, 200);
    const tampered = p.replace(/\.([0-9a-f])([0-9a-f]{31})\//, (m, c, rest) => `.${c === "0" ? "1" : "0"}${rest}/`);
    const bad = await raw("GET", tampered);
    if (up("GET a signed URL with a tampered signature", bad, PLAY_SIGNED, 403))
      check("403 says the signature is bad", /signature/i.test(bad.json?.message ?? ""), bad.text);
    const old = p.replace(/\/vsig\.[0-9]+\./, "/vsig.1000000000.");
    up("GET a signed URL that expired (its signature no longer matches either)", await raw("GET", old), PLAY_SIGNED, 403);
  }

  await wcsCases();

  // ---- tus 1.0 (docs/upload.md, "tus 1.0 uploads") ----
  const TUS = "/files/", TUS_ID = "/files/{uploadId}";
  const digest64 = (alg, b) => crypto.createHash(alg).update(b).digest("base64");
  const crc64 = (b) => { const x = Buffer.alloc(4); x.writeUInt32BE(zlib.crc32(b)); return x.toString("base64"); };
  const OCTET = "application/offset+octet-stream";
  // The upload's path from a creation's relative Location.
  const tusPath = (res) => `/files/${(res.headers.location ?? "").replace(/^files\//, "")}`;
  // The database, for what a test cannot wait for (an upload or a link
  // expiring), as tests/scripts/test_upload_page.sh ages its link.
  let haveSqlite = true;
  try { execFileSync("sqlite3", ["-version"], { stdio: "ignore" }); } catch { haveSqlite = false; }
  const db = (sql) => execFileSync("sqlite3", ["-cmd", ".timeout 5000", path.join(DATA, "vodup.db"), sql], { encoding: "utf8" });
  if (!haveSqlite) console.log("# sqlite3 not installed: the expiry cases (tus 410, link 410) are skipped");
  // A token as an app mints it with the WCS SDK: getUploadToken's policy
  // with `change` applied, signed again with the secret.
  function mint(token, change) {
    const parts = token.split(":");
    const policy = change(JSON.parse(Buffer.from(parts[2] ?? "e30=", "base64").toString("utf8")));
    const enc = b64url(JSON.stringify(policy));
    return `${AK}:${b64url(crypto.createHmac("sha1", SK).update(enc).digest("hex"))}:${enc}`;
  }
  // A port nothing listens on (the callback of a 579).
  const closedPort = () => new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
  const infoOf = async (videoId) => (await request({ path: INFO, body: form({ videoId }) })).json?.data ?? {};
  const md5hex = (b) => crypto.createHash("md5").update(b).digest("hex");

  async function tusCases() {
    const bytes = crypto.randomBytes(3000);
    const t = await tokenFor("tus.mp4", { fileSize: String(bytes.length) });
    const auth = { Authorization: `UpToken ${t.uploadToken ?? ""}`, "Tus-Resumable": "1.0.0" };
    const octet = { ...auth, "Content-Type": OCTET };
    const opt = await raw("OPTIONS", TUS);
    if (up("OPTIONS /files/", opt, TUS, 204))
      check("OPTIONS /files/: Tus-Max-Size is max-upload-size, no Tus-Resumable", /^[0-9]+$/.test(opt.headers["tus-max-size"] ?? "") &&
        opt.headers["tus-resumable"] === undefined, JSON.stringify(opt.headers));
    const pre = await raw("OPTIONS", TUS, { headers: { Origin: "http://app.example", "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "tus-resumable,upload-length,upload-metadata" } });
    if (up("OPTIONS /files/ (CORS preflight)", pre, TUS, 204))
      check("the preflight allows the tus headers and exposes Location, Upload-* and Tus-*",
        /upload-length/.test(pre.headers["access-control-allow-headers"] ?? "") &&
        /Location/.test(pre.headers["access-control-expose-headers"] ?? "") && /Upload-Offset/.test(pre.headers["access-control-expose-headers"] ?? ""),
        JSON.stringify(pre.headers));
    const g = await raw("GET", TUS, { headers: auth });
    check("GET /files/: 405 with Allow: OPTIONS, POST, HEAD, PATCH, DELETE and Tus-Resumable",
      g.status === 405 && g.headers.allow === "OPTIONS, POST, HEAD, PATCH, DELETE" && g.headers["tus-resumable"] === "1.0.0" && g.json?.code === 405,
      `${g.status} ${JSON.stringify(g.headers)}`);

    // ---- creation: its refusals ----
    const post = (headers, body) => raw("POST", TUS, { headers: { ...auth, ...headers }, body });
    const p412 = await raw("POST", TUS, { headers: { Authorization: auth.Authorization, "Upload-Length": "3000" } });
    if (up("POST /files/ without Tus-Resumable", p412, TUS, 412))
      check("412 says Tus-Version: 1.0.0", p412.headers["tus-version"] === "1.0.0", JSON.stringify(p412.headers));
    up("POST /files/ with Tus-Resumable: 0.2.2", await post({ "Tus-Resumable": "0.2.2", "Upload-Length": "3000" }), TUS, 412);
    up("POST /files/ without a token", await raw("POST", TUS, { headers: { "Tus-Resumable": "1.0.0", "Upload-Length": "3000" } }), TUS, 401);
    up("POST /files/ with a token of a wrong signature", await post({ Authorization: `UpToken ${(t.uploadToken ?? "").replace(/:[^:]*:/, ":AAAA:")}`,
      "Upload-Length": "3000" }), TUS, 401);
    up("POST /files/ with an Upload-Length unlike the registered fileSize", await post({ "Upload-Length": "10" }), TUS, 400);
    up("POST /files/ with both Upload-Length and Upload-Defer-Length", await post({ "Upload-Length": "3000", "Upload-Defer-Length": "1" }), TUS, 400);
    up("POST /files/ with neither Upload-Length nor Upload-Defer-Length", await post({}), TUS, 400);
    up("POST /files/ with a malformed Upload-Metadata (a value not base64)", await post({ "Upload-Length": "3000", "Upload-Metadata": "filename a!b" }), TUS, 400);
    up("POST /files/ with a metadata key twice", await post({ "Upload-Length": "3000", "Upload-Metadata": "a,a" }), TUS, 400);
    up("POST /files/ with a malformed Upload-Concat", await post({ "Upload-Length": "3000", "Upload-Concat": "whole" }), TUS, 400);
    up("POST /files/ with bytes, not application/offset+octet-stream", await post({ "Upload-Length": "3000", "Content-Type": "text/plain" }, bytes.subarray(0, 10)), TUS, 415);
    up("POST /files/ with an unknown checksum algorithm", await post({ "Upload-Length": "3000", "Content-Type": OCTET, "Upload-Checksum": "sha256 AAAA" }, bytes.subarray(0, 10)), TUS, 400);
    up("POST /files/ with a body whose Upload-Checksum does not match", await post({ "Upload-Length": "3000", "Content-Type": OCTET,
      "Upload-Checksum": `sha1 ${digest64("sha1", "other")}` }, bytes.subarray(0, 10)), TUS, 460);
    const any = await tokenFor("tus-any.mp4");
    const anyAuth = { Authorization: `UpToken ${any.uploadToken ?? ""}`, "Tus-Resumable": "1.0.0" };
    up("POST /files/ with an Upload-Length over max-upload-size", await raw("POST", TUS, { headers: { ...anyAuth, "Upload-Length": "99999999999999" } }), TUS, 413);
    up("POST /files/ with more bytes than its Upload-Length", await raw("POST", TUS, { headers: { ...anyAuth, "Upload-Length": "3", "Content-Type": OCTET },
      body: Buffer.from("abcd") }), TUS, 413);
    const foreign = mint(any.uploadToken ?? "", (p) => ({ ...p, scope: `vod-not-this-account:${any.fileKey}` }));
    up("POST /files/ with a token whose bucket is not its account's", await raw("POST", TUS, { headers: { ...anyAuth, Authorization: `UpToken ${foreign}`,
      "Upload-Length": "3" } }), TUS, 403);

    // ---- an upload in three PATCHes, each with another checksum ----
    const c = await post({ "Upload-Length": "3000", "Upload-Metadata": `filetype ${Buffer.from("video/mp4").toString("base64")},flag` });
    if (!up("POST /files/", c, TUS, 201)) return;
    check("201: Location relative (the id, for a path ending in /), Upload-Offset 0, Upload-Expires",
      /^[A-Za-z0-9_-]+$/.test(c.headers.location ?? "") && c.headers["upload-offset"] === "0" && !!c.headers["upload-expires"], JSON.stringify(c.headers));
    const p = tusPath(c);
    const h = await raw("HEAD", p, { headers: auth });
    if (up("HEAD /files/{uploadId}", h, TUS_ID, 200))
      check("HEAD: offset 0, the length, the metadata as sent, Upload-Expires", h.headers["upload-offset"] === "0" && h.headers["upload-length"] === "3000" &&
        h.headers["upload-metadata"] === `filetype ${Buffer.from("video/mp4").toString("base64")},flag` && !!h.headers["upload-expires"], JSON.stringify(h.headers));
    up("HEAD /files/{uploadId} without Tus-Resumable", await raw("HEAD", p, { headers: { Authorization: auth.Authorization } }), TUS_ID, 412);
    up("HEAD /files/{uploadId} without a token", await raw("HEAD", p, { headers: { "Tus-Resumable": "1.0.0" } }), TUS_ID, 401);
    const patch = (headers, body) => raw("PATCH", p, { headers: { ...octet, ...headers }, body });
    up("PATCH at a wrong Upload-Offset", await patch({ "Upload-Offset": "7" }, bytes.subarray(7, 20)), TUS_ID, 409);
    up("PATCH without application/offset+octet-stream", await patch({ "Content-Type": "text/plain", "Upload-Offset": "0" }, bytes.subarray(0, 10)), TUS_ID, 415);
    up("PATCH without Upload-Offset", await patch({}, bytes.subarray(0, 10)), TUS_ID, 400);
    up("PATCH without Tus-Resumable", await patch({ "Tus-Resumable": "", "Upload-Offset": "0" }, bytes.subarray(0, 10)), TUS_ID, 412);
    up("PATCH with an unknown checksum algorithm", await patch({ "Upload-Offset": "0", "Upload-Checksum": "sha256 AAAA" }, bytes.subarray(0, 10)), TUS_ID, 400);
    up("PATCH whose Upload-Checksum does not match", await patch({ "Upload-Offset": "0", "Upload-Checksum": `sha1 ${digest64("sha1", "other")}` }, bytes.subarray(0, 10)), TUS_ID, 460);
    up("PATCH with an Upload-Length unlike the upload's", await patch({ "Upload-Offset": "0", "Upload-Length": "2999" }, bytes.subarray(0, 10)), TUS_ID, 400);
    up("PATCH past Upload-Length", await patch({ "Upload-Offset": "0" }, Buffer.concat([bytes, Buffer.from("x")])), TUS_ID, 413);
    const h0 = await raw("HEAD", p, { headers: auth });
    check("the refused PATCHes kept nothing: offset 0", h0.headers["upload-offset"] === "0", JSON.stringify(h0.headers));
    const p1 = await patch({ "Upload-Offset": "0", "Upload-Checksum": `md5 ${digest64("md5", bytes.subarray(0, 1000))}` }, bytes.subarray(0, 1000));
    if (up("PATCH the first 1000 bytes (md5 checksum)", p1, TUS_ID, 204))
      check("PATCH: Upload-Offset 1000 and Upload-Expires while unfinished", p1.headers["upload-offset"] === "1000" && !!p1.headers["upload-expires"], JSON.stringify(p1.headers));
    const p2 = await patch({ "Upload-Offset": "1000", "Upload-Checksum": `crc32 ${crc64(bytes.subarray(1000, 2000))}` }, bytes.subarray(1000, 2000));
    up("PATCH the next 1000 bytes (crc32 checksum)", p2, TUS_ID, 204);
    const p3 = await patch({ "Upload-Offset": "2000", "Upload-Checksum": `sha1 ${digest64("sha1", bytes.subarray(2000))}` }, bytes.subarray(2000));
    if (up("PATCH the rest (sha1 checksum; completes the upload)", p3, TUS_ID, 204)) {
      check("the completing PATCH: Upload-Offset 3000, no Upload-Expires", p3.headers["upload-offset"] === "3000" && p3.headers["upload-expires"] === undefined,
        JSON.stringify(p3.headers));
      const d = await infoOf(t.videoId ?? "");
      check("tus upload: getVideoInfo shows it uploaded with its size, MD5 and the metadata's filetype", d.size === 3000 && d.md5 === md5hex(bytes) &&
        !!d.uploadedAt && d.mimeType === "video/mp4", JSON.stringify(d).slice(0, 300));
    }
    const hd = await raw("HEAD", p, { headers: auth });
    if (up("HEAD a finished upload", hd, TUS_ID, 200))
      check("HEAD of a finished upload: offset = length, no Upload-Expires", hd.headers["upload-offset"] === "3000" && hd.headers["upload-expires"] === undefined,
        JSON.stringify(hd.headers));
    up("PATCH a finished upload at its offset, no bytes", await patch({ "Upload-Offset": "3000" }), TUS_ID, 204);
    up("POST /files/ for a fileKey uploaded already, overwrite 0", await post({ "Upload-Length": "3000" }), TUS, 406);
    up("HEAD an unknown upload", await raw("HEAD", "/files/AAAAAAAA", { headers: auth }), TUS_ID, 404);
    up("PATCH an unknown upload", await raw("PATCH", "/files/AAAAAAAA", { headers: { ...octet, "Upload-Offset": "0" }, body: Buffer.from("x") }), TUS_ID, 404);
    up("DELETE an unknown upload", await raw("DELETE", "/files/AAAAAAAA", { headers: auth }), TUS_ID, 404);
    up("DELETE without Tus-Resumable", await raw("DELETE", p, { headers: { Authorization: auth.Authorization } }), TUS_ID, 412);

    // ---- creation-with-upload ----
    const small = crypto.randomBytes(5);
    const w = await tokenFor("tus-with.mp4", { fileSize: "5" });
    const wAuth = { Authorization: `UpToken ${w.uploadToken ?? ""}`, "Tus-Resumable": "1.0.0" };
    const cw = await raw("POST", "/files", { headers: { ...wAuth, "Upload-Length": "5", "Content-Type": OCTET }, body: small });
    if (up("POST /files with the whole file (creation-with-upload)", cw, TUS, 201)) {
      check("201 of a completed creation: Location files/<id> (the path ends without /), Upload-Offset 5, no Upload-Expires",
        /^files\/[A-Za-z0-9_-]+$/.test(cw.headers.location ?? "") && cw.headers["upload-offset"] === "5" && cw.headers["upload-expires"] === undefined,
        JSON.stringify(cw.headers));
      const d = await infoOf(w.videoId ?? "");
      check("creation-with-upload: the video is uploaded, its MD5 the bytes'", d.size === 5 && d.md5 === md5hex(small), JSON.stringify(d).slice(0, 300));
    }
    const part = await raw("POST", TUS, { headers: { ...anyAuth, "Upload-Length": "10", "Content-Type": OCTET }, body: small });
    if (up("POST /files/ with the first bytes of an upload", part, TUS, 201))
      check("201: Upload-Offset 5 and Upload-Expires", part.headers["upload-offset"] === "5" && !!part.headers["upload-expires"], JSON.stringify(part.headers));

    // ---- deferred length, another file's token, termination ----
    const t2 = await tokenFor("tus2.mp4"), t3 = await tokenFor("tus3.mp4");
    const auth2 = { Authorization: `UpToken ${t2.uploadToken ?? ""}`, "Tus-Resumable": "1.0.0" };
    const c2 = await raw("POST", TUS, { headers: { ...auth2, "Upload-Defer-Length": "1" } });
    if (!up("POST /files/ with Upload-Defer-Length", c2, TUS, 201)) return;
    const q = tusPath(c2);
    const hq = await raw("HEAD", q, { headers: auth2 });
    if (up("HEAD an upload whose length is deferred", hq, TUS_ID, 200))
      check("HEAD: Upload-Defer-Length 1, no Upload-Length", hq.headers["upload-defer-length"] === "1" && hq.headers["upload-length"] === undefined, JSON.stringify(hq.headers));
    const ql = await raw("PATCH", q, { headers: { ...auth2, "Content-Type": OCTET, "Upload-Offset": "0", "Upload-Length": "20" }, body: bytes.subarray(0, 10) });
    up("PATCH with Upload-Length (the deferred length given)", ql, TUS_ID, 204);
    const hq2 = await raw("HEAD", q, { headers: auth2 });
    check("HEAD after it: Upload-Length 20, offset 10", hq2.headers["upload-length"] === "20" && hq2.headers["upload-offset"] === "10" &&
      hq2.headers["upload-defer-length"] === undefined, JSON.stringify(hq2.headers));
    up("PATCH with another fileKey's token", await raw("PATCH", q, { headers: { Authorization: `UpToken ${t3.uploadToken ?? ""}`, "Tus-Resumable": "1.0.0",
      "Content-Type": OCTET, "Upload-Offset": "10" }, body: bytes.subarray(0, 10) }), TUS_ID, 403);
    const del = await raw("POST", q, { headers: { ...auth2, "X-HTTP-Method-Override": "DELETE" } });
    validate("POST /files/{uploadId} with X-HTTP-Method-Override: DELETE", del, { apiPath: TUS_ID, method: "DELETE" });
    check("POST with X-HTTP-Method-Override: DELETE terminates: 204", del.status === 204, `${del.status} ${del.text}`);
    up("HEAD a terminated upload", await raw("HEAD", q, { headers: auth2 }), TUS_ID, 404);
    const c3 = await raw("POST", TUS, { headers: { ...auth2, "Upload-Length": "4" } });
    if (up("POST /files/ (to terminate)", c3, TUS, 201))
      up("DELETE /files/{uploadId}", await raw("DELETE", tusPath(c3), { headers: auth2 }), TUS_ID, 204);

    await tusConcatCases();
    await tusLimitCases();
  }

  // Concatenation: two partial uploads joined by a final one.
  async function tusConcatCases() {
    const a = crypto.randomBytes(700), b = crypto.randomBytes(300);
    const t = await tokenFor("tus-concat.mp4", { fileSize: "1000" });
    const auth = { Authorization: `UpToken ${t.uploadToken ?? ""}`, "Tus-Resumable": "1.0.0" };
    const pa = await raw("POST", TUS, { headers: { ...auth, "Upload-Length": "700", "Upload-Concat": "partial", "Content-Type": OCTET }, body: a });
    const pb = await raw("POST", TUS, { headers: { ...auth, "Upload-Length": "300", "Upload-Concat": "partial" } });
    if (!up("POST /files/ a partial upload with its bytes", pa, TUS, 201) | !up("POST /files/ a partial upload", pb, TUS, 201)) return;
    check("a partial upload with all its bytes is not published: Upload-Expires, the video not uploaded",
      !!pa.headers["upload-expires"] && (await infoOf(t.videoId ?? "")).uploadedAt === null, JSON.stringify(pa.headers));
    const A = tusPath(pa), B = tusPath(pb);
    const ha = await raw("HEAD", A, { headers: auth });
    if (up("HEAD a partial upload", ha, TUS_ID, 200))
      check("HEAD of a partial upload: Upload-Concat: partial", ha.headers["upload-concat"] === "partial", JSON.stringify(ha.headers));
    const final = (extra = {}) => raw("POST", TUS, { headers: { ...auth, "Upload-Concat": `final;${base.origin}${A} ${B.slice(1)}`, ...extra } });
    up("POST /files/ a final upload naming an unfinished partial", await final(), TUS, 400);
    up("POST /files/ a final upload with an Upload-Length", await final({ "Upload-Length": "1000" }), TUS, 400);
    up("PATCH the second partial upload", await raw("PATCH", B, { headers: { ...auth, "Content-Type": OCTET, "Upload-Offset": "0" }, body: b }), TUS_ID, 204);
    const other = await tokenFor("tus-concat-other.mp4");
    up("POST /files/ a final upload of another fileKey's partials", await raw("POST", TUS, { headers: { Authorization: `UpToken ${other.uploadToken ?? ""}`,
      "Tus-Resumable": "1.0.0", "Upload-Concat": `final;${A} ${B}` } }), TUS, 403);
    const f = await final();
    if (!up("POST /files/ a final upload (concatenation)", f, TUS, 201)) return;
    check("201 of a final upload: Upload-Offset the parts' total, no Upload-Expires", f.headers["upload-offset"] === "1000" && f.headers["upload-expires"] === undefined,
      JSON.stringify(f.headers));
    const d = await infoOf(t.videoId ?? "");
    check("concatenation: the video holds the parts in order (size, MD5)", d.size === 1000 && d.md5 === md5hex(Buffer.concat([a, b])), JSON.stringify(d).slice(0, 300));
    const F = tusPath(f);
    const hf = await raw("HEAD", F, { headers: auth });
    if (up("HEAD a final upload", hf, TUS_ID, 200))
      check("HEAD of a final upload: Upload-Concat as created, offset = length = 1000", hf.headers["upload-concat"] === `final;${base.origin}${A} ${B.slice(1)}` &&
        hf.headers["upload-offset"] === "1000" && hf.headers["upload-length"] === "1000", JSON.stringify(hf.headers));
    up("PATCH a final upload", await raw("PATCH", F, { headers: { ...auth, "Content-Type": OCTET, "Upload-Offset": "1000" }, body: Buffer.from("x") }), TUS_ID, 403);
    up("HEAD a partial upload a final one consumed", await raw("HEAD", A, { headers: auth }), TUS_ID, 404);
  }

  // Expiry, the per-fileKey bound and a failing upload callback.
  async function tusLimitCases() {
    const t = await tokenFor("tus-limits.mp4");
    const auth = { Authorization: `UpToken ${t.uploadToken ?? ""}`, "Tus-Resumable": "1.0.0" };
    const create = () => raw("POST", TUS, { headers: { ...auth, "Upload-Length": "10" } });
    const first = await create();
    if (!up("POST /files/ (to expire)", first, TUS, 201)) return;
    const E = tusPath(first);
    if (haveSqlite) {
      // An upload expires block-max-age after its last write: aged in the database.
      try {
        const rows = db(`UPDATE tus_uploads SET updated_ms = 1 WHERE file_key = '${t.fileKey}'; SELECT changes();`).trim();
        check("an upload aged in the database", rows === "1", rows);
      } catch (e) {
        check("an upload aged in the database", false, `${e.stderr ?? e.message}`);
      }
      up("HEAD an expired upload", await raw("HEAD", E, { headers: auth }), TUS_ID, 410);
      up("PATCH an expired upload", await raw("PATCH", E, { headers: { ...auth, "Content-Type": OCTET, "Upload-Offset": "0" }, body: Buffer.from("x") }), TUS_ID, 410);
      up("DELETE an expired upload", await raw("DELETE", E, { headers: auth }), TUS_ID, 410);
    }
    // max-tus-uploads-per-file (64) unfinished uploads per fileKey: the
    // aged one still counts until the sweep removes it.
    let made = 1, last;
    while (made < 64 && (last = await create()).status === 201) made++;
    check("64 unfinished uploads of one fileKey are created", made === 64, last ? `${last.status} ${last.text}` : "");
    const over = await create();
    if (up("POST /files/ past max-tus-uploads-per-file", over, TUS, 403))
      check("403 names max-tus-uploads-per-file", /max-tus-uploads-per-file/.test(over.json?.message ?? ""), over.text);

    // A token minted with a callbackUrl no one answers: the completing
    // PATCH publishes the file, then says 579.
    const port = await closedPort();
    const cb = await tokenFor("tus-callback.mp4");
    const minted = mint(cb.uploadToken ?? "", (p) => ({ ...p, callbackUrl: `http://127.0.0.1:${port}/cb`, callbackBody: "key=$(key)" }));
    const cbAuth = { Authorization: `UpToken ${minted}`, "Tus-Resumable": "1.0.0" };
    const cc = await raw("POST", TUS, { headers: { ...cbAuth, "Upload-Length": "3" } });
    if (!up("POST /files/ with a token minted with a callbackUrl", cc, TUS, 201)) return;
    const C = tusPath(cc);
    const failed = await raw("PATCH", C, { headers: { ...cbAuth, "Content-Type": OCTET, "Upload-Offset": "0" }, body: Buffer.from("abc") });
    if (up("PATCH completing an upload whose callback fails", failed, TUS_ID, 579))
      check("579: the callback failed, the file is stored", /callback failed/.test(failed.json?.message ?? "") &&
        (await infoOf(cb.videoId ?? "")).size === 3, failed.text);
    const after = await raw("HEAD", C, { headers: cbAuth });
    if (up("HEAD after the 579", after, TUS_ID, 200))
      check("the upload is done after the 579: offset 3, no Upload-Expires", after.headers["upload-offset"] === "3" && after.headers["upload-expires"] === undefined,
        JSON.stringify(after.headers));
  }
  await tusCases();

  // ---- upload links and the page's routes (docs/upload-links.md) ----
  const LINK = "/vod/videoManage/createUploadLink";
  const NO_LINK = "ul_00000000000000000000000000000000";
  async function linkCases() {
    const made = await apiCase("POST createUploadLink", { path: LINK, params: { uses: "1", maxSize: "100000", expiresIn: "600" },
      expect: { status: 200, reqValid: true } });
    const l = made.json?.data ?? {};
    check("createUploadLink: uploadLink is <public URL>/upload/<linkId>, the settings as asked",
      l.uploadLink === `${base.origin}/upload/${l.linkId}` && l.uses === 1 && l.maxSize === 100000 &&
      Math.abs(Date.parse(l.expiresAt) - Date.now() - 600e3) < 120e3 && l.transCodeCombineName === null && l.workflowId === null, made.text);
    const dflt = await apiCase("GET createUploadLink", { path: LINK, method: "GET", kind: "query", params: {}, expect: { status: 200, reqValid: true } });
    const dl = dflt.json?.data ?? {};
    const maxUpload = +((await raw("OPTIONS", TUS)).headers["tus-max-size"] ?? 0);
    check("createUploadLink defaults: 1 use, maxSize max-upload-size, 24 hours", dl.uses === 1 && dl.maxSize === maxUpload &&
      Math.abs(Date.parse(dl.expiresAt) - Date.now() - 86400e3) < 120e3, dflt.text);
    const many = await apiCase("POST JSON createUploadLink", { path: LINK, kind: "json", params: { uses: 3, maxSize: 100000, expiresIn: 3600 },
      expect: { status: 200, reqValid: true } });
    await apiCase("createUploadLink without a signature", { path: LINK, params: { uses: "1" }, auth: false, expect: { status: 401 } });
    await apiCase("POST createUploadLink with uses 0", { path: LINK, params: { uses: "0" }, expect: { status: 400 } });
    await apiCase("POST createUploadLink with uses 1001", { path: LINK, params: { uses: "1001" }, expect: { status: 400 } });
    await apiCase("POST createUploadLink with expiresIn 59", { path: LINK, params: { expiresIn: "59" }, expect: { status: 400 } });
    const big = await apiCase("POST createUploadLink with maxSize over max-upload-size", { path: LINK, params: { maxSize: String(maxUpload + 1) },
      expect: { status: 400 } });
    check("400 names maxSize", /maxSize/.test(big.json?.message ?? ""), big.text);
    await apiCase("POST JSON createUploadLink with uses true", { path: LINK, kind: "json", params: { uses: true }, expect: { status: 400, reqValid: false } });
    const tmpl = await apiCase("POST createUploadLink with an unknown template", { path: LINK, params: { transCodeCombineName: "no-such-template" }, expect: { status: 400 } });
    check("400 names transCodeCombineName", /transCodeCombineName/.test(tmpl.json?.message ?? ""), tmpl.text);
    await apiCase("POST createUploadLink with an unknown workflow", { path: LINK, params: { workflowId: "wfnope" }, expect: { status: 400 } });

    // ---- the page ----
    const L = `/upload/${l.linkId}`;
    const page = await raw("GET", L);
    if (up("GET /upload/{linkId}", page, "/upload/{linkId}", 200))
      check("the page is HTML", /^text\/html/.test(page.headers["content-type"] ?? "") && /<html/i.test(page.text), page.text.slice(0, 100));
    const none = await raw("GET", `/upload/${NO_LINK}`);
    if (up("GET /upload/{linkId} of an unknown link", none, "/upload/{linkId}", 404))
      check("404: the same page", none.text === page.text, none.text.slice(0, 100));
    up("GET /upload/{linkId} of a malformed link id", await raw("GET", "/upload/not-a-link"), "/upload/{linkId}", 404);

    // ---- info ----
    const info = await raw("GET", `${L}/info`);
    if (up("GET /upload/{linkId}/info", info, "/upload/{linkId}/info", 200))
      check("info: usesLeft 1, maxSize 100000, expiresAt and the extensions", info.json?.usesLeft === 1 && info.json?.maxSize === 100000 &&
        info.json?.expiresAt === l.expiresAt && info.json?.extensions?.includes("mp4"), info.text);
    up("GET /upload/{linkId}/info of an unknown link", await raw("GET", `/upload/${NO_LINK}/info`), "/upload/{linkId}/info", 404);
    up("GET /upload/{linkId}/info of a malformed link id", await raw("GET", "/upload/not-a-link/info"), "/upload/{linkId}/info", 404);

    // ---- registering videos ----
    const json = { "Content-Type": "application/json" };
    const reg = (o, link = L) => raw("POST", `${link}/videos`, { headers: json, body: JSON.stringify(o) });
    const VIDEOS = "/upload/{linkId}/videos";
    up("POST /upload/{linkId}/videos without a fileId", await reg({ name: "a.mp4", size: 10 }), VIDEOS, 400);
    up("POST /upload/{linkId}/videos with a malformed fileId", await reg({ name: "a.mp4", size: 10, fileId: "a/b" }), VIDEOS, 400);
    up("POST /upload/{linkId}/videos with a negative size", await reg({ name: "a.mp4", size: -1, fileId: "f1" }), VIDEOS, 400);
    up("POST /upload/{linkId}/videos over maxSize", await reg({ name: "a.mp4", size: 100001, fileId: "f1" }), VIDEOS, 413);
    const ext = await reg({ name: "a.exe", size: 10, fileId: "f1" });
    if (up("POST /upload/{linkId}/videos of a name without an accepted extension", ext, VIDEOS, 400))
      check("400 says which extensions are accepted", /accepted/.test(ext.json?.message ?? ""), ext.text);
    up("POST /upload/{linkId}/videos of an unknown link", await reg({ name: "a.mp4", size: 10, fileId: "f1" }, `/upload/${NO_LINK}`), VIDEOS, 404);
    const bytes = crypto.randomBytes(10);
    const v = await reg({ name: "a.mp4", size: 10, fileId: "f1" });
    if (up("POST /upload/{linkId}/videos", v, VIDEOS, 200))
      check("the registration carries a token and the video", !!v.json?.uploadToken && /^[0-9a-f]{32}$/.test(v.json?.videoId ?? "") &&
        v.json?.uploadUrl === base.origin && v.json?.fileKey?.endsWith(`/${v.json?.videoId}/a.mp4`), v.text);
    const again = await reg({ name: "a.mp4", size: 10, fileId: "f1" });
    if (up("POST /upload/{linkId}/videos, the same fileId again", again, VIDEOS, 200))
      check("the same fileId: the same video, a fresh token, no use counted", again.json?.videoId === v.json?.videoId && !!again.json?.uploadToken &&
        (await raw("GET", `${L}/info`)).json?.usesLeft === 0, again.text);
    up("POST /upload/{linkId}/videos, a new file when no use is left", await reg({ name: "b.mp4", size: 10, fileId: "f2" }), VIDEOS, 410);
    // The link's token uploads with tus; the same file chosen again then
    // gets its video and no token.
    const la = { Authorization: `UpToken ${again.json?.uploadToken ?? ""}`, "Tus-Resumable": "1.0.0" };
    const lc = await raw("POST", TUS, { headers: { ...la, "Upload-Length": "10", "Content-Type": OCTET }, body: bytes });
    up("POST /files/ with the link's token (the whole file)", lc, TUS, 201);
    const done = await reg({ name: "a.mp4", size: 10, fileId: "f1" });
    if (up("POST /upload/{linkId}/videos of a file whose upload completed", done, VIDEOS, 200))
      check("an uploaded file: its video, uploadToken null, uploaded true", done.json?.videoId === v.json?.videoId && done.json?.uploadToken === null &&
        done.json?.uploaded === true, done.text);

    // ---- reading a video ----
    const VIDEO = "/upload/{linkId}/videos/{videoId}";
    const got = await raw("GET", `${L}/videos/${v.json?.videoId ?? "x"}`);
    if (up("GET /upload/{linkId}/videos/{videoId}", got, VIDEO, 200))
      check("the link's video, as getVideoInfo's data, uploaded", got.json?.videoId === v.json?.videoId && got.json?.size === 10 &&
        got.json?.md5 === md5hex(bytes), got.text.slice(0, 200));
    up("GET /upload/{linkId}/videos/{videoId} of a video the link did not register", await raw("GET", `${L}/videos/${t0VideoId}`), VIDEO, 404);
    up("GET /upload/{linkId}/videos/{videoId} of an unknown link", await raw("GET", `/upload/${NO_LINK}/videos/${v.json?.videoId ?? "x"}`), VIDEO, 404);

    // ---- an expired link (aged in the database) ----
    if (haveSqlite) {
      const M = `/upload/${many.json?.data?.linkId ?? NO_LINK}`;
      const mv = await reg({ name: "m.mp4", size: 10, fileId: "m1" }, M);
      up("POST /upload/{linkId}/videos (a link of 3 uses)", mv, VIDEOS, 200);
      try {
        const rows = db(`UPDATE upload_links SET expires_ms = 1 WHERE link_id = '${many.json?.data?.linkId}'; SELECT changes();`).trim();
        check("a link aged in the database", rows === "1", rows);
      } catch (e) {
        check("a link aged in the database", false, `${e.stderr ?? e.message}`);
      }
      const gone = await raw("GET", M);
      if (up("GET /upload/{linkId} of an expired link", gone, "/upload/{linkId}", 410))
        check("410: the same page", gone.text === page.text, gone.text.slice(0, 100));
      up("GET /upload/{linkId}/info of an expired link", await raw("GET", `${M}/info`), "/upload/{linkId}/info", 410);
      up("POST /upload/{linkId}/videos of an expired link", await reg({ name: "m.mp4", size: 10, fileId: "m1" }, M), VIDEOS, 410);
      up("GET /upload/{linkId}/videos/{videoId} of an expired link (an open page follows its videos)",
        await raw("GET", `${M}/videos/${mv.json?.videoId ?? "x"}`), VIDEO, 200);
    }

    // ---- a link whose AccessKey was disabled ----
    if (haveAdmin) {
      let key;
      try {
        key = JSON.parse(admin("key", "create", "--name", "link-owner", "--json"));
      } catch (e) {
        check("admin: another account for a link", false, `${e.stdout ?? ""}${e.stderr ?? e.message}`);
      }
      if (key) {
        const k = await request({ path: LINK, body: form({ uses: "2" }), ak: key.accessKey, sk: key.secretKey });
        const K = `/upload/${k.json?.data?.linkId ?? NO_LINK}`;
        admin("key", "disable", key.accessKey);
        up("POST /upload/{linkId}/videos of a link whose AccessKey is disabled", await reg({ name: "k.mp4", size: 10, fileId: "k1" }, K), VIDEOS, 410);
        up("GET /upload/{linkId}/info of a link whose AccessKey is disabled (still open)", await raw("GET", `${K}/info`), "/upload/{linkId}/info", 200);
      }
    }

    // ---- the page's assets ----
    const ASSET = "/upload/assets/{file}";
    const names = [...page.text.matchAll(/(?:src|href)="\/upload\/assets\/([^"]+)"/g)].map((m) => m[1]);
    check("the page names its assets under /upload/assets/", names.length >= 2, page.text.slice(0, 300));
    for (const name of names) {
      const a = await raw("GET", `/upload/assets/${name}`);
      if (up(`GET /upload/assets/${name}`, a, ASSET, 200))
        check(`${name}: its ETag is the quoted SHA-256 of its bytes`, a.headers.etag === `"${crypto.createHash("sha256").update(a.bytes).digest("hex")}"`, a.headers.etag);
    }
    const first = `/upload/assets/${names[0] ?? "app.js"}`;
    const asset = await raw("GET", first);
    const nm = await raw("GET", first, { headers: { "If-None-Match": asset.headers.etag ?? "" } });
    if (up("GET /upload/assets/{file} with its ETag", nm, ASSET, 304))
      check("304: no body", nm.bytes.length === 0, nm.text.slice(0, 50));
    up("GET /upload/assets/{file} with its weak ETag in a list", await raw("GET", first, { headers: { "If-None-Match": `"x", W/${asset.headers.etag ?? ""}` } }), ASSET, 304);
    up("GET /upload/assets/{file} with another ETag", await raw("GET", first, { headers: { "If-None-Match": '"0000"' } }), ASSET, 200);
    const ah = await raw("HEAD", first);
    if (up("HEAD /upload/assets/{file}", ah, ASSET, 200))
      check("HEAD: no body, GET's length and ETag", ah.bytes.length === 0 && +ah.headers["content-length"] === asset.bytes.length &&
        ah.headers.etag === asset.headers.etag, JSON.stringify(ah.headers));
    up("GET /upload/assets/{file} of no such file", await raw("GET", "/upload/assets/nope.js"), ASSET, 404);
    up("GET /upload/assets/{file} below a directory", await raw("GET", "/upload/assets/x/app.js"), ASSET, 404);
  }
  const t0VideoId = (await tokenFor("not-a-link.mp4")).videoId ?? "x";
  await linkCases();

  // ---- rate limit (the server runs with a small burst for this) ----
  {
    let got, sent = 0;
    while (sent < 400 && !got) {
      const r = await request({ method: "GET", path: LIST, query: "pageSize=1" });
      sent++;
      if (r.status !== 200) got = r;
    }
    if (check(`rate limit answers 429 once the burst is spent (after ${sent} more requests)`, got?.status === 429,
      got ? got.text : "no 429 in 400 requests")) {
      validate("GET getVideoList over the rate limit", got, { apiPath: LIST, method: "GET" });
      check("429 carries code 429", got.json?.code === 429, got.text);
    }
  }
  agent.destroy();
}

try {
  if (mode === "spec") await specMode();
  else await liveMode();
} catch (e) {
  check(`${mode} checks ran to the end`, false, e.stack);
}
console.log(`openapi-check: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
