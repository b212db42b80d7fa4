// The REST router over real HTTP: a route's doc schemas are what it parses (a 400 naming the
// field, never reaching the handler), only once the caller passed the route's permission; the
// handler gets the parsed input, its path's params, and its answer as JSON ({} for none).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { z } from "zod";
import { RestRouter } from "./http.ts";

const seen: unknown[] = [];
const router = new RestRouter({
  authenticate: async (req) => {
    const role = req.headers.authorization?.replace(/^Bearer /, "");
    return role ? { id: "u1", email: `${role}@example.com`, role } : undefined;
  },
  actorOf: (user) => ({ userId: user.id, ip: "127.0.0.1" }),
})
  .on(
    "POST",
    "/things/:id/:part",
    "containers.write",
    {
      summary: "a route with a body and a query",
      body: z.object({ size: z.number().int().min(1, "size is at least 1") }).strict(),
      query: z.object({
        force: z
          .enum(["0", "1"])
          .optional()
          .transform((v) => v === "1"),
      }),
    },
    async (r) => {
      seen.push({ params: r.params, body: r.body, query: r.query, user: r.user.role });
      return { size: r.body.size * 2 };
    },
  )
  .on("DELETE", "/things/:id", "containers.write", { summary: "answers nothing" }, async (r) => {
    seen.push(r.params.id);
  });

let base = "";
const server = createServer((req, res) => {
  void router.handle(req, res, new URL(req.url ?? "/", "http://x"));
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function call(
  method: string,
  path: string,
  opts: { role?: string; body?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(base + path, {
    method,
    headers: opts.role ? { authorization: `Bearer ${opts.role}` } : {},
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  return { status: res.status, body: await res.json() };
}

test("the handler gets the parsed body and query and its path's params", async () => {
  seen.length = 0;
  const r = await call("POST", "/things/a%2Fb/lid?force=1", {
    role: "operator",
    body: JSON.stringify({ size: 3 }),
  });
  assert.deepEqual(r, { status: 200, body: { size: 6 } });
  assert.deepEqual(seen, [
    {
      params: { id: "a/b", part: "lid" },
      body: { size: 3 },
      query: { force: true },
      user: "operator",
    },
  ]);
  const none = await call("DELETE", "/things/x", { role: "operator" });
  assert.deepEqual(none, { status: 200, body: {} });
  assert.deepEqual(seen.at(-1), "x");
});

test("bad input is a 400 naming the field, and the handler never runs", async () => {
  seen.length = 0;
  const cases: Array<[string, string, RegExp]> = [
    ["/things/a/b", JSON.stringify({ size: 0 }), /^size: size is at least 1/],
    ["/things/a/b", JSON.stringify({ size: 1, colour: "red" }), /colour/],
    ["/things/a/b", "{not json", /^the body is not JSON$/],
    ["/things/a/b?force=yes", JSON.stringify({ size: 1 }), /^force: /],
  ];
  for (const [path, body, message] of cases) {
    const r = await call("POST", path, { role: "operator", body });
    assert.equal(r.status, 400, `${path} ${body}`);
    assert.match((r.body as { error: string }).error, message);
  }
  assert.deepEqual(seen, []);
});

test("the permission comes before the input: 401 and 403 say nothing of a bad body", async () => {
  const bad = { body: JSON.stringify({ size: "x" }) };
  assert.equal((await call("POST", "/things/a/b", bad)).status, 401);
  assert.equal((await call("POST", "/things/a/b", { ...bad, role: "viewer" })).status, 403);
});

test("the OpenAPI document shows the schemas the route parses", () => {
  const doc = router.openapi({ title: "t", version: "1" }) as {
    paths: Record<string, Record<string, { parameters: Array<{ name: string; in: string }> }>>;
  };
  const post = doc.paths["/things/{id}/{part}"]?.post as unknown as {
    parameters: Array<{ name: string; in: string }>;
    requestBody: { content: { "application/json": { schema: { required: string[] } } } };
  };
  assert.deepEqual(
    post.parameters.map((p) => `${p.in}:${p.name}`),
    ["path:id", "path:part", "query:force"],
  );
  assert.deepEqual(post.requestBody.content["application/json"].schema.required, ["size"]);
});
