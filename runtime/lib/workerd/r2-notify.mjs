// A wrapped R2 binding (miniflare `wrappedBindings`, loaded into the isolate of the worker holding the binding):
// every method goes to the real bucket, and each write also sends Cloudflare's R2 event notification message to
// the queues whose rules match (action, prefix, suffix), as R2 does for a bucket with event notifications.
//
// env holds the wrapper worker's bindings (every bucket and queue producer of the deployment, bound by index)
// and this binding's own CONFIG: {account, bucket, binding, rules: [{queue, actions, prefix, suffix}]}, where
// `binding` and `queue` name those indexed bindings.
export default function (env) {
  return new NotifyingBucket(env, env.CONFIG);
}

class NotifyingBucket {
  #bucket;
  #env;
  #config;

  constructor(env, config) {
    this.#env = env;
    this.#config = config;
    this.#bucket = env[config.binding];
  }

  head(key) {
    return this.#bucket.head(key);
  }

  get(key, options) {
    return this.#bucket.get(key, options);
  }

  list(options) {
    return this.#bucket.list(options);
  }

  async put(key, value, options) {
    const object = await this.#bucket.put(key, value, options);
    // null: an onlyIf condition failed and nothing was written.
    if (object !== null) await this.#notify("PutObject", object);
    return object;
  }

  async delete(keys) {
    // R2 reports only objects that existed.
    const existing = [];
    for (const key of [keys].flat()) if ((await this.#bucket.head(key)) !== null) existing.push(key);
    await this.#bucket.delete(keys);
    for (const key of existing) await this.#notify("DeleteObject", { key });
  }

  async createMultipartUpload(key, options) {
    return this.#upload(await this.#bucket.createMultipartUpload(key, options));
  }

  resumeMultipartUpload(key, uploadId) {
    return this.#upload(this.#bucket.resumeMultipartUpload(key, uploadId));
  }

  #upload(upload) {
    return {
      key: upload.key,
      uploadId: upload.uploadId,
      uploadPart: (partNumber, value, options) => upload.uploadPart(partNumber, value, options),
      abort: () => upload.abort(),
      complete: async (parts) => {
        const object = await upload.complete(parts);
        await this.#notify("CompleteMultipartUpload", object);
        return object;
      },
    };
  }

  async #notify(action, object) {
    const { account, bucket, rules } = this.#config;
    const key = object.key;
    const message = {
      account,
      action,
      bucket,
      object: action === "DeleteObject" ? { key } : { key, size: object.size, eTag: object.etag },
      eventTime: new Date().toISOString(),
    };
    for (const rule of rules) {
      if (rule.actions.includes(action) && key.startsWith(rule.prefix) && key.endsWith(rule.suffix)) {
        await this.#env[rule.queue].send(message, { contentType: "json" });
      }
    }
  }
}
