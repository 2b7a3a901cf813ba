import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';

/**
 * A streamed CSV download: the attachment headers, then the stream, ended when the reader leaves or
 * when they have taken nothing for `sendTimeoutMs` (a send timeout like nginx's: between two writes,
 * not over the whole answer). Whatever the stream holds (an export's database connection and its
 * transaction) goes with it, so a reader who stops reading cannot keep it for as long as they like.
 */
export async function sendCsvStream(
  res: Response,
  download: { filename: string; stream: Readable },
  sendTimeoutMs: number,
): Promise<void> {
  return sendDownloadStream(res, { ...download, type: 'text/csv; charset=utf-8' }, sendTimeoutMs);
}

/** sendCsvStream for any media type (the audit log's JSON Lines). */
export async function sendDownloadStream(
  res: Response,
  download: { filename: string; stream: Readable; type: string },
  sendTimeoutMs: number,
): Promise<void> {
  res.set('Content-Disposition', `attachment; filename="${download.filename}"`).type(download.type);
  // one answer, heard on 'close' by the logger, the session, compression, the export slot, the route,
  // the send timeout and the pipeline's own stages: eleven, a fixed number (Node warns past ten)
  res.setMaxListeners(20);
  endWhenStalled(res, sendTimeoutMs);
  await pipeline(download.stream, res).catch((err: { code?: string }) => {
    if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err; // the reader left, or was cut off: nothing to answer
  });
}

/** Destroys the answer once its socket has taken no byte for `timeoutMs` (checked four times as often). */
function endWhenStalled(res: Response, timeoutMs: number): void {
  let sent = -1;
  let movedAt = Date.now();
  const timer = setInterval(
    () => {
      const now = res.socket?.bytesWritten ?? sent;
      if (now !== sent) {
        sent = now;
        movedAt = Date.now();
      } else if (Date.now() - movedAt >= timeoutMs) {
        res.req.log?.warn({ sentBytes: sent }, 'download ended: the reader took nothing within the send timeout');
        res.destroy();
      }
    },
    Math.max(10, timeoutMs / 4),
  );
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
