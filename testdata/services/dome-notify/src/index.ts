export default {
  async fetch(): Promise<Response> {
    return new Response("dome-notify", { status: 200 });
  },
};
