// Validates custom resources with two implementations that share nothing
// with kubeproof's own validator (Rust, the `jsonschema` crate, schemas
// converted by scripts/vendor-schemas):
//
// 1. model: the validators kubernetes-models generates from each project's
//    upstream CRDs (ajv, compiled ahead of time). They check types, enums,
//    required fields and patterns, but accept unknown fields.
// 2. crd: the `openAPIV3Schema` of a CustomResourceDefinition given on
//    stdin (the upstream CRDs kubeproof vendors in schemas/crds/), read the
//    way the API server reads a structural schema — a field the schema does
//    not declare is an error unless `x-kubernetes-preserve-unknown-fields`
//    says otherwise; `x-kubernetes-int-or-string` takes either — and
//    compiled by ajv.
//
// stdin: {"crds": [CustomResourceDefinition, ...], "objects": [object, ...]}.
// Prints one line per custom resource: `valid: KIND NS/NAME (model, crd)` or
// `invalid: KIND NS/NAME: what`. Objects of built-in groups are skipped.
// Exit 1 if any custom resource is invalid or no implementation knows it,
// 2 if there is none (an empty input proves nothing).
import Ajv from "ajv";
import { RE2 } from "re2-wasm";

// kubernetes-models packages by API group.
const packages = {
  "monitoring.coreos.com": "prometheus-operator",
  "networking.istio.io": "istio",
  "security.istio.io": "istio",
  "cert-manager.io": "cert-manager",
  "autoscaling.k8s.io": "autoscaler",
  "gateway.networking.k8s.io": "gateway-api",
  "external-secrets.io": "external-secrets",
  "argoproj.io": "argo-cd",
  "source.toolkit.fluxcd.io": "flux-cd",
  "kustomize.toolkit.fluxcd.io": "flux-cd",
  "helm.toolkit.fluxcd.io": "flux-cd",
  "bitnami.com": "sealed-secrets",
};

// Groups served by Kubernetes itself: validated elsewhere (kubernetes-validate).
const builtin = (group) => group === "" || (group.endsWith(".k8s.io") && !(group in packages)) || !group.includes(".");

// The structural-schema reading of an openAPIV3Schema, as a JSON Schema.
function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== "object") return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith("x-kubernetes-") || k === "description") continue;
    out[k] = k === "properties" || k === "patternProperties" || k === "definitions"
      ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strict(s)]))
      : strict(v);
  }
  if (schema["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (schema["x-kubernetes-embedded-resource"]) {
    out.properties = { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, ...(out.properties ?? {}) };
  }
  const open = schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (out.properties && !open && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

// Patterns are Go regular expressions (RE2: `(?i)` flags), as the API server reads them.
const re2 = (source, flags) => new RE2(source, flags.includes("u") ? flags : `${flags}u`);
re2.code = 'new (require("re2-wasm").RE2)';
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: re2 } });
const fromCrds = new Map();
for (const crd of input.crds ?? []) {
  const { group, names, versions } = crd.spec;
  for (const v of versions ?? []) {
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) continue;
    // apiVersion, kind and metadata are the API server's, whatever the schema says.
    const root = strict(schema);
    root.properties = { ...(root.properties ?? {}), apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" } };
    fromCrds.set(`${group}/${v.name} ${names.kind}`, ajv.compile(root));
  }
}

let checked = 0;
let failed = 0;
for (const o of input.objects ?? []) {
  if (!o || typeof o.apiVersion !== "string") continue;
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  if (builtin(group)) continue;
  checked++;
  const id = `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
  const by = [];
  const problems = [];
  const pkg = packages[group];
  if (pkg) {
    let Model;
    try {
      Model = (await import(`@kubernetes-models/${pkg}/${group}/${version}/${o.kind}`))[o.kind];
    } catch {
      Model = undefined;
    }
    if (Model) {
      try {
        new Model(o).validate();
      } catch (e) {
        problems.push(`model: ${e.message}`);
      }
      by.push("model");
    }
  }
  const crd = fromCrds.get(`${o.apiVersion} ${o.kind}`);
  if (crd) {
    if (!crd(o)) {
      const errors = crd.errors.map((e) => `${e.instancePath || "/"} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`);
      problems.push(`crd: ${errors.join("; ")}`);
    }
    by.push("crd");
  }
  if (by.length === 0) problems.push(`no validator knows ${o.apiVersion} ${o.kind}`);
  if (problems.length > 0) {
    failed++;
    console.log(`invalid: ${id}: ${problems.join(" | ")}`);
  } else {
    console.log(`valid: ${id} (${by.join(", ")})`);
  }
}
if (checked === 0) {
  console.log("no custom resource to validate");
  process.exit(2);
}
process.exit(failed > 0 ? 1 : 0);
