// Deterministic channels and videos. A seed fixes everything about a channel (ids, titles,
// durations, publish times relative to its anchor day, how well each video performs), so a test
// that creates "seed X with 5,000 videos" sees the same catalogue on every run.
import { hashString, Prng } from '../core/random.ts';
import { DAY_MS } from './time.ts';

export type Privacy = 'public' | 'unlisted' | 'private';
export type Niche = 'cooking' | 'tech' | 'fitness' | 'travel';

export interface FakeVideo {
  id: string;
  channelId: string;
  title: string;
  description: string;
  tags: string[];
  categoryId: string;
  durationSeconds: number;
  isShort: boolean;
  publishedAt: number; // epoch ms
  privacyStatus: Privacy;
  // Performance profile, read by metrics.ts.
  seed: number;
  peakViews: number; // views on the first full day
  retention: number; // share of the video an average view watches, 0.2..0.7
  likeRate: number;
  commentRate: number;
  shareRate: number;
  subscribeRate: number;
  // Only on videos uploaded through the fake (videos.insert):
  publishAt?: number; // scheduled publishing (private until then)
  everPublic?: boolean; // was public or unlisted once: it cannot be scheduled again
  selfDeclaredMadeForKids?: boolean;
  uploadStatus?: 'uploaded' | 'processed';
  customThumbnail?: { bytes: number; sha256: string; mimeType: string };
}

export interface FakeChannel {
  id: string;
  seed: string;
  title: string;
  description: string;
  customUrl: string;
  country: string;
  publishedAt: number;
  uploadsPlaylistId: string;
  subscriberBase: number;
  videos: FakeVideo[]; // newest first, like the uploads playlist
}

