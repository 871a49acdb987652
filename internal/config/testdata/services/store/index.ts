export class Counter {} export default { fetch: () => new Response('store') };
