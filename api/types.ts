/**
 * The HTTP API contract, version 1: the one definition of what the server answers,
 * imported by the server, the widget and the extension. Request bodies are validated by
 * the zod schemas in ./schemas.ts, whose inferred types are re-exported here.
 */
export type {
  CreateMessageBody,
  AddRecipientsBody,
  SendOptionsBody,
  SettingsPatch,
  PatchMessageBody,
  TestSendBody,
} from './schemas.ts';

export type Channel = 'email' | 'in_app' | 'push';

/** `transactional`: no List-Unsubscribe, no unsubscribe footer, the suppression list not applied. */
export type MessageKind = 'marketing' | 'transactional';

/** `draft` until the first send (or, in-app, publication) starts: only a draft may be edited or deleted. */
export type MessageStatus = 'draft' | 'sent';

/** Who an in-app message is shown to. */
export type Audience =
  | { type: 'everyone' }
  | { type: 'identified' }
  | { type: 'people'; emails: string[]; userIds: string[] };

export interface PushContent {
  title: string;
  body: string;
  /** As written: a web link or a deep link (`myapp://orders/42`). */
  uri: string;
}

/** `GET /api/messages/:id/push?email=E`: ready to hand to APNs or FCM, `uri` tracked for E unless tracking is off or its domain is excluded. */
export interface PushPayload {
  title: string;
  body: string;
  uri: string;
}

export interface ApiError {
  error: string;
}

/**
 * `403` from the widget's routes (`/messenger/*`) to a page whose origin is not in
 * `settings.allowedOrigins`: readable by the page (CORS headers on), logged by the server
 * once per origin. `error` names the setting too.
 */
export interface OriginRefused extends ApiError {
  setting: 'allowedOrigins';
  origin: string;
}

/** Why a link is left as the author wrote it. */
export type UntrackedReason =
  | 'not-http' // mailto:, tel:, sms:, javascript:, data:, #anchor, other schemes, relative without an absolute <base href>
  | 'foreign-tag' // the destination holds another template language's tag (a `{{…}}` not ours, `*|…|*`, `%…%`, `[…]`, `<%…%>`, `{{{…}}}`, `{%…%}`, `${…}`): only that language can fill it, so it is not made ours
  | 'opt-out' // data-clicktrail="off" on the element
  | 'universal-link' // host is on the universal-link list (or a subdomain of one)
  | 'tracking-off' // click tracking was off when the message was created
  | 'unsubscribe'; // `{{unsubscribe_url}}`: the recipient's own unsubscribe link, never a tracked one

export interface LinkPlacement {
  id: number;
  /** Where a click goes: the href with entities decoded, trimmed, resolved against `<base href>`, merge tags in place. */
  url: string;
  /**
   * 0-based order among the message's links: the HTML part's clickable elements in source
   * order (`<a href>`, `<area href>`, VML shapes' and anchors' hrefs inside Outlook's
   * conditional comments; a VML button and its `<a>` fallback side by side are one), then
   * URLs only the text part has.
   */
  position: number;
  text: string;
  tracked: boolean;
  /** Why an untracked link was left alone. */
  reason?: UntrackedReason;
  part: 'html' | 'text';
}

/**
 * A tag the author should know about at compose time.
 * `foreign`: not a tag of ours (`{{this.x}}`, `{{ end }}`, another ESP's syntax in a link),
 * left exactly as written; a link holding one is untracked (`foreign-tag`).
 * `attribute`: a bare `{{X}}`, filled from attribute X for recipients who have it and left
 * as written for those who do not.
 */
export interface TagWarning {
  /** The tag as written, e.g. `{{ subscriber.uuid }}` or `*|UNSUB|*`. */
  tag: string;
  /** Where: `subject`, `html line N`, `text line N`, `link P (html line N)` (in link P's destination); comma-separated, at most ten, then `and N more`. */
  where: string;
  reason: 'foreign' | 'attribute';
}

