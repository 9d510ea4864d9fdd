// Type-checked under strict (check.sh) against the types openapi-typescript
// generates from the served document: it fails when the document stops
// typing the server's answers the way a TypeScript caller needs them.
import createClient from "openapi-fetch";
import type { components, paths, webhooks } from "./schema";

type Incident = components["schemas"]["Incident"];

const sety = createClient<paths>({
  baseUrl: "https://sety.example",
  headers: { Authorization: "Bearer sety_test_3fa9c2d18e4b7a6509c1d2e3f4a5b6c7" },
});

export async function reportIncident(): Promise<{ incident: Incident; replay: boolean } | undefined> {
  const { data, error, response } = await sety.POST("/v1/external/incidents", {
    body: { category: "sos", location: { coordinates: [3.3792, 6.5244] }, idempotency_key: "trip_7f3k92lq" },
  });
  if (error) {
    // Every error is {code, message}, 429 and 415 included.
    const retry = response.status === 429 ? response.headers.get("Retry-After") : null;
    throw new Error(`${error.code} ${error.message}${retry ? `; retry in ${retry} s` : ""}`);
  }
  const incident = data.incident;
  // What may be null is typed so: strict TypeScript refuses to read through it.
  // @ts-expect-error responder is null until a responder is assigned
  incident.responder.name;
  // @ts-expect-error resolution_outcome is null until the incident is resolved
  incident.resolution_outcome.toUpperCase();
  const who: string = incident.responder?.name ?? "no responder yet";
  const outcome: "handled" | "false_alarm" | "referred" | "unable_to_locate" | "other" | null = incident.resolution_outcome;
  void who;
  void outcome;
  return { incident, replay: data.idempotent };
}

export async function validate(code: string): Promise<string> {
  const { data } = await sety.POST("/v1/external/access-codes/validate", { body: { code, site: "lekki-gardens" } });
  if (!data) return "error";
  // @ts-expect-error access_code is null when no code matches
  data.access_code.code_id;
  return data.access_log?.log_id ?? data.reason;
}

export async function heatmap(): Promise<number> {
  const { data } = await sety.GET("/v1/external/heatmap", { params: { query: { bbox: "3.30,6.40,3.50,6.60" } } });
  return data?.cells.length ?? 0;
}

// A GIS client asks for GeoJSON with Accept and types the answer with the
// schema the response's x-alternative-content names.
export async function heatmapGeoJSON(): Promise<number> {
  const { response } = await sety.GET("/v1/external/heatmap", {
    params: { query: { bbox: "3.30,6.40,3.50,6.60" } },
    headers: { Accept: "application/geo+json" },
    parseAs: "stream",
  });
  const fc = (await response.json()) as components["schemas"]["HeatmapGeoJSON"];
  return fc.features.reduce((sum, f) => sum + f.properties.count, 0);
}

// A webhook receiver reads each event by its type.
type Assigned = webhooks["incident.assigned"]["post"]["requestBody"]["content"]["application/json"];
export function onAssigned(event: Assigned): string {
  return `${event.type} #${event.sequence}: ${event.data.incident.responder?.name ?? "?"}`;
}
export function onEvent(event: components["schemas"]["TimelineEvent"]): string {
  return event.type;
}
