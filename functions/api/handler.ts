import type { Request, Response } from '@google-cloud/functions-framework';
import { handleApiRequest } from '../../shared/api/automation-api.js';
import type { ApiDeps } from '../../shared/api/router.js';

/**
 * The automation API as an HTTP function. functions-framework has parsed the body already; the router
 * validates the raw bytes itself, so every mode reads requests the same way.
 */
export async function handleApiHttp(req: Request, res: Response, deps: ApiDeps): Promise<void> {
  const r = await handleApiRequest(
    {
      method: req.method,
      url: req.originalUrl || req.url,
      headers: req.headers,
      body: req.rawBody ?? Buffer.alloc(0),
    },
    deps,
  );
  res.status(r.status).set(r.headers).send(JSON.stringify(r.body));
}