/**
 * What a send found missing. `missing`: these recipients have no value for a tag of ours
 * that has no fallback, so it went out empty (a bare `{{X}}`: as written) for them.
 * `not-an-attribute`: a bare `{{X}}` that no recipient of this send has, so it went out as
 * written to all of them, taken for another language's tag (write `{{attributes.X}}` to make
 * it ours whatever the data).
 */
export interface SendWarning {
  tag: string;
  /** As in TagWarning. */
  where: string;
  reason: 'missing' | 'not-an-attribute';
  /** Their emails, the first 100 of them. */
  recipients: string[];
  /** How many recipients it concerns. */
  count: number;
}

export interface Goal {
  event: string;
  withinDays: number;
}

export interface MessageCreated {
  id: number;
  links: LinkPlacement[];
  /** Tags left as written or filled only where recipients have them; [] when none. At most 200. */
  warnings: TagWarning[];
}

/** Where a message's delivery stands, recipient by recipient. */
export interface Delivery {
  recipients: number;
  /** Not sent yet, being sent included. */
  pending: number;
  sent: number;
  failed: number;
  /** Left out of a send (an address on the suppression list). */
  skipped: number;
}

export interface Message {
  id: number;
  subject: string;
  /** The email's or in-app card's HTML as written; for push, "". */
  html: string;
  text: string | null;
  channel: Channel;
  kind: MessageKind;
  status: MessageStatus;
  /** In-app messages only. */
  audience: Audience | null;
  /** Push messages only. */
  push: PushContent | null;
  /** As given; null: the default (settings.defaultFrom, else CLICKTRAIL_FROM). Email only. */
  from: string | null;
  /** As given; null: settings.defaultReplyTo. Email only. */
  replyTo: string | null;
  goal: Goal | null;
  createdAt: string;
  /** When the first send (or publication) started. */
  sentAt: string | null;
  links: LinkPlacement[];
  /** As in MessageCreated. */
  warnings: TagWarning[];
  delivery: Delivery;
}

export interface Counts {
  total: number;
  unique: number;
  bot: number;
}

export interface ClickCounts extends Counts {
  /** Of total: people's clicks that fit a scanner's pattern (SuspectReason), counted but identifying nobody. */
  suspect: number;
}

/** Clicks by why they were set apart: suspected-bot hits by BotReason, suspect clicks by SuspectReason. */
export interface ClickReasons {
  bot: Partial<Record<BotReason, number>>;
  suspect: Partial<Record<SuspectReason, number>>;
}

export interface MessageSummary {
  id: number;
  subject: string;
  channel: Channel;
  kind: MessageKind;
  status: MessageStatus;
  createdAt: string;
  recipients: number;
  sent: number;
  opens: Counts;
  clicks: ClickCounts;
}

export interface RecipientsAdded {
  added: number;
  updated: number;
}

/** Why a recipient was left out of a send. */
export type SkipReason = 'unsubscribed';

export interface SendResult {
  sent: number;
  failed: number;
  failures: { email: string; error: string }[];
  /** Recipients left out, and why: they are not mailed by this send or any later one while the reason holds. */
  skipped: number;
  skips: { email: string; reason: SkipReason }[];
  /** Values missing for the recipients of this send (subject included); [] when every tag had one. */
  warnings: SendWarning[];
}

/** `POST /api/messages/:id/test`: one mail, subject `[Test] …`, rendered as `as`; its links redirect but its clicks are never counted. */
export interface TestSent {
  to: string;
  /** The recipient whose values filled it; null: none (no recipient yet). */
  as: string | null;
  subject: string;
}

/** `GET /api/suppressions`: addresses no marketing message is sent to. Newest first. */
export interface Suppression {
  email: string;
  reason: 'unsubscribed';
  /** The message whose unsubscribe link or header did it. */
  messageId: number | null;
  at: string;
}

/** `409` from `POST /api/messages/:id/send` with `allowMissing: false`: nobody was mailed. */
export interface SendRefused extends ApiError {
  warnings: SendWarning[];
}

