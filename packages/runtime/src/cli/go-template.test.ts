import { test } from "node:test";
import assert from "node:assert/strict";
import { GoTemplate, printValue } from "./go-template.js";
import { formatRows, PS_FORMAT, tabwrite } from "./output-format.js";

const run = (t: string, data: unknown): string => new GoTemplate(t).execute(data);

const container = {
  Id: "abc",
  Name: "/web",
  State: { Pid: 42, Running: true, Status: "running" },
  Config: { Labels: { "com.example.team": "blue", tier: "web" }, Env: ["A=1", "B=2"] },
  NetworkSettings: { Networks: { bridge: { IPAddress: "172.18.0.2" } } },
};

test("fields, nested fields, variables and literals", () => {
  assert.equal(run("{{.State.Pid}}", container), "42");
  assert.equal(run("{{ .Name }} {{.State.Running}}", container), "/web true");
  assert.equal(
    run('{{$x := .State}}{{$x.Pid}}-{{$.Id}}-{{"lit"}}-{{7}}', container),
    "42-abc-lit-7",
  );
  assert.equal(run("{{.Config.Missing}}", { Config: { a: 1 } }), "<no value>");
  assert.throws(() => run("{{.Nope}}", container), /can't evaluate field Nope/);
});

test("functions, pipelines, parentheses", () => {
  assert.equal(run('{{index .Config.Labels "com.example.team"}}', container), "blue");
  assert.equal(run("{{json .State}}", container), '{"Pid":42,"Running":true,"Status":"running"}');
  assert.equal(run('{{.Name | upper}} {{lower "AB"}}', container), "/WEB ab");
  assert.equal(run('{{join .Config.Env ","}}', container), "A=1,B=2");
  assert.equal(run("{{len .Config.Env}} {{index .Config.Env 1}}", container), "2 B=2");
  assert.equal(run('{{printf "%-6s|%5d|%q" "ab" 42 "x"}}', {}), 'ab    |   42|"x"');
  assert.equal(
    run('{{(index .NetworkSettings.Networks "bridge").IPAddress}}', container),
    "172.18.0.2",
  );
  assert.equal(run('{{split "a:b" ":" | json}}', {}), '["a","b"]');
  assert.equal(run('{{title "hello world"}}', {}), "Hello World");
  assert.equal(run('{{.Label "tier"}}', { Label: (k: string) => `<${k}>` }), "<tier>");
  assert.throws(() => run("{{nosuch .}}", {}), /function "nosuch" not defined/);
});

test("if / else if / else, with, range over lists and maps, trim markers, comments", () => {
  assert.equal(run("{{if .State.Running}}up{{else}}down{{end}}", container), "up");
  assert.equal(
    run(
      '{{if eq .State.Status "exited"}}x{{else if eq .State.Status "running"}}r{{else}}?{{end}}',
      container,
    ),
    "r",
  );
  assert.equal(run("{{if and .A (not .B)}}yes{{end}}", { A: 1, B: "" }), "yes");
  assert.equal(run("{{with .State}}{{.Pid}}{{end}}", container), "42");
  assert.equal(run("{{range .Config.Env}}[{{.}}]{{end}}", container), "[A=1][B=2]");
  assert.equal(
    run("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", container),
    "com.example.team=blue;tier=web;",
  );
  assert.equal(
    run("{{range $n, $c := .NetworkSettings.Networks}}{{$n}} {{$c.IPAddress}}{{end}}", container),
    "bridge 172.18.0.2",
  );
  assert.equal(run("{{range .X}}x{{else}}none{{end}}", { X: [] }), "none");
  assert.equal(run("a  {{- /* note */ -}}  b {{- .Id}}", container), "ababc");
  assert.throws(() => run("{{if .A}}x", {}), /without end/);
  assert.throws(() => run("{{.A", {}), /unclosed action/);
});

test("values print as Go's %v does", () => {
  assert.equal(printValue(["a", 1]), "[a 1]");
  assert.equal(printValue({ b: 2, a: "x" }), "map[a:x b:2]");
  assert.equal(printValue(undefined), "<no value>");
});

test("table: a header from Docker's names, columns aligned as tabwriter does; json; plain", () => {
  const rows = [
    { ID: "0123456789ab", Names: "web", Status: "Up 2 seconds" },
    { ID: "ba9876543210", Names: "a-much-longer-name", Status: "Exited (0)" },
  ];
  assert.equal(
    formatRows("table {{.ID}}\\t{{.Names}}\\t{{.Status}}", rows, PS_FORMAT),
    [
      "CONTAINER ID   NAMES                STATUS",
      "0123456789ab   web                  Up 2 seconds",
      "ba9876543210   a-much-longer-name   Exited (0)",
      "",
    ].join("\n"),
  );
  assert.equal(
    formatRows("{{.Names}}\\t{{.Status}}", rows.slice(0, 1), PS_FORMAT),
    "web\tUp 2 seconds\n",
  );
  assert.equal(formatRows("json", rows.slice(0, 1), PS_FORMAT), `${JSON.stringify(rows[0])}\n`);
  assert.equal(tabwrite(["a\tb", "ccc\td"]), "a         b\nccc       d\n");
});
