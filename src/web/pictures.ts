import type { Response } from 'express';
import type { PictureFile } from '../services/sites/index.js';

/** A site's picture, for a site viewer or for staff. */
export function sendPicture(res: Response, picture: PictureFile) {
  // pictures are shown only to those allowed: never cached where a revoked permission would not reach
  res
    .set({ 'Cache-Control': 'private, no-store', 'Content-Disposition': 'inline' })
    .type(picture.contentType)
    .send(picture.bytes);
}
