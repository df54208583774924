// Registers N videos with signed getUploadToken calls (8 at a time) and
// prints one uploadToken per line: the creation phase of bench/tus.sh spreads
// its POSTs over many fileKeys, as many devices would, so that no fileKey
// reaches max-tus-uploads-per-file.
//   node bench/js/tokens.mjs URL AK SK N
// Signing: WS3-HMAC-SHA256 of a form POST, content-type and host signed
// (docs/api.md, "Signing requests"; bench/lib/ws3.sh does the same in bash).
import crypto from "node:crypto";
import http from "node:http";

const [url, ak, sk, n] = process.argv.slice(2);
if (!url || !ak || !sk || !(Number(n) > 0)) {
  process.stderr.write("usage: node tokens.mjs URL AK SK N\n");
  process.exit(2);
}
const base = new URL(url);
const PATH = "/vod/videoManage/getUploadToken";
const CT = "application/x-www-form-urlencoded";
const BODY = "originFileName=bench.mp4";
const sha256hex = (s) => crypto.createHash("sha256").update(s).digest("hex");
const agent = new http.Agent({keepAlive: true, maxSockets: 8});

function token() {
  const ts = String(Math.floor(Date.now() / 1000));
  const canonical = ["POST", PATH, "", `content-type:${CT}\nhost:${base.host}\n`, "content-type;host", sha256hex(BODY)].join("\n");
  const sig = crypto.createHmac("sha256", sk).update(`WS3-HMAC-SHA256\n${ts}\n${sha256hex(canonical)}`).digest("hex");
  const headers = {"content-type": CT, host: base.host, "x-ws-accesskey": ak, "x-ws-timestamp": ts,
    authorization: `WS3-HMAC-SHA256 Credential=${ak}, SignedHeaders=content-type;host, Signature=${sig}`};
  return new Promise((resolve, reject) => {
    const req = http.request({host: base.hostname, port: base.port, method: "POST", path: PATH, headers, agent}, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => {
        const t = res.statusCode === 200 ? JSON.parse(text).data?.uploadToken : undefined;
        if (t) resolve(t);
        else reject(new Error(`getUploadToken answered ${res.statusCode}: ${text.slice(0, 200)}`));
      });
    });
    req.on("error", reject);
    req.end(BODY);
  });
}

const out = [];
let next = 0;
async function worker() {
  while (next < Number(n)) {
    next++;
    out.push(await token());
  }
}
try {
  await Promise.all(Array.from({length: 8}, worker));
  process.stdout.write(out.join("\n") + "\n");
  agent.destroy();
} catch (e) {
  process.stderr.write(`tokens.mjs: ${e.message}\n`);
  process.exit(1);
}
