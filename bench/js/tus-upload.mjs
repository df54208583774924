// The client of bench/tus.sh: tus-js-client 4.3.1 in Node uploading files at
// once, one tus.Upload per file, all in this one process (as a page or Uppy
// uploading several files does), and the time from the first request to the
// last upload's success.
//   node bench/js/tus-upload.mjs --endpoint URL [--chunk-size N] \
//        --file PATH [--token T] [--file PATH [--token T]] ...
// --chunk-size: bytes per PATCH (default: one PATCH per upload).
// --token T (as many as --file, or none): sent as `Authorization: UpToken T`
// with every request of that file's upload (vodup); none for the peer.
// Prints one JSON line: {"ok":true,"ms":T,"bytes":B,"urls":[...]} or
// {"ok":false,"error":...}; exit status 0 only when every upload succeeded.
// No retries: a failed request fails the run.  NODE_PATH names the
// node_modules that `npm ci` made from bench/js/package-lock.json.
import fs from "node:fs";
import path from "node:path";
import {createRequire} from "node:module";
import {parseArgs} from "node:util";

const require = createRequire(path.join(process.env.NODE_PATH || ".", "noop.js"));
const tus = require("tus-js-client");

const fail = (error) => {
  process.stdout.write(JSON.stringify({ok: false, error}) + "\n");
  process.exit(1);
};
let opts;
try {
  ({values: opts} = parseArgs({
    options: {
      endpoint: {type: "string"},
      "chunk-size": {type: "string"},
      file: {type: "string", multiple: true},
      token: {type: "string", multiple: true},
    },
    strict: true,
  }));
} catch (e) {
  process.stderr.write(`tus-upload.mjs: ${e.message}\n`);
  process.exit(2);
}
const files = opts.file || [];
const tokens = opts.token || [];
if (!opts.endpoint || !files.length || (tokens.length && tokens.length !== files.length)) {
  process.stderr.write("tus-upload.mjs: --endpoint and --file are required; --token once per --file or never\n");
  process.exit(2);
}

function upload(file, token) {
  return new Promise((resolve, reject) => {
    const options = {
      endpoint: opts.endpoint,
      headers: token ? {Authorization: `UpToken ${token}`} : {},
      metadata: {filename: path.basename(file), filetype: "video/mp4"},
      retryDelays: null,
      storeFingerprintForResuming: false,
      onSuccess: () => resolve(u.url),
      onError: (err) => {
        const res = err.originalResponse;
        reject(new Error(`${file}: ${res ? res.getStatus() + " " : ""}${String(err.message).split("\n")[0]}`));
      },
    };
    if (opts["chunk-size"]) options.chunkSize = Number(opts["chunk-size"]);
    const u = new tus.Upload(fs.createReadStream(file), options);
    u.start();
  });
}

const bytes = files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
const t0 = process.hrtime.bigint();
try {
  const urls = await Promise.all(files.map((f, i) => upload(f, tokens[i])));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ok: true, ms, bytes, urls}) + "\n");
} catch (e) {
  fail(e.message);
}
