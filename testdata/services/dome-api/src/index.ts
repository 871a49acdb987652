// dome-api is Dome's public API. It serves
//   POST /notes        store a note ({"title", "body"} as JSON, or text): 201 {"id"}
//   GET  /notes        the latest notes
//   GET  /notes/:id    a note: its row, body and summary
//   GET  /search?q=    the notes nearest to q: {"query", "results": [{"id", "title", "score"}]}
// through silo and constellation, on its own hostname or under <zone>/api/.
import { logger } from "../../shared/log";

interface Env {
  AI: Ai;
  CONSTELLATION: Fetcher;
  SILO: Fetcher;
  VERSION: string;
  LOG_LEVEL: string;
  CORS_ORIGIN?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    // The route dome.example/api/* hands over paths under /api.
    const path = url.pathname.replace(/^\/api(?=\/|$)/, "") || "/";
    logger(env.LOG_LEVEL, { worker: "dome-api" })("debug", "request", { method: request.method, path });

    if (request.method === "OPTIONS" && env.CORS_ORIGIN) return cors(new Response(null, { status: 204 }), env.CORS_ORIGIN);
    return cors(await route(request, env, path, url.search), env.CORS_ORIGIN);
  },
} satisfies ExportedHandler<Env>;

// route serves the public routes only: silo's other ones (PUT /notes/:id/summary,
// GET /stats) are for Dome's own workers.
async function route(request: Request, env: Env, path: string, search: string): Promise<Response> {
  const { method } = request;
  if (path === "/notes" && (method === "POST" || method === "GET")) return env.SILO.fetch(forward(request, "https://silo", path, search));
  if (/^\/notes\/[^/]+$/.test(path) && method === "GET") return env.SILO.fetch(forward(request, "https://silo", path, search));
  if (path === "/search" && method === "GET") return env.CONSTELLATION.fetch(forward(request, "https://constellation", path, search));
  if (path === "/" && method === "GET") return Response.json({ service: "dome-api", version: env.VERSION });
  return Response.json({ error: `no route ${method} ${path}` }, { status: 404 });
}

function cors(response: Response, origin: string | undefined): Response {
  if (!origin) return response;
  const out = new Response(response.body, response);
  out.headers.set("access-control-allow-origin", origin);
  out.headers.set("access-control-allow-methods", "GET, POST, OPTIONS");
  out.headers.set("access-control-allow-headers", "content-type");
  return out;
}

// forward sends the request on to a service binding, at the path without /api.
function forward(request: Request, origin: string, path: string, search: string): Request {
  return new Request(new URL(path + search, origin), request);
}
