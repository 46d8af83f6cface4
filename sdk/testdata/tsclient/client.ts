// A client typed by openapi-typescript from pgway's live document, calling it with openapi-fetch.
declare const process: { argv: string[]; exit(code: number): never };
import createClient from "openapi-fetch";
import type { paths } from "./schema";

// pgway also serves text/csv; ask openapi-fetch for the JSON responses only.
const client = createClient<paths, "application/json">({ baseUrl: process.argv[2] });

async function main(): Promise<void> {
  const { data, error, response } = await client.GET("/items", {
    params: { query: { id: "in.(1,2)", select: "id,name", order: "id.desc" } },
  });
  if (error || !data) {
    console.log("error", response.status, JSON.stringify(error));
    process.exit(1);
  }
  for (const row of data) {
    const name: string | undefined = row.name;
    console.log(`${row.id} ${name}`);
  }

  // An atomic batch (POST /, operationId batch): the second read takes its filter's operand from the first
  // one's result through a reference.
  const batch = await client.POST("/", {
    body: {
      operations: [
        { method: "GET", path: "/items?select=id&name=eq.banana" },
        { method: "GET", path: "/items?select=id,name&id=eq.", refs: { "/query/id": "/0/body/0/id" } },
      ],
    },
    headers: { "Content-Type": "application/vnd.pgway.batch+json" },
  });
  if (batch.error || !batch.data) {
    console.log("batch error", batch.response.status, JSON.stringify(batch.error));
    process.exit(1);
  }
  const results = batch.data.results;
  const status: number = results[1].status;
  const rows = results[1].body as { id: number; name: string }[];
  console.log(`batch ${status} ${rows[0].id} ${rows[0].name}`);
}

main();
