// Wrapped Vectorize and Workers AI bindings: Cloudflare has no local implementation of either, so each method
// call goes to the emulator's callback server (the external service binding CALLBACK), which answers from the
// account's vector store or from a deterministic stand-in for the models.
//
// env: CALLBACK, plus this binding's own KIND ("vectorize" or "ai") and, for Vectorize, INDEX (the index name).
export default function ({ CALLBACK, KIND, INDEX }) {
  const call = async (path, args) => {
    const response = await CALLBACK.fetch(`http://callback${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(args),
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = JSON.parse(text).error ?? text;
      } catch {}
      throw new Error(`${path}: ${message}`);
    }
    return JSON.parse(text);
  };
  if (KIND === "ai") {
    return { run: (model, inputs) => call("/ai/run", { model, inputs }) };
  }
  const op = (name, args) => call(`/vectorize/${encodeURIComponent(INDEX)}/${name}`, args);
  // Vector values may be typed arrays, which JSON would turn into objects.
  const plain = (values) => Array.from(values);
  return {
    insert: (vectors) => op("insert", { vectors: vectors.map((v) => ({ ...v, values: plain(v.values) })) }),
    upsert: (vectors) => op("upsert", { vectors: vectors.map((v) => ({ ...v, values: plain(v.values) })) }),
    query: (vector, options) => op("query", { vector: plain(vector), options }),
    getByIds: (ids) => op("getByIds", { ids }),
    deleteByIds: (ids) => op("deleteByIds", { ids }),
    describe: () => op("describe", {}),
  };
}
