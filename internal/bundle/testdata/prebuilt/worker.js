export default { fetch() { return new Response("prebuilt"); } };