export interface Settings {
  clickTracking: boolean;
  leadEmailIdentification: boolean;
  universalLinkDomains: string[];
  /**
   * Where a link whose host comes from recipient data (`href="{{action_url}}"`) may go: these
   * hosts and their subdomains; empty: any http(s) host. A value filled after a host the
   * template writes itself can never change that host, whatever this says.
   */
  mergeTagHosts: string[];
  /**
   * Networks (CIDR ranges or addresses) a scanner of your own clicks from, beside the
   * built-in lists of mail-security services (server/tracking/networks/): a click from one is
   * a suspected bot, 'scanner-network'.
   */
  scannerNetworks: string[];
  /** How long after sending a click may identify its recipient. */
  identificationWindowDays: number;
  /** Lifetime of the identity cookie. */
  identityCookieDays: number;
  /** A click this soon after delivery is taken for a mail scanner. */
  scannerWindowSeconds: number;
  /**
   * A click this soon after delivery, with nothing else machine-like about it, is counted as a
   * person's but identifies nobody ('early'); with a second signal it is a scanner's.
   */
  earlyWindowSeconds: number;
  /**
   * How long after an identifying click the team waits to be told who the visitor is (lead
   * visits, the conversation's lead, webhooks): the hits that follow a click within a minute
   * (a burst, the honeypot) can still show it was a scanner's. The visitor is greeted at once.
   */
  identificationDelaySeconds: number;
  /** The widget's greeting. Merge tags see only the first name: `{{first_name | there}}`. */
  messengerGreeting: string;
  /** The line under the greeting. */
  messengerIntro: string;
  /** Origins whose pages may use the widget, besides PUBLIC_URL's own (which serves /demo). */
  allowedOrigins: string[];
  /** Receives every TeamEvent as JSON, signed with webhookSecret (X-Clicktrail-Signature). */
  webhookUrl: string | null;
  /** Generated once; read-only. Verifies the signature of webhook deliveries. */
  webhookSecret: string;
  /** URI schemes of your apps (`myapp`): deep links with one are valid destinations of in-app and push messages. */
  deepLinkSchemes: string[];
  /** Served as /.well-known/apple-app-site-association and /.well-known/assetlinks.json (404 while empty). */
  appLinks: AppLinks;
  /** The From of emails that name none; null: CLICKTRAIL_FROM. */
  defaultFrom: string | null;
  /** The Reply-To of emails that name none; null: none. Also the List-Unsubscribe mailto address. */
  defaultReplyTo: string | null;
  /** Generated once; read-only. A host page's userHash is HMAC-SHA256(userId) with this key, in hex. */
  identitySecret: string;
  /**
   * A team reply the visitor has not seen this many minutes after it was written is mailed to
   * them, when their address is known (an identified lead, a verified user, or an address they
   * left in the widget); null: replies are never mailed.
   */
  replyByEmailAfterMinutes: number | null;
}

export interface AppLinks {
  apple: { appId: string; paths: string[] }[];
  android: { packageName: string; sha256CertFingerprints: string[] }[];
}

/** Why a hit was taken for a machine rather than a person. */
export type BotReason =
  | 'head' // HEAD request: link checkers, scanners
  | 'bot-ua' // the user agent is a known bot, crawler or scanner (isbot), or missing
  | 'prefetch' // Purpose / Sec-Purpose: prefetch
  | 'too-soon' // within settings.scannerWindowSeconds of delivery
  | 'scanner-network' // from a network mail-security services click from (Microsoft, Proofpoint, Mimecast…: server/tracking/networks/)
  | 'burst' // every link of the mail within a minute, with a second signal (no Accept-Language, an old browser, headless)
  | 'early' // within a minute of delivery, with a second signal
  | 'repeat' // one link requested over and over by one recipient (5 times within 2 s)
  | 'honeypot' // the hidden link no person can see, or a hit near it in time
  | 'apple-mpp'; // Apple Mail Privacy Protection fetching the open pixel

