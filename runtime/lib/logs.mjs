// Log records from workerd, turned into the lines the emulator copies: one line per line of the record, each
// prefixed with the worker's name, and positions in the materialized scripts mapped to the original sources.
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import path from "node:path";

// workerd's own messages about a worker, e.g. its start-up failure (`Uncaught …`: global scope threw, import
// missing).
const serviceMessage = /^service core:user:([^:\s]+): /;
// What the console module of every worker (deployment.mjs) puts first.
const workerPrefix = /^\[([^\]\s]+)\] /;

// The parts of a record: the worker it is about ("workerd" when none), the text without its prefix, and whether
// it is a worker's start-up failure.
export function parseRecord(message) {
  const service = serviceMessage.exec(message);
  const match = service ?? workerPrefix.exec(message);
  if (match === null) return { worker: "workerd", text: message, startupFailure: false };
  const text = message.slice(match[0].length);
  return { worker: match[1], text, startupFailure: service !== null && text.startsWith("Uncaught") };
}

export function writeLines(worker, text) {
  for (const line of text.split("\n")) process.stderr.write(`[${worker}] ${line}\n`);
}

// Maps `file:///<scripts>/<worker>/<module>:L:C` through the module's source map, read once per deployment;
// a position in a module without one becomes `<module>:L:C`, as Cloudflare names it.
export class StackMapper {
  #scripts;
  #maps = new Map();
  #position;

  constructor(scriptsDir) {
    this.#scripts = scriptsDir;
    const escaped = scriptsDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    this.#position = new RegExp(`file://(${escaped}/[^\\s:()]+):(\\d+):(\\d+)`, "g");
  }

  // A new deployment's scripts are on disk.
  reset() {
    this.#maps.clear();
  }

  map(text) {
    return text.replace(this.#position, (_, file, line, column) => {
      const entry = this.#load(file)?.findEntry(Number(line) - 1, Number(column) - 1);
      if (entry?.originalSource === undefined) return `${this.#module(file)}:${line}:${column}`;
      return `${this.#source(file, entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    });
  }

  #workerDir(file) {
    return path.join(this.#scripts, path.relative(this.#scripts, file).split(path.sep)[0]);
  }

  #module(file) {
    return path.relative(this.#workerDir(file), file);
  }

  #load(file) {
    if (!this.#maps.has(file)) this.#maps.set(file, readMap(file));
    return this.#maps.get(file);
  }

  // The original file named as the bundle's map names it, relative to the worker's scripts and without the
  // leading `../` that lead out of the bundler's output folder (e.g. `dome-api/src/index.ts`).
  #source(file, source) {
    if (/^[a-z]+:/.test(source)) return source;
    const relative = path.relative(this.#workerDir(file), path.resolve(path.dirname(file), source));
    return relative.replace(/^(\.\.\/)+/, "");
  }
}

// `<module>.map` beside the module, else the file its sourceMappingURL names; null when neither is readable.
function readMap(file) {
  for (const candidate of [`${file}.map`, mappingURL(file)]) {
    if (candidate === null) continue;
    try {
      return new SourceMap(JSON.parse(readFileSync(candidate, "utf8")));
    } catch {}
  }
  return null;
}

function mappingURL(file) {
  try {
    const match = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(file, "utf8"));
    return match === null || match[1].includes(":") ? null : path.resolve(path.dirname(file), match[1]);
  } catch {
    return null;
  }
}
