/** The one JSON form of an account event: the webhook body, and each item of GET /v1/events. */
import type { EventData } from "./types.ts";

export interface EventRow {
  id: number;
  type: string;
  data: string;
  createdAt: number;
}

export interface EventPayload {
  type: string;
  timestamp: string;
  data: EventData;
}

export function eventPayload(e: EventRow): EventPayload {
  return { type: e.type, timestamp: new Date(e.createdAt).toISOString(), data: JSON.parse(e.data) as EventData };
}

export const eventRowOf = (r: Record<string, unknown>): EventRow => ({ id: Number(r.id), type: String(r.type), data: String(r.data), createdAt: Number(r.created_at) });
