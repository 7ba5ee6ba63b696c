// The video metadata checks YouTube applies on videos.insert and videos.update, with its error
// reasons: title ≤ 100 characters without < >, description ≤ 5,000 bytes without < >, tags
// ≤ 500 characters counted YouTube's way, an assignable category, a privacy status, and
// publishAt only on private videos and only in the future.
import type { GoogleErrorDetail } from '../core/error-shapes.ts';
import type { Privacy } from './catalog.ts';

export interface MetadataError {
  message: string;
  detail: GoogleErrorDetail;
}

export interface VideoMetadata {
  title: string;
  description: string;
  tags: string[];
  categoryId: string;
  privacyStatus: Privacy;
  publishAt: number | undefined;
  selfDeclaredMadeForKids: boolean | undefined;
}

// Categories a video can be put in (videoCategories.list, regionCode=US, assignable=true).
export const ASSIGNABLE_CATEGORIES = ['1', '2', '10', '15', '17', '19', '20', '22', '23', '24', '25', '26', '27', '28', '29'];
const DEFAULT_CATEGORY = '22'; // People & Blogs, what YouTube picks when none is given

export const TITLE_MAX_CHARS = 100;
export const DESCRIPTION_MAX_BYTES = 5000;
export const TAGS_MAX_CHARS = 500;

function invalid(reason: string, message: string, location?: string): MetadataError {
  return { message, detail: { reason, domain: 'youtube.video', ...(location ? { location, locationType: 'other' } : {}) } };
}

/**
 * YouTube's count for snippet.tags: the tags joined by commas, a tag with a space counted with
 * the quotation marks it gets ("Foo-Baz" is 7, "Foo Baz" is 9).
 */
export function tagsLength(tags: string[]): number {
  const chars = tags.reduce((n, t) => n + [...t].length + (/\s/.test(t) ? 2 : 0), 0);
  return chars + Math.max(0, tags.length - 1);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Checked<T> = { ok: true; value: T } | { ok: false; error: MetadataError };

const INVALID_TITLE = () =>
  invalid('invalidTitle', 'The request metadata specifies an invalid or empty video title.', 'body.snippet.title');

/**
 * Validates the snippet and status a client sent. `current`: the video being updated, whose
 * privacy stays when `status.privacyStatus` is left out (everything else in a part that is sent is
 * replaced, as videos.update documents). `now` decides whether publishAt is in the future.
 */
export function checkVideoMetadata(
  body: unknown,
  parts: Set<string>,
  now: number,
  current?: { privacyStatus: Privacy; publishedEver: boolean; metadata: VideoMetadata },
): Checked<VideoMetadata> {
  const resource = isObj(body) ? body : {};
  const base: VideoMetadata = current?.metadata ?? {
    title: '',
    description: '',
    tags: [],
    categoryId: DEFAULT_CATEGORY,
    privacyStatus: 'public',
    publishAt: undefined,
    selfDeclaredMadeForKids: undefined,
  };
  const out: VideoMetadata = { ...base };

  if (parts.has('snippet')) {
    const snippet = checkSnippet(isObj(resource.snippet) ? resource.snippet : {}, current !== undefined);
    if (!snippet.ok) return snippet;
    Object.assign(out, snippet.value);
  } else if (!current) {
    return { ok: false, error: INVALID_TITLE() };
  }

  if (parts.has('status')) {
    const status = checkStatus(isObj(resource.status) ? resource.status : {}, now, current);
    if (!status.ok) return status;
    Object.assign(out, status.value);
  }
  return { ok: true, value: out };
}

/** The snippet part; an update must name its category again (videos.update replaces the part). */
function checkSnippet(snippet: Obj, updating: boolean): Checked<Pick<VideoMetadata, 'title' | 'description' | 'tags' | 'categoryId'>> {
  const title = snippet.title;
  if (typeof title !== 'string' || title.trim().length === 0 || [...title].length > TITLE_MAX_CHARS || /[<>]/.test(title)) {
    return { ok: false, error: INVALID_TITLE() };
  }
  const description = snippet.description ?? '';
  if (typeof description !== 'string' || Buffer.byteLength(description, 'utf8') > DESCRIPTION_MAX_BYTES || /[<>]/.test(description)) {
    return {
      ok: false,
      error: invalid('invalidDescription', 'The request metadata specifies an invalid video description.', 'body.snippet.description'),
    };
  }
  const tags = snippet.tags ?? [];
  if (
    !Array.isArray(tags) ||
    !tags.every((t) => typeof t === 'string' && !/[<>]/.test(t)) ||
    tagsLength(tags as string[]) > TAGS_MAX_CHARS
  ) {
    return { ok: false, error: invalid('invalidTags', 'The request metadata specifies invalid video keywords.', 'body.snippet.tags') };
  }
  const categoryId = snippet.categoryId;
  if (categoryId === undefined && updating) {
    return {
      ok: false,
      error: invalid(
        'invalidCategoryId',
        'The request metadata does not specify a valid video category: snippet.categoryId is required when updating the snippet.',
        'body.snippet.categoryId',
      ),
    };
  }
  if (categoryId !== undefined && (typeof categoryId !== 'string' || !ASSIGNABLE_CATEGORIES.includes(categoryId))) {
    return {
      ok: false,
      error: invalid(
        'invalidCategoryId',
        'The <code>snippet.categoryId</code> property specifies an invalid category ID. Use the <code>videoCategories.list</code> method to retrieve supported categories.',
        'body.snippet.categoryId',
      ),
    };
  }
  return {
    ok: true,
    value: { title, description, tags: tags as string[], categoryId: (categoryId as string | undefined) ?? DEFAULT_CATEGORY },
  };
}

/** The status part: privacy (kept from `current` when left out), publishAt, made-for-kids. */
function checkStatus(
  status: Obj,
  now: number,
  current: { privacyStatus: Privacy; publishedEver: boolean; metadata: VideoMetadata } | undefined,
): Checked<Pick<VideoMetadata, 'privacyStatus' | 'publishAt' | 'selfDeclaredMadeForKids'>> {
  const privacy = status.privacyStatus ?? current?.privacyStatus ?? 'public';
  if (privacy !== 'public' && privacy !== 'private' && privacy !== 'unlisted') {
    return {
      ok: false,
      error: invalid(
        'invalidValue',
        `Invalid value '${String(privacy)}' for status.privacyStatus: expected public, private or unlisted.`,
        'body.status.privacyStatus',
      ),
    };
  }
  let publishAt: number | undefined;
  if (status.publishAt !== undefined && status.publishAt !== null) {
    const parsed =
      typeof status.publishAt === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(status.publishAt) ? Date.parse(status.publishAt) : NaN;
    const allowed = privacy === 'private' && status.privacyStatus === 'private' && !(current?.publishedEver ?? false);
    if (Number.isNaN(parsed) || !allowed || parsed <= now) {
      return {
        ok: false,
        error: invalid('invalidPublishAt', 'The request metadata specifies an invalid scheduled publishing time.', 'body.status.publishAt'),
      };
    }
    publishAt = parsed;
  }
  const kids = status.selfDeclaredMadeForKids;
  if (kids !== undefined && typeof kids !== 'boolean') {
    return {
      ok: false,
      error: invalid('invalidValue', 'status.selfDeclaredMadeForKids must be a boolean.', 'body.status.selfDeclaredMadeForKids'),
    };
  }
  return {
    ok: true,
    value: {
      privacyStatus: privacy,
      publishAt,
      selfDeclaredMadeForKids: (kids as boolean | undefined) ?? current?.metadata.selfDeclaredMadeForKids,
    },
  };
}
