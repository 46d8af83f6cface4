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
}

main();
