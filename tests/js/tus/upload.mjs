// One tus-js-client upload in Node, driven by tests/scripts/test_tus_js.sh.
// The script decides what to check; this file only uploads and reports what
// happened, one JSON object per line on stdout:
//   {"ev":"start","pid":N}                      before the first request
//   {"ev":"previous","count":N,"url":U}          --store: what findPreviousUploads found
//   {"ev":"url","url":U}                         the upload URL is known (created or resumed)
//   {"ev":"res","method":M,"status":S,"reqOffset":O,"offset":O2,"reqLength":L,"reqDefer":D,
//    "reqConcat":C,"url":U}                     every answer: the request's Upload-Offset,
//                                                Upload-Length, Upload-Defer-Length and
//                                                Upload-Concat, the answer's Upload-Offset
//   {"ev":"neterr","message":T,"attempt":N}      --retry-delays: a request failed (no answer, or
//                                                an error status); tus-js-client may retry
//   {"ev":"success","url":U,"ms":T,"patchBytes":B}   B: bytes this process sent in PATCH bodies
//   {"ev":"error","status":S,"message":T}        S: the HTTP status, 0 without an answer
// Exit status 0 on success, 1 on an upload error, 2 on a usage error.
//
// Options (--name value):
//   --endpoint URL      <uploadUrl>/files/ ("" for none: with --upload-url, no new upload
//                       is created when the server refuses that one)
//   --token T           sent as `Authorization: UpToken T` on every request; left out: no header
//   --file PATH         the bytes
//   --chunk-size N      bytes per PATCH (default: one PATCH for the whole upload)
//   --parallel N        parallelUploads (concatenation)
//   --stream            give tus-js-client a plain Readable (not an fs.ReadStream)
//   --deferred          uploadLengthDeferred: the length is sent when the stream ends
//   --store PATH        FileUrlStorage at PATH; an upload found there is resumed
//   --require-previous  with --store: fail unless a previous upload is found
//   --upload-url URL    resume this upload URL (no creation)
//   --retry-delays L    comma-separated ms (default: none, the first failure is final)
//   --filetype T        metadata filetype (default video/mp4)
import fs from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { parseArgs } from "node:util";
import * as tus from "tus-js-client";

const usage = (msg) => {
  process.stderr.write(`upload.mjs: ${msg}\n`);
  process.exit(2);
};
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      endpoint: { type: "string" },
      token: { type: "string" },
      file: { type: "string" },
      "chunk-size": { type: "string" },
      parallel: { type: "string" },
      stream: { type: "boolean", default: false },
      deferred: { type: "boolean", default: false },
      store: { type: "string" },
      "require-previous": { type: "boolean", default: false },
      "upload-url": { type: "string" },
      "retry-delays": { type: "string" },
      filetype: { type: "string", default: "video/mp4" },
    },
    strict: true,
  }));
} catch (e) {
  usage(e.message);
}
if (!opts.file || !(opts.endpoint || opts["upload-url"])) usage("--file and --endpoint or --upload-url are required");

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const started = Date.now();
let patchBytes = 0;
let ended = false;
// tus-js-client waits on promises only: a bug that leaves one pending lets
// the event loop drain, and Node exits without onSuccess or onError.
process.on("exit", () => {
  if (!ended) emit({ ev: "error", status: 0, message: "Node exited before onSuccess or onError (a promise never settled)" });
});

function input() {
  const file = fs.createReadStream(opts.file);
  if (!opts.stream) return file;
  // A PassThrough is a Readable but not an fs.ReadStream: tus-js-client
  // reads it as a stream of unknown length (its StreamSource), not as a file.
  return file.pipe(new PassThrough({ highWaterMark: 1 << 20 }));
}

const options = {
  endpoint: opts.endpoint || null,
  headers: opts.token !== undefined ? { Authorization: `UpToken ${opts.token}` } : {},
  metadata: { filename: path.basename(opts.file), filetype: opts.filetype },
  retryDelays: opts["retry-delays"] ? opts["retry-delays"].split(",").map(Number) : null,
  onUploadUrlAvailable: () => emit({ ev: "url", url: upload.url }),
  onAfterResponse: (req, res) => {
    const method = req.getMethod();
    const reqOffset = req.getHeader("Upload-Offset");
    const offset = res.getHeader("Upload-Offset");
    // A PATCH's body is what moved the offset (the server answers 204 only
    // when those bytes are durable).
    if (method === "PATCH" && res.getStatus() === 204 && reqOffset !== undefined && offset !== undefined) {
      patchBytes += Number(offset) - Number(reqOffset);
    }
    emit({ ev: "res", method, status: res.getStatus(), reqOffset: reqOffset ?? null, offset: offset ?? null,
      reqLength: req.getHeader("Upload-Length") ?? null, reqDefer: req.getHeader("Upload-Defer-Length") ?? null,
      reqConcat: req.getHeader("Upload-Concat") ?? null, url: req.getURL() });
  },
  onShouldRetry: (err, attempt, o) => {
    emit({ ev: "neterr", message: String(err.message).split("\n")[0], attempt });
    const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
    // tus-js-client's default rule: no retry of a 4xx but 409 and 423.
    return !(status >= 400 && status < 500 && status !== 409 && status !== 423) && o.retryDelays != null;
  },
  onSuccess: () => {
    ended = true;
    emit({ ev: "success", url: upload.url, ms: Date.now() - started, patchBytes });
    process.exitCode = 0;
  },
  onError: (err) => {
    const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
    const body = err.originalResponse ? String(err.originalResponse.getBody() ?? "").slice(0, 300) : "";
    ended = true;
    emit({ ev: "error", status, message: String(err.message).split("\n")[0], body });
    process.exitCode = 1;
  },
};
if (opts["chunk-size"]) options.chunkSize = Number(opts["chunk-size"]);
if (opts.parallel) options.parallelUploads = Number(opts.parallel);
if (opts.deferred) options.uploadLengthDeferred = true;
else if (opts.stream) options.uploadSize = fs.statSync(opts.file).size;
if (opts["upload-url"]) options.uploadUrl = opts["upload-url"];
if (opts.store) options.urlStorage = new tus.FileUrlStorage(opts.store);

const upload = new tus.Upload(input(), options);
process.exitCode = 1; // until onSuccess
emit({ ev: "start", pid: process.pid });
if (opts.store) {
  const previous = await upload.findPreviousUploads();
  emit({ ev: "previous", count: previous.length, url: previous[0]?.uploadUrl ?? null });
  if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
  else if (opts["require-previous"]) {
    ended = true;
    emit({ ev: "error", status: 0, message: "no previous upload in the URL storage" });
    process.exit(1);
  }
}
upload.start();
