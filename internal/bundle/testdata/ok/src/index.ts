import { DurableObject } from "cloudflare:workers";
import { AsyncLocalStorage } from "node:async_hooks";
import { greet } from "./greet";

const als = new AsyncLocalStorage<string>();

export class Counter extends DurableObject {}

export default {
  async fetch(request: Request): Promise<Response> {
    return als.run("req", () => new Response(greet(new URL(request.url).pathname)));
  },
};
