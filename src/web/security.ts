import helmet from 'helmet';
import type { Config } from '../config.js';

/** Strict headers: no inline script or style anywhere, no referrer, no framing. */
export function securityHeaders(config: Config) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        // the devices map's tiles come from MAP_TILE_URL's server, when it is not this app
        imgSrc: ["'self'", 'data:', ...(config.mapTileOrigin ? [config.mapTileOrigin] : [])],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        // only over https: on plain http it breaks access from another host
        upgradeInsecureRequests: config.secureCookies ? [] : null,
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: config.secureCookies ? { maxAge: 31536000 } : false,
    crossOriginEmbedderPolicy: false,
  });
}