/**
 * Why a click counted as a person's identifies nobody: it fits one pattern scanners make, and
 * nothing else says machine. A person opening a mail's links in tabs, or reading it the
 * minute it arrives, looks like this too: counted, never trusted with an identity.
 */
export type SuspectReason =
  | 'burst' // every link of the mail within a minute
  | 'early'; // within a minute of delivery

export interface StatsLink {
  id: number;
  url: string;
  position: number;
  text: string;
  part: 'html' | 'text';
  clicks: ClickCounts;
}

export interface MessageStats {
  recipients: number;
  /** Emails: delivered; in-app: the people it was shown to; push: payloads fetched. */
  sent: number;
  /** Recipients who unsubscribed through this message. */
  unsubscribes: number;
  opens: Counts;
  clicks: ClickCounts;
  /** The message's clicks by reason (its honeypot's hits included: they are bot hits like the others). */
  reasons: ClickReasons;
  goal: { event: string; withinDays: number; completed: number; rate: number } | null;
  /** Tracked links only, in position order. */
  links: StatsLink[];
  /** Hourly buckets of clicks, oldest first: hour is the ISO start of the hour. */
  timeline: { hour: string; human: number; bot: number }[];
}

export interface PersonStats {
  recipientId: number;
  /** null: an anonymous visitor shown an in-app message whose audience is everyone. */
  email: string | null;
  name: string | null;
  sentAt: string | null;
  openedAt: string | null;
  /**
   * count: human clicks (suspect ones included); suspect: of count, the ones identifying nobody;
   * bot: suspected-bot hits; reasons: why, as in ClickReasons; firstAt/lastAt: of the human
   * clicks (null when there were none).
   */
  clicks: { linkId: number; count: number; suspect: number; bot: number; reasons: ClickReasons; firstAt: string | null; lastAt: string | null }[];
  goalAt: string | null;
  /** In-app: when they closed the card (sentAt is when it was shown). */
  dismissedAt: string | null;
  unsubscribedAt: string | null;
}

/** How sure the team can be of who a visitor is. */
export type IdentifiedBy = 'email-click' | 'verified';

export interface PersonRef {
  id: number;
  name: string | null;
  email: string;
}

export interface ConversationMessage {
  id: number;
  conversationId: number;
  author: 'visitor' | 'team';
  body: string;
  at: string;
}

export interface ConversationSummary {
  id: number;
  /** null for an anonymous visitor. */
  person: PersonRef | null;
  identifiedBy: IdentifiedBy | null;
  startedAt: string;
  lastMessageAt: string;
  lastMessage: string;
  pageUrl: string | null;
}

/** `GET /api/conversations/:id`. */
export interface Conversation extends ConversationSummary {
  messages: ConversationMessage[];
  /** An address the visitor left in the widget for replies: unproven, never anyone's identity. */
  contactEmail: string | null;
  /** The last message of the thread the visitor has seen in the widget (0: none yet). */
  seenThrough: number;
  /** Team replies mailed to the visitor because they had not seen them, oldest first. */
  replyEmails: ReplyEmail[];
}

/**
 * One email of team replies the visitor had not seen (settings.replyByEmailAfterMinutes): the
 * replies after the previous one (or after what the visitor saw) up to `through`.
 * `seen`: the visitor saw them before it went out, so it was not sent.
 */
export interface ReplyEmail {
  id: number;
  through: number;
  status: 'sending' | 'sent' | 'failed' | 'seen';
  sentAt: string | null;
  /** When its link back to the conversation was first followed (by a person's browser). */
  clickedAt: string | null;
}

/**
 * `GET /api/notifications/latest`: the id of the newest team event (0 when there is none).
 * A new client starts from it, so it is told only of what happens next: what
 * `/api/notifications?after=0` returns is the oldest page, not the newest.
 */
export interface LatestNotification {
  latestId: number;
}

/**
 * What the team is told, live on GET /api/stream (SSE, `id:` = event id, resumable with
 * Last-Event-ID) and by polling GET /api/notifications?after=<id>. Ids only grow.
 */
