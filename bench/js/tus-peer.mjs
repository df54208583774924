// The @tus/server peer the benchmarks compare vodup with: tus 1.0 on
// 127.0.0.1:PORT at /files/, its FileStore writing under DIR (each upload a
// data file and a .json metadata file; it fsyncs neither).  One process,
// Node's default single event loop, as its README runs it.
//   node bench/js/tus-peer.mjs PORT DIR
// (with NODE_PATH naming the node_modules that `npm ci` made from
// bench/js/package-lock.json).
import {createRequire} from "node:module";
import path from "node:path";

const [port, dir] = process.argv.slice(2);
if (!port || !dir) {
  console.error("usage: node tus-peer.mjs PORT DIR");
  process.exit(2);
}
const require = createRequire(path.join(process.env.NODE_PATH || ".", "noop.js"));
const {Server} = require("@tus/server");
const {FileStore} = require("@tus/file-store");
const server = new Server({path: "/files", datastore: new FileStore({directory: dir})});
server.listen({host: "127.0.0.1", port: Number(port)}, () => console.log(`tus-peer: listening on ${port}`));
