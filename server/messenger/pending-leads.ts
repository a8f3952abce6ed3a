import type { Messenger } from './messenger.ts';
import type { Identified } from './identify.ts';
import { recordLeadVisit } from './visits.ts';

interface Pending {
  who: Identified;
  /** The latest page the visitor loaded meanwhile: what the team is told of. */
  visit: { url: string; referrer: string | null } | null;
  /** Events the visitor did meanwhile (goals): counted for them if the click is a person's. */
  events: { name: string; at: number }[];
  timer: NodeJS.Timeout;
}

/** Events kept per waiting visitor, at most: a page can't fill the memory. */
const MAX_EVENTS = 50;

/**
 * Visitors greeted from a click that can still be taken back. At its confirmAt the click is
 * judged again: still a person's, and the team is told (the visitor's identity, the
 * conversations they started meanwhile, the lead visit); a machine's, and nobody is named.
 * In memory: after a restart the visitor's next page load judges the click again.
 */
export class PendingLeads {
  private readonly byVisitor = new Map<number, Pending>();

  constructor(private readonly m: () => Messenger) {}

  /** Waits for the click's verdict; a later page load of the same visitor replaces the page to tell of. */
  wait(visitorId: number, who: Identified, visit: Pending['visit']): void {
    const earlier = this.byVisitor.get(visitorId);
    if (earlier) clearTimeout(earlier.timer);
    const delay = Math.max(0, who.confirmAt! - Date.now());
    const timer = setTimeout(() => void this.settle(visitorId).catch((err) => console.error('[clicktrail] judging a lead:', err)), delay);
    timer.unref();
    this.byVisitor.set(visitorId, { who, visit: visit ?? earlier?.visit ?? null, events: earlier?.events ?? [], timer });
  }

  /** Keeps an event of a waiting visitor; false when the visitor is not waiting for a verdict. */
  keepEvent(visitorId: number, event: { name: string; at: number }): boolean {
    const pending = this.byVisitor.get(visitorId);
    if (!pending) return false;
    if (pending.events.length < MAX_EVENTS) pending.events.push(event);
    return true;
  }

  /** The visitor is somebody else now (a new boot): their pending click no longer matters. */
  forget(visitorId: number): void {
    const pending = this.byVisitor.get(visitorId);
    if (pending) clearTimeout(pending.timer);
    this.byVisitor.delete(visitorId);
  }

  private async settle(visitorId: number): Promise<void> {
    const pending = this.byVisitor.get(visitorId);
    this.byVisitor.delete(visitorId);
    if (!pending) return;
    const { store } = this.m();
    const { identity, person, clickAt } = pending.who;
    const verdict = await store.clickVerdict(identity.recipientId!, identity.linkId!, clickAt!);
    // Not in the database by now: set aside, or lost with a disk. Nobody is named on a doubt.
    if (verdict !== 'person') return;
    await store.setVisitorIdentity(visitorId, identity);
    await store.attachConversations(visitorId, identity);
    if (pending.visit) await recordLeadVisit(this.m(), { visitorId, identity, person, ...pending.visit });
    for (const e of pending.events) await store.recordPersonEvent({ personId: person.id, name: e.name, source: 'widget', at: e.at });
  }

  close(): void {
    for (const p of this.byVisitor.values()) clearTimeout(p.timer);
    this.byVisitor.clear();
  }
}