export type TeamEvent =
  | {
      id: number;
      type: 'lead.visit';
      at: string;
      person: PersonRef;
      identifiedBy: IdentifiedBy;
      url: string;
      referrer: string | null;
      /** The message and link whose click identified them (email-click identities). */
      messageId: number | null;
      messageSubject: string | null;
      linkId: number | null;
      linkUrl: string | null;
    }
  | { id: number; type: 'conversation.created'; at: string; conversation: ConversationSummary }
  | { id: number; type: 'conversation.message'; at: string; conversationId: number; person: PersonRef | null; message: ConversationMessage };

/** POST /api/links/resolve `{urls}` (tracked links as found in a mail, possibly wrapped by the mail client). */
export interface ResolvedLink {
  /** The URL exactly as it was sent. */
  url: string;
  messageId: number;
  /** The link placement (LinkPlacement.id / StatsLink.id). */
  linkId: number;
  recipientId: number;
}

/** Only the URLs that are genuine tracked links of this server; anything else is left out. */
export interface LinksResolved {
  links: ResolvedLink[];
}

/* The widget's own routes (/messenger/*). The page is the visitor's: nothing here ever
   carries an email address or another visitor's data. */

/** What the browser keeps (IndexedDB) and shows as `Authorization: Bearer <id>.<secret>`. */
export interface VisitorSession {
  id: number;
  secret: string;
}

/** A conversation as its visitor sees it: no person, no email. */
export interface WidgetConversation {
  id: number;
  startedAt: string;
  messages: ConversationMessage[];
}

export interface MessengerBootResult {
  /** Present when a new session was made: keep it. */
  session?: VisitorSession;
  visitorId: number;
  greeting: string;
  intro: string;
  /** Only what the greeting needs. */
  firstName: string | null;
  identifiedBy: IdentifiedBy | null;
  /** For GET /messenger/stream?token= (EventSource cannot send headers). */
  streamToken: string;
  conversations: WidgetConversation[];
  /** In-app messages to show on this page load, oldest first; each is counted shown once returned, and is not returned again. */
  inApp: InAppCard[];
  /**
   * The visitor is anonymous, has left no address, and replies may be mailed: a message left
   * unanswered for a minute gets a field in the thread for an address to send the reply to
   * (POST /messenger/contact-email). The address itself never comes back to the page.
   */
  askEmailForReplies: boolean;
}

/** An in-app message as the widget shows it: HTML sanitised by the server, links already tracked for this visitor. */
export interface InAppCard {
  messageId: number;
  html: string;
  /** POST here (no body) when the visitor closes it. */
  dismissUrl: string;
}

/** `GET /c/:token` with `Accept: application/json` (an app that opened the tracked link itself): the click is recorded, nothing redirects. */
export interface ClickResolved {
  url: string;
}

export interface EventRecorded {
  recorded: boolean;
  /** Messages whose goal this event completed for the person. */
  goalsCompleted: number;
  /**
   * The visitor's identifying click is not judged yet (identificationDelaySeconds): the event
   * is kept, and counted for them once the click is judged a person's (dropped if not).
   */
  pending?: true;
}

/** GET /api/health: is click recording keeping up? Counts are since this process started, unless said otherwise. */
export interface Health {
  clicks: {
    /** Answered hits not yet in the database, whichever run appended them: in the click journal, or waiting in memory. */
    queued: number;
    /** Of queued, the ones held in memory because the journal's disk refused them (full): not durable until it takes them. */
    waiting: number;
    /** Hits written into the database (an earlier run's included). */
    written: number;
    /** Hits lost: refused past the journal's limit (1,000,000 queued) or the memory's (100,000 waiting), or still waiting at exit. */
    dropped: number;
    /** Hits the database refused for themselves (a recipient it does not have): kept in `<database>-clicks/rejected.jsonl`, never retried. */
    setAside: number;
    /** false while writing into the database fails (locked, read-only, down): the hits wait in the journal and are retried. */
    writing: boolean;
    /** Why writing is false; null while it is true. */
    error: string | null;
  };
}
