// The local runtime's host: runs the emulated account's workers in workerd through miniflare, for the Go
// emulator (internal/runtime), which starts it as
//
//   node runtime/host.mjs --dir <state dir> --callback http://127.0.0.1:<port>
//
// It prints one line on stdout when ready, {"control":"http://127.0.0.1:<port>"}, logs on stderr (one line per
// line, prefixed with the worker's name), and exits when its stdin closes, so it never outlives the emulator.
// Control API: PUT /deployment (run this Deployment), GET /healthz. The contract is docs/local.md's
// (How it fits) and internal/runtime's; the Deployment's shape is read in lib/deployment.mjs.
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { parseArgs, stripVTControlCharacters } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";
import { build } from "./lib/deployment.mjs";
import { StackMapper, parseRecord, writeLines } from "./lib/logs.mjs";

const { values: args } = parseArgs({ options: { dir: { type: "string" }, callback: { type: "string" } } });
if (!args.dir || !args.callback) {
  writeLines("host", "usage: node host.mjs --dir <state dir> --callback http://127.0.0.1:<port>");
  process.exit(2);
}
const dir = path.resolve(args.dir);
const scriptsDir = path.join(dir, "scripts");
const dataDir = path.join(dir, "data");
const mapper = new StackMapper(scriptsDir);

// miniflare's own messages go to stderr too: stdout carries only the ready line.
class StderrLog extends Log {
  log(message) {
    writeLines("miniflare", stripVTControlCharacters(message));
  }
}

// Start-up failures workerd reported during the deployment being applied.
let failures = [];

function onRecord({ message }) {
  const record = parseRecord(message);
  if (record.startupFailure) failures.push({ script: record.worker, message: record.text });
  writeLines(record.worker, mapper.map(record.text));
}

const shared = {
  host: "127.0.0.1",
  // workerd binds a port of its own choosing (choosing one here and handing it over races with other
  // processes), and miniflare keeps it across reloads; the emulator reads it from each PUT's answer.
  port: 0,
  // Requests carry the original URL; with this secret workerd trusts it and sets Host from it.
  unsafeProxySharedSecret: randomBytes(32).toString("hex"),
  // Cron: GET /cdn-cgi/handler/scheduled?cron=… on the entry socket.
  unsafeTriggerHandlers: true,
  // Fixed: miniflare would otherwise fetch it from Cloudflare, and there is no internet.
  cf: { colo: "LCL", country: "US", city: "Local", continent: "NA", timezone: "UTC", asn: 0, clientTcpRtt: 0 },
  structuredWorkerdLogs: true,
  handleStructuredLogs: onRecord,
  log: new StderrLog(LogLevel.WARN, { prefix: "" }),
  // Under <dir>/data, so the account's data outlives the host.
  d1Persist: path.join(dataDir, "d1"),
  kvPersist: path.join(dataDir, "kv"),
  r2Persist: path.join(dataDir, "r2"),
  durableObjectsPersist: path.join(dataDir, "do"),
  cachePersist: path.join(dataDir, "cache"),
};

let mf; // the Miniflare, once a deployment started
let lastGood; // what build() made of the last deployment that started

// Writes the deployment's scripts and runs its workers; throws when workerd does not start them.
async function apply(built) {
  await rm(scriptsDir, { recursive: true, force: true });
  for (const file of built.files) {
    await mkdir(path.dirname(file.path), { recursive: true });
    await writeFile(file.path, file.contents);
  }
  mapper.reset();
  failures = [];
  const options = { ...shared, workers: built.workers };
  if (mf === undefined) {
    mf = new Miniflare(options);
  } else {
    await mf.setOptions(options);
  }
  return (await mf.ready).origin;
}

async function deploy(deployment) {
  const built = await build(deployment, { scriptsDir, callback: args.callback });
  try {
    const entry = await apply(built);
    lastGood = built;
    for (const line of built.notRun) writeLines("host", line);
    return [200, { entry, secret: shared.unsafeProxySharedSecret }];
  } catch (e) {
    // workerd's report of the failing worker may come after miniflare gives up on it.
    if (failures.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    const failure = failures[0];
    await restore();
    if (failure === undefined) return [500, { error: { message: e.message } }];
    const message = failure.message.split("\n").slice(0, 10).join("\n");
    return [422, { error: { script: failure.script, message } }];
  }
}

// Brings the last deployment that started back, so the other workers keep serving.
async function restore() {
  try {
    if (lastGood !== undefined) {
      await apply(lastGood);
      return;
    }
  } catch (e) {
    writeLines("host", `restoring the last deployment failed: ${e.stack}`);
  }
  // Nothing that runs: the next deployment starts afresh.
  await mf?.dispose().catch(() => {});
  mf = undefined;
}

// workerd answers (any answer from the data worker) when the runtime is up; before any deployment the host is.
async function healthy() {
  if (mf === undefined) return lastGood === undefined;
  try {
    await mf.ready;
    await (await mf.dispatchFetch("http://localhost/", { headers: { "MF-Route-Override": "__dome_data" } })).arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

// PUTs are applied one at a time, in order.
let pending = Promise.resolve();
function serialized(task) {
  const run = pending.then(task);
  pending = run.catch(() => {});
  return run;
}

const server = http.createServer(async (req, res) => {
  let status;
  let body;
  try {
    if (req.method === "PUT" && req.url === "/deployment") {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const deployment = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      [status, body] = await serialized(() => deploy(deployment));
    } else if (req.method === "GET" && req.url === "/healthz") {
      [status, body] = (await healthy()) ? [200, { ok: true }] : [503, { error: { message: "workerd is not running" } }];
    } else {
      [status, body] = [404, { error: { message: `no such route: ${req.method} ${req.url}` } }];
    }
  } catch (e) {
    [status, body] = [500, { error: { message: e.message } }];
  }
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ control: `http://127.0.0.1:${server.address().port}` })}\n`);
});

// The emulator holds our stdin: when it closes, the emulator is gone, and so must workerd be.
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  await mf?.dispose().catch(() => {});
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
// Nor can anyone read our logs then; a write to the closed pipe must not end us before workerd.
process.stderr.on("error", stop);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