export interface ChannelSpec {
  seed: string;
  videoCount: number;
  anchorDay: number; // videos are published before the start of this UTC day
  spanDays: number; // ... and within this many days before it
  title?: string;
  niche?: Niche;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// An 11-character video id encodes 64 bits, so its last character carries only 4 of 6 bits;
// a 22-character channel id suffix encodes 128 bits, leaving 2 bits in its last character.
const VIDEO_ID_LAST = 'AEIMQUYcgkosw048';
const CHANNEL_ID_LAST = 'AQgw';

export function channelIdForSeed(seed: string): string {
  const rng = new Prng(`channel:${seed}`);
  return 'UC' + rng.chars(ID_ALPHABET, 21) + rng.chars(CHANNEL_ID_LAST, 1);
}

/** A YouTube-style video id (11 characters, the last one carrying 4 bits) from a seed. */
export function videoIdForSeed(seed: string): string {
  const rng = new Prng(`video-id:${seed}`);
  return rng.chars(ID_ALPHABET, 10) + rng.chars(VIDEO_ID_LAST, 1);
}

/** The uploads playlist of channel UCxyz is UUxyz. */
export function uploadsPlaylistIdFor(channelId: string): string {
  return 'UU' + channelId.slice(2);
}

const THINGS: Record<Niche, string[]> = {
  cooking: [
    'sourdough',
    'ramen',
    'meal prep',
    'cast iron pans',
    'knife skills',
    'street tacos',
    'air fryer recipes',
    'fresh pasta',
    'budget dinners',
    'homemade pizza',
    'fermentation',
    'weeknight curry',
  ],
  tech: [
    'home labs',
    'mechanical keyboards',
    'Raspberry Pi',
    'budget laptops',
    'smart home',
    'Linux on the desktop',
    'NAS builds',
    'USB-C docks',
    'password managers',
    'self-hosting',
    'e-readers',
    'mesh Wi-Fi',
  ],
  fitness: [
    'kettlebells',
    'running form',
    'mobility routines',
    'home workouts',
    'protein myths',
    'pull-up progressions',
    'marathon training',
    'desk stretches',
    'zone 2 cardio',
    'grip strength',
    'rest days',
    'jump rope',
  ],
  travel: [
    'Lisbon',
    'night trains',
    'carry-on packing',
    'Japan rail passes',
    'hostel life',
    'the Iceland ring road',
    'budget flights',
    'travel insurance',
    'Bangkok street food',
    'solo travel',
    'van life',
    'the Dolomites',
  ],
};
const CATEGORY: Record<Niche, string> = { cooking: '26', tech: '28', fitness: '17', travel: '19' }; // Howto & Style, Science & Technology, Sports, Travel & Events
const CHANNEL_NAMES: Record<Niche, string[]> = {
  cooking: ['Weekend Kitchen', 'Small Pan Big Flavor', 'The Hungry Apartment'],
  tech: ['Pocket Tech Lab', 'Bytes Before Breakfast', 'The Tinker Desk'],
  fitness: ['Strong at Home', 'Daily Mobility Club', 'Run Easy Co'],
  travel: ['Carry-On Stories', 'Slow Train Diaries', 'Backpack Notes'],
};

const LONG_TITLES = [
  'How I Learned {thing} in {n} Days',
  '{n} {Thing} Mistakes Everyone Makes',
  'The Truth About {thing}',
  "{Thing}: The Complete Beginner's Guide ({year})",
  "I Tried {thing} for {n} Days. Here's What Happened",
  'Why {thing} Is Overrated (and What to Do Instead)',
  'Ranking Every {thing} Tip I Know',
  '{Thing} on a Budget: {n} Ideas That Actually Work',
  'Stop Doing This With {thing}',
  'My Honest Take on {thing} After {n} Months',
  'Everything You Need to Know About {thing}',
  '{Thing} vs. the Internet: {n} Myths Tested',
];
const SHORT_TITLES = [
  '{Thing} in 60 seconds #shorts',
  'This {thing} trick changed everything #shorts',
  'POV: you finally get {thing} #shorts',
  'One {thing} tip nobody tells you #shorts',
  'Wait for it... {thing} #shorts',
  '{Thing} hack you need today #shorts',
];

function capitalise(s: string) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function fill(template: string, thing: string, rng: Prng, year: number) {
  return template
    .replaceAll('{thing}', thing)
    .replaceAll('{Thing}', capitalise(thing))
    .replaceAll('{n}', String(rng.pick([3, 5, 7, 10, 14, 30, 100])))
    .replaceAll('{year}', String(year));
}

// Most uploads go out in the afternoon and evening (UTC), some in the morning or at night.
const PUBLISH_HOURS = [13, 14, 14, 15, 15, 15, 16, 16, 17, 17, 18, 19, 20, 21, 22, 23, 1, 6, 8, 10, 11, 12];

/** Video `i` of a channel, from its own seeded draws; published on the day starting at `dayStart`. */
function generateVideo(
  seed: string,
  i: number,
  channel: { channelId: string; niche: Niche; subscriberBase: number; dayStart: number },
  usedIds: Set<string>,
): FakeVideo {
  const { channelId, niche, subscriberBase, dayStart } = channel;
  const v = new Prng(`video:${seed}:${i}`);
  let id = v.chars(ID_ALPHABET, 10) + v.chars(VIDEO_ID_LAST, 1);
  for (let salt = 1; usedIds.has(id); salt++) {
    const again = new Prng(`video:${seed}:${i}:${salt}`);
    id = again.chars(ID_ALPHABET, 10) + again.chars(VIDEO_ID_LAST, 1);
  }
  usedIds.add(id);

  const publishedAt = dayStart + v.pick(PUBLISH_HOURS) * 3_600_000 + v.int(0, 59) * 60_000 + v.int(0, 59) * 1000;
  const isShort = v.chance(0.4);
  const durationSeconds = isShort ? v.int(12, 60) : v.chance(0.1) ? v.int(1800, 3600) : v.int(180, 1500);
  const privacyRoll = v.next();
  const privacyStatus: Privacy = privacyRoll < 0.03 ? 'private' : privacyRoll < 0.06 ? 'unlisted' : 'public';
  const thing = v.pick(THINGS[niche]);
  const year = new Date(publishedAt).getUTCFullYear();
  const title = fill(v.pick(isShort ? SHORT_TITLES : LONG_TITLES), thing, v, year);
  const hit = v.chance(0.05) ? v.between(5, 20) : 1;
  const reach = privacyStatus === 'public' ? 1 : privacyStatus === 'unlisted' ? 0.03 : 0;
  const peakViews = Math.round(subscriberBase * v.between(0.004, 0.06) * (isShort ? v.between(0.5, 4) : 1) * hit * reach);
  const tagCount = v.int(0, 8);
  const tags = Array.from(new Set(Array.from({ length: tagCount }, () => v.pick(THINGS[niche])).concat(tagCount > 0 ? [niche] : [])));

  return {
    id,
    channelId,
    title,
    description: `${capitalise(thing)}: ${isShort ? 'a quick one' : 'the full story'}.\n\nNew videos every week. Subscribe for more ${niche} videos.`,
    tags,
    categoryId: CATEGORY[niche],
    durationSeconds,
    isShort,
    publishedAt,
    privacyStatus,
    seed: hashString(id),
    peakViews,
    retention: isShort ? v.between(0.45, 0.7) : v.between(0.2, 0.55),
    likeRate: v.between(0.02, 0.06),
    commentRate: v.between(0.002, 0.008),
    shareRate: v.between(0.001, 0.01),
    subscribeRate: v.between(0.001, 0.01),
  };
}

export function generateChannel(spec: ChannelSpec): FakeChannel {
  const channelId = channelIdForSeed(spec.seed);
  const rng = new Prng(`channel-profile:${spec.seed}`);
  const niche: Niche = spec.niche ?? rng.pick(['cooking', 'tech', 'fitness', 'travel'] as const);
  const title = spec.title ?? rng.pick(CHANNEL_NAMES[niche]);
  const subscriberBase = Math.round(2_000 * Math.pow(100, rng.next())); // 2k .. 200k, log-uniform
  const anchorMs = spec.anchorDay * DAY_MS;

  // Publish instants: spread over the span, newest first.
  const offsets: number[] = [];
  const timing = new Prng(`channel-timing:${spec.seed}:${spec.videoCount}:${spec.spanDays}`);
  for (let i = 0; i < spec.videoCount; i++) offsets.push(timing.int(1, spec.spanDays));
  offsets.sort((a, b) => a - b);

  const usedIds = new Set<string>();
  const videos: FakeVideo[] = [];
  for (let i = 0; i < spec.videoCount; i++) {
    videos.push(generateVideo(spec.seed, i, { channelId, niche, subscriberBase, dayStart: anchorMs - offsets[i]! * DAY_MS }, usedIds));
  }
  videos.sort((a, b) => b.publishedAt - a.publishedAt || a.id.localeCompare(b.id));

  const oldest = videos.at(-1)?.publishedAt ?? anchorMs;
  return {
    id: channelId,
    seed: spec.seed,
    title,
    description: `${title}: ${niche} videos for people who like to try things themselves.`,
    customUrl:
      '@' +
      title.toLowerCase().replace(/[^a-z0-9]+/g, '') +
      channelId
        .slice(-4)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x'),
    country: rng.pick(['US', 'GB', 'DE', 'CA', 'AU']),
    publishedAt: oldest - rng.int(30, 900) * DAY_MS,
    uploadsPlaylistId: uploadsPlaylistIdFor(channelId),
    subscriberBase,
    videos,
  };
}
