// A Deployment (the emulator's snapshot of the account, see docs in host.mjs) turned into the files to write
// under <dir>/scripts and the miniflare workers that run them.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const workerdModule = (name) => path.join(here, "workerd", name);

// The workers the host adds beside the account's; their names are the host's (a user worker so named would clash).
const DATA = "__dome_data";
const R2 = "__dome_r2";
const CALLBACK = "__dome_callback";

const moduleTypes = { esm: "ESModule", cjs: "CommonJS", text: "Text", data: "Data", wasm: "CompiledWasm" };

// Returns {files: [{path, contents}], workers, notRun}: notRun lists the bindings workerd cannot run. Every file is read here, so that a failed deployment can be
// replaced by the last good one even after the emulator's content files changed.
export async function build(deployment, { scriptsDir, callback }) {
  const files = [];
  const index = resourceIndex(deployment);
  const workers = [dataWorker(deployment, index)];
  let usesCallback = false;
  const notRun = [];
  for (const w of deployment.workers) {
    const root = path.join(scriptsDir, w.name);
    const modules = [];
    const add = (name, type, contents) => {
      if (!(type in moduleTypes) && type !== "sourcemap") throw new Error(`worker ${w.name}: module ${name}: unsupported type ${type}`);
      const file = path.join(root, name);
      files.push({ path: file, contents });
      if (type !== "sourcemap") modules.push({ type: moduleTypes[type], path: file, contents });
    };
    // The entry module comes first: workerd runs the first module.
    add("__dome_entry.mjs", "esm", entryModule(w.mainModule));
    add("__dome_console.mjs", "esm", consoleModule(w.name));
    for (const m of w.modules) add(m.name, m.type, await readFile(m.path));
    const { options, callback: usesIt } = workerBindings(w, deployment, index, notRun);
    usesCallback ||= usesIt;
    workers.push({
      name: w.name,
      modulesRoot: root,
      modules,
      compatibilityDate: w.compatibilityDate,
      compatibilityFlags: w.compatibilityFlags ?? [],
      ...options,
      additionalUnboundDurableObjects: (w.durableObjects ?? []).map((d) => ({
        className: d.className,
        useSQLite: d.sqlite,
      })),
      queueConsumers: Object.fromEntries(
        (w.consumers ?? []).map((c) => [
          c.queue,
          {
            maxBatchSize: c.maxBatchSize,
            maxBatchTimeout: c.maxWaitTimeMs / 1000,
            maxRetries: c.maxRetries,
            retryDelay: c.retryDelaySeconds,
            deadLetterQueue: c.deadLetterQueue || undefined,
          },
        ]),
      ),
    });
  }
  // Wrapped bindings' workers: only when something binds them (miniflare would run an unbound one as a worker).
  if (Object.keys(index.r2).length > 0) {
    workers.push({
      name: R2,
      modules: [{ type: "ESModule", path: workerdModule("r2-notify.mjs") }],
      r2Buckets: index.bucketBindings,
      queueProducers: index.queueBindings,
    });
  }
  if (usesCallback) {
    const { host } = new URL(callback);
    workers.push({
      name: CALLBACK,
      modules: [{ type: "ESModule", path: workerdModule("callback.mjs") }],
      serviceBindings: { CALLBACK: { external: { address: host, http: {} } } },
    });
  }
  return { files, workers, notRun };
}

// Every D1 database, KV namespace, bucket and queue of the deployment under an indexed binding name, for the
// data worker and the R2 wrapper; r2 maps a bucket to its wrapped binding's designator.
function resourceIndex(d) {
  const named = (prefix, names) => Object.fromEntries(names.map((n, i) => [n, `${prefix}${i}`]));
  const d1 = named("D1_", d.d1Databases ?? []);
  const kv = named("KV_", d.kvNamespaces ?? []);
  const queues = named("Q_", d.queues ?? []);
  const buckets = d.buckets ?? [];
  const bucketBindings = Object.fromEntries(buckets.map((b, i) => [`B_${i}`, b.name]));
  const r2 = Object.fromEntries(
    buckets.map((b, i) => [
      b.name,
      {
        scriptName: R2,
        bindings: {
          CONFIG: {
            account: d.accountId,
            bucket: b.name,
            binding: `B_${i}`,
            rules: (b.notifications ?? []).map((n) => ({
              queue: queues[n.queue] ?? missing(`bucket ${b.name}: notifications to ${n.queue}: no such queue`),
              actions: n.actions,
              prefix: n.prefix ?? "",
              suffix: n.suffix ?? "",
            })),
          },
        },
      },
    ]),
  );
  const queueBindings = Object.fromEntries(Object.entries(queues).map(([name, b]) => [b, { queueName: name }]));
  return { d1, kv, queues, r2, bucketBindings, queueBindings };
}

