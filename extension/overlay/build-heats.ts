import { linkHeats, type LinkHeat, type MessageData } from './link-heat.ts';
import { heatKey } from './mount-overlay.ts';

/** Heats of every link of every message on the page, keyed by message and link. */
export function buildHeats(messages: Record<number, MessageData>): Map<string, LinkHeat> {
  const heats = new Map<string, LinkHeat>();
  for (const [id, data] of Object.entries(messages)) {
    for (const [linkId, heat] of linkHeats(Number(id), data)) heats.set(heatKey(Number(id), linkId), heat);
  }
  return heats;
}
