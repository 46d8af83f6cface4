// Fetches each URL given on the command line with Node's own fetch (undici), asking for each content coding it
// decodes: its default Accept-Encoding ("default"), gzip, br, and zstd when this Node's zlib has it. Prints one
// JSON line per request: the coding asked for, the Content-Encoding received, the status, and the SHA-256 and
// length of the body fetch decoded. Used by TestCompressionClients (sidecar/httpcache_test.go).
import { createHash } from "node:crypto";
import zlib from "node:zlib";

const urls = process.argv.slice(2);
const codings = ["default", "gzip", "br"];
if (typeof zlib.createZstdDecompress === "function") codings.push("zstd");

for (const url of urls) {
  for (const coding of codings) {
    const line = { url, coding };
    try {
      const headers = coding === "default" ? {} : { "accept-encoding": coding };
      const res = await fetch(url, { headers });
      const body = Buffer.from(await res.arrayBuffer());
      Object.assign(line, {
        status: res.status,
        encoding: res.headers.get("content-encoding") ?? "",
        sha256: createHash("sha256").update(body).digest("hex"),
        length: body.length,
      });
    } catch (e) {
      line.error = String(e?.cause ?? e);
    }
    console.log(JSON.stringify(line));
  }
}