function missing(message) {
  throw new Error(message);
}

function dataWorker(d, index) {
  const flip = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [v, k]));
  const r2 = Object.fromEntries(Object.keys(index.r2).map((name, i) => [name, `R2_${i}`]));
  return {
    name: DATA,
    modulesRoot: workerdModule("."),
    modules: [{ type: "ESModule", path: workerdModule("data.mjs") }],
    compatibilityDate: "2025-04-15",
    bindings: { INDEX: { d1: index.d1, kv: index.kv, r2, queues: index.queues } },
    d1Databases: flip(index.d1),
    kvNamespaces: flip(index.kv),
    queueProducers: index.queueBindings,
    wrappedBindings: Object.fromEntries(Object.entries(r2).map(([name, b]) => [b, index.r2[name]])),
  };
}

// The miniflare options of a worker's bindings, and whether one needs the callback server; bindings it cannot
// run are added to notRun.
function workerBindings(w, d, index, notRun) {
  const o = {
    bindings: {},
    d1Databases: {},
    kvNamespaces: {},
    queueProducers: {},
    serviceBindings: {},
    durableObjects: {},
    wrappedBindings: {},
  };
  let callback = false;
  for (const b of w.bindings ?? []) {
    switch (b.type) {
      case "plain_text":
      case "secret_text":
        o.bindings[b.name] = b.text;
        break;
      case "json":
        o.bindings[b.name] = b.json;
        break;
      case "d1":
        o.d1Databases[b.name] = b.id;
        break;
      case "kv_namespace":
        o.kvNamespaces[b.name] = b.namespaceId;
        break;
      case "r2_bucket":
        o.wrappedBindings[b.name] = index.r2[b.bucket] ?? missing(`worker ${w.name}: binding ${b.name}: no bucket ${b.bucket}`);
        break;
      case "queue":
        o.queueProducers[b.name] = { queueName: b.queue };
        break;
      case "service":
        o.serviceBindings[b.name] = b.entrypoint ? { name: b.service, entrypoint: b.entrypoint } : b.service;
        break;
      case "durable_object_namespace": {
        const owner = b.scriptName ? d.workers.find((x) => x.name === b.scriptName) : w;
        const declared = owner?.durableObjects?.find((x) => x.className === b.className);
        o.durableObjects[b.name] = {
          className: b.className,
          scriptName: b.scriptName || undefined,
          useSQLite: declared?.sqlite,
        };
        break;
      }
      case "vectorize":
        o.wrappedBindings[b.name] = { scriptName: CALLBACK, bindings: { KIND: "vectorize", INDEX: b.index } };
        callback = true;
        break;
      case "ai":
        o.wrappedBindings[b.name] = { scriptName: CALLBACK, bindings: { KIND: "ai" } };
        callback = true;
        break;
      default:
        // Cloudflare accepts it (Analytics Engine, Hyperdrive, ...), so the upload stands; the worker runs
        // without it rather than not at all, and the log says so.
        notRun.push(`worker ${w.name}: binding ${b.name} of type ${b.type} does not run locally; env.${b.name} is undefined`);
    }
  }
  return { options: o, callback };
}

// Patches console so every record names its worker: workerd's structured logs do not.
function consoleModule(worker) {
  const prefix = JSON.stringify(`[${worker}]`);
  return `for (const level of ["log", "info", "warn", "error", "debug"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => original(${prefix}, ...args);
}
`;
}

// The worker's real entry: the console module first, then the user's main module re-exported with its fetch,
// queue and scheduled handlers logging an uncaught exception's stack (workerd reports it without one).
function entryModule(mainModule) {
  const main = JSON.stringify(`./${mainModule}`);
  return `import "./__dome_console.mjs";
import * as user from ${main};
export * from ${main};

const handlers = ["fetch", "queue", "scheduled"];

function logged(handler) {
  return async function (...args) {
    try {
      return await handler.apply(this, args);
    } catch (e) {
      console.error(e?.stack ?? String(e));
      throw e;
    }
  };
}

function wrap(exported) {
  // A WorkerEntrypoint class: a subclass whose handlers log.
  if (typeof exported === "function") {
    const Wrapped = class extends exported {};
    for (const h of handlers) {
      if (typeof exported.prototype[h] === "function") Wrapped.prototype[h] = logged(exported.prototype[h]);
    }
    return Wrapped;
  }
  const wrapped = { ...exported };
  for (const h of handlers) if (typeof exported?.[h] === "function") wrapped[h] = logged(exported[h]);
  return wrapped;
}

export default wrap(user.default);
`;
}
