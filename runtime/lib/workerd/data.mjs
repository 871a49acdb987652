// The data worker `__dome_data`: the emulator's REST API reaches the account's D1 databases, KV namespaces, R2
// buckets and queues through it, so that data lives in one place (miniflare's storage) for workers and API alike.
//
// env.INDEX maps each resource to the binding holding it: {d1: {uuid: b}, kv: {id: b}, r2: {bucket: b},
// queues: {name: b}}. Buckets are the notifying wrapper (r2-notify.mjs), so writes through the API notify too.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [kind, name, ...rest] = url.pathname.slice(1).split("/");
    const index = { d1: env.INDEX.d1, kv: env.INDEX.kv, r2: env.INDEX.r2, queues: env.INDEX.queues }[kind];
    const binding = index?.[decodeURIComponent(name ?? "")];
    if (binding === undefined) return error(404, `no such resource: ${url.pathname}`);
    const target = env[binding];
    const what = rest.join("/");
    try {
      switch (kind) {
        case "d1":
          if (what === "query" && request.method === "POST") return await d1Query(target, await request.json());
          break;
        case "kv":
          return await kv(target, request, url, what);
        case "r2":
          return await r2(target, request, url, what);
        case "queues":
          if (what === "messages" && request.method === "POST") return await queueSend(target, await request.json());
          break;
      }
    } catch (e) {
      return error(kind === "d1" ? 400 : 500, e.message);
    }
    return error(404, `no such route: ${request.method} ${url.pathname}`);
  },
};

function error(status, message) {
  return Response.json({ error: message }, { status });
}

// One batch (atomic, as D1 runs a batch), answered in the D1 REST API's shape. The batch goes through the D1
// binding's own query call with the columns-and-rows format, which db.batch() uses and then turns into objects:
// raw answers need the columns in order, and even when no row came back. That call (workerd's d1-api, pinned
// with miniflare) takes a tracing span last, which it only marks when the batch fails.
const noSpan = { setAttribute() {} };

async function d1Query(db, { statements, raw }) {
  const results = await db.alwaysPrimarySession._sendOrThrow(
    "/query",
    statements.map((s) => s.sql),
    statements.map((s) => s.params ?? []),
    "ROWS_AND_COLUMNS",
    noSpan,
  );
  return Response.json(
    results.map(({ results: { columns, rows }, meta }) => ({
      results: raw ? { columns, rows } : rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]]))),
      success: true,
      meta: {
        changes: meta.changes,
        last_row_id: meta.last_row_id,
        duration: meta.duration,
        rows_read: meta.rows_read,
        rows_written: meta.rows_written,
        changed_db: meta.changed_db,
        size_after: meta.size_after,
      },
    })),
  );
}

async function kv(ns, request, url, what) {
  const q = url.searchParams;
  if (what === "keys" && request.method === "GET") {
    const limit = q.get("limit");
    const list = await ns.list({
      prefix: q.get("prefix") || undefined,
      cursor: q.get("cursor") || undefined,
      limit: limit ? Number(limit) : undefined,
    });
    return Response.json({
      keys: list.keys.map((k) => ({ name: k.name, expiration: k.expiration, metadata: k.metadata })),
      list_complete: list.list_complete,
      cursor: list.cursor ?? "",
    });
  }
  if (!what.startsWith("values/")) return error(404, `no such route: ${request.method} ${url.pathname}`);
  const key = decodeURIComponent(what.slice("values/".length));
  switch (request.method) {
    case "GET": {
      const { value, metadata } = await ns.getWithMetadata(key, "arrayBuffer");
      if (value === null) return error(404, `key not found: ${key}`);
      const headers = metadata === null ? {} : { "CF-KV-Metadata": JSON.stringify(metadata) };
      return new Response(value, { headers });
    }
    case "PUT": {
      const metadata = request.headers.get("CF-KV-Metadata");
      const expiration = q.get("expiration");
      const ttl = q.get("expiration_ttl");
      await ns.put(key, await request.arrayBuffer(), {
        expiration: expiration ? Number(expiration) : undefined,
        expirationTtl: ttl ? Number(ttl) : undefined,
        metadata: metadata ? JSON.parse(metadata) : undefined,
      });
      return Response.json({});
    }
    case "DELETE":
      await ns.delete(key);
      return Response.json({});
  }
  return error(405, `method not allowed: ${request.method}`);
}

async function r2(bucket, request, url, what) {
  const q = url.searchParams;
  if (what === "objects" && request.method === "GET") {
    const limit = q.get("limit");
    const list = await bucket.list({
      prefix: q.get("prefix") || undefined,
      cursor: q.get("cursor") || undefined,
      limit: limit ? Number(limit) : undefined,
    });
    return Response.json({
      objects: list.objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag, uploaded: o.uploaded })),
      truncated: list.truncated,
      cursor: list.truncated ? list.cursor : "",
    });
  }
  if (!what.startsWith("objects/")) return error(404, `no such route: ${request.method} ${url.pathname}`);
  const key = decodeURIComponent(what.slice("objects/".length));
  switch (request.method) {
    case "GET": {
      const object = await bucket.get(key);
      if (object === null) return error(404, `object not found: ${key}`);
      const headers = { ETag: object.httpEtag };
      if (object.httpMetadata?.contentType) headers["Content-Type"] = object.httpMetadata.contentType;
      return new Response(object.body, { headers });
    }
    case "PUT": {
      const contentType = request.headers.get("Content-Type");
      const object = await bucket.put(key, await request.arrayBuffer(), {
        httpMetadata: contentType ? { contentType } : undefined,
      });
      return Response.json({ key: object.key, size: object.size, etag: object.etag, uploaded: object.uploaded });
    }
    case "DELETE":
      await bucket.delete(key);
      return Response.json({});
  }
  return error(405, `method not allowed: ${request.method}`);
}

async function queueSend(queue, { messages }) {
  await queue.sendBatch(
    messages.map((m) => ({ body: m.body, contentType: m.contentType ?? "json", delaySeconds: m.delaySeconds })),
  );
  return Response.json({});
}
