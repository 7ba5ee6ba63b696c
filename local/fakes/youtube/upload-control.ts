// Control routes of the fake YouTube's uploads (/_control/youtube/uploads, /upload-behaviour):
// what arrived (size and sha256 of the bytes, never the bytes), per session, and the faults the
// upload path should show next.
import { z } from 'zod';
import { parseJson } from '../control.ts';
import type { Router } from '../core/router.ts';
import type { YouTubeState } from './state.ts';
import { googleTimestamp } from './time.ts';
import type { UploadSession } from './upload-sessions.ts';

function view(state: YouTubeState, s: UploadSession) {
  const video = s.videoId ? state.videos.get(s.videoId) : undefined;
  const m = s.metadata;
  return {
    sessionId: s.id,
    state: s.complete ? 'complete' : s.expired ? 'expired' : 'active',
    videoId: s.videoId,
    channelId: s.channelId,
    declaredBytes: s.declaredBytes,
    contentType: s.contentType,
    total: s.total,
    committedBytes: s.committed,
    size: s.complete ? s.committed : null,
    sha256: s.sha256,
    metadata: {
      snippet: { title: m.title, description: m.description, tags: m.tags, categoryId: m.categoryId },
      status: {
        privacyStatus: m.privacyStatus,
        ...(m.publishAt !== undefined ? { publishAt: googleTimestamp(m.publishAt) } : {}),
        ...(m.selfDeclaredMadeForKids !== undefined ? { selfDeclaredMadeForKids: m.selfDeclaredMadeForKids } : {}),
      },
    },
    received: s.received,
    parts: s.parts,
    notifySubscribers: s.notifySubscribers,
    puts: s.puts,
    statusQueries: s.statusQueries,
    drops: s.drops,
    bytesReceived: s.bytesReceived,
    createdAt: new Date(s.createdAt).toISOString(),
    completedAt: s.completedAt === null ? null : new Date(s.completedAt).toISOString(),
    video: video
      ? {
          privacyStatus: video.privacyStatus,
          publishAt: video.publishAt !== undefined ? googleTimestamp(video.publishAt) : null,
          thumbnail: video.customThumbnail ?? null,
        }
      : null,
  };
}

const Behaviour = z
  .object({
    dropEveryBytes: z.number().int().min(1).nullable().optional(),
    quotaExceeded: z.number().int().min(0).optional(),
    uploadLimitExceeded: z.number().int().min(0).optional(),
    lockPrivate: z.boolean().optional(),
    expireSessions: z.literal(true).optional(),
  })
  .strict();

export function registerUploadControl(router: Router, state: YouTubeState) {
  router.get('/_control/youtube/uploads', (ctx) => {
    state.publishDueVideos();
    const sessions = [...state.uploads.sessions.values()];
    ctx.sendJson(200, {
      sessionCount: sessions.length,
      completedCount: sessions.filter((s) => s.complete).length,
      uploads: sessions.map((s) => view(state, s)),
    });
  });
  router.get('/_control/youtube/uploads/:videoId', (ctx) => {
    state.publishDueVideos();
    const session = state.uploads.byVideoId(ctx.params.videoId!);
    if (!session) return ctx.sendJson(404, { error: `no upload made video ${ctx.params.videoId}` });
    ctx.sendJson(200, view(state, session));
  });

  router.get('/_control/youtube/upload-behaviour', (ctx) => ctx.sendJson(200, state.uploads.behaviour));
  router.post('/_control/youtube/upload-behaviour', (ctx) => {
    const body = parseJson(ctx, Behaviour);
    if (!body) return;
    const { expireSessions, ...rest } = body;
    state.uploads.setBehaviour(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
    const expired = expireSessions ? state.uploads.expireAll() : 0;
    ctx.sendJson(200, { ...state.uploads.behaviour, expiredSessions: expired });
  });
}
