// Validates the Gateway API objects (HTTPRoute) of a JSON array read from
// stdin against the schemas of @kubernetes-models/gateway-api (generated
// from the upstream CRDs). Prints one line per object; exit 1 if any is
// invalid, 2 if there is none to validate (an empty input proves nothing).
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const objects = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const models = { "gateway.networking.k8s.io/v1 HTTPRoute": HTTPRoute };
let checked = 0;
let invalid = 0;
for (const o of objects) {
  const Model = models[`${o.apiVersion} ${o.kind}`];
  if (!Model) continue;
  checked++;
  const id = `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`;
  try {
    new Model(o).validate();
    console.log(`valid: ${id}`);
  } catch (e) {
    invalid++;
    console.log(`invalid: ${id}: ${e.message}`);
  }
}
if (checked === 0) {
  console.log("no Gateway API object to validate");
  process.exit(2);
}
process.exit(invalid > 0 ? 1 : 0);
